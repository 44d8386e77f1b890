"""Small server-side SVG charts (no JavaScript, no CDN): bars by month, shares by outcome.

The SVG is built from numbers and labels escaped here, so it is safe to mark as Markup.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

PALETTE = ("#1f5fa8", "#2e8b57", "#c0392b", "#8e44ad", "#d68910", "#5d6d7e", "#17a589")


def month_bars(counts: Sequence[int], title: str) -> Markup:
    """Twelve vertical bars labelled 1–12 月 with their values."""
    return bars([f"{i + 1}月" for i in range(len(counts))], counts, title)


def bars(labels: Sequence[str], counts: Sequence[int], title: str) -> Markup:
    """One vertical bar per label, each with its value above it."""
    return grouped_bars(labels, [("", counts)], title)


def grouped_bars(
    labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]], title: str
) -> Markup:
    """Side-by-side bars per label, one colour per series (a legend when there are
    several), each with its value above it."""
    height, pad, bar, gap = 180, 24, 30, 10
    n = max(len(series), 1)
    group = bar * n + gap
    width = max(520, pad * 2 + group * len(labels))
    legend = 20 if len(series) > 1 else 0
    peak = max([1, *(v for _, values in series for v in values)])
    parts = [
        f'<svg role="img" aria-label="{escape(title)}" viewBox="0 0 {width} '
        f'{height + 50 + legend}" class="chart" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for s, (_name, values) in enumerate(series):
        color = PALETTE[s % len(PALETTE)]
        for i, value in enumerate(values):
            h = round(height * value / peak)
            x = pad + i * group + s * bar
            y = height - h + 24
            parts.append(f'<rect x="{x}" y="{y}" width="{bar}" height="{h}" fill="{color}"/>')
            parts.append(
                f'<text x="{x + bar / 2}" y="{y - 3}" text-anchor="middle" '
                f'font-size="11">{value}</text>'
            )
    for i, label in enumerate(labels):
        x = pad + i * group + bar * n / 2
        parts.append(
            f'<text x="{x}" y="{height + 40}" text-anchor="middle" '
            f'font-size="11">{escape(label)}</text>'
        )
    if legend:
        for s, (name, _) in enumerate(series):
            x = pad + s * 90
            y = height + 50 + legend - 6
            color = PALETTE[s % len(PALETTE)]
            parts.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{color}"/>')
            parts.append(f'<text x="{x + 16}" y="{y}" font-size="12">{escape(name)}</text>')
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
