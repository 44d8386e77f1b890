"""Small server-side SVG charts (no JavaScript, no CDN): bars by month, shares by outcome.

The SVG is built from numbers and labels escaped here, so it is safe to mark as Markup.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

PALETTE = ("#1f5fa8", "#2e8b57", "#c0392b", "#8e44ad", "#d68910", "#5d6d7e", "#17a589")


def month_bars(counts: Sequence[int], title: str) -> Markup:
    """Twelve vertical bars labelled 1–12 月 with their values."""
    width, height, pad, bar = 520, 180, 24, 30
    peak = max([*counts, 1])
    parts = [
        f'<svg role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height + 50}" '
        'class="chart" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i, value in enumerate(counts):
        h = round(height * value / peak)
        x = pad + i * (bar + 10)
        y = height - h + 24
        parts.append(f'<rect x="{x}" y="{y}" width="{bar}" height="{h}" fill="{PALETTE[0]}"/>')
        parts.append(
            f'<text x="{x + bar / 2}" y="{y - 3}" text-anchor="middle" '
            f'font-size="11">{value}</text>'
        )
        parts.append(
            f'<text x="{x + bar / 2}" y="{height + 40}" text-anchor="middle" '
            f'font-size="11">{i + 1}月</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def share_bar(parts: Sequence[tuple[str, int]], title: str) -> Markup:
    """One horizontal bar split by share, with a legend giving counts and percentages."""
    total = sum(n for _, n in parts) or 1
    width = 520
    shown = [(label, n) for label, n in parts if n]
    svg = [
        f'<svg role="img" aria-label="{escape(title)}" viewBox="0 0 {width} '
        f'{40 + 20 * len(shown)}" class="chart" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    x = 0.0
    for i, (_label, n) in enumerate(shown):
        w = width * n / total
        color = PALETTE[i % len(PALETTE)]
        svg.append(f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="24" fill="{color}"/>')
        x += w
    for i, (label, n) in enumerate(shown):
        y = 44 + 20 * i
        color = PALETTE[i % len(PALETTE)]
        svg.append(f'<rect x="0" y="{y - 11}" width="12" height="12" fill="{color}"/>')
        svg.append(
            f'<text x="18" y="{y}" font-size="12">{escape(label)}：{n} 件'
            f"（{100 * n / total:.1f}%）</text>"
        )
    svg.append("</svg>")
    return Markup("".join(svg))
