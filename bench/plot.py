"""Draw ``bench/results/scaling.png``: statistics time against the number of requests.

    .venv/bin/python bench/plot.py   (needs matplotlib: .venv/bin/pip install matplotlib)

Reads every ``bench/results/stats*.json`` and plots, on log-log axes, the median time of
the fold and of the fast path for the whole province, per database; a straight line of
slope 1 is linear growth.
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # run as ``python bench/NAME.py``: import from the repository root
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import json
from collections import defaultdict

from bench.common import RESULTS


def points() -> dict[str, dict[int, float]]:
    found: dict[str, dict[int, float]] = defaultdict(dict)
    for path in sorted(RESULTS.glob("stats*.json")):
        if "quick" in path.name:
            continue
        for r in json.loads(path.read_text())["results"]:
            n, province = r["requests"], r["province"]
            found[f"{r['dialect']} fast path"][n] = province["fast"]["median_s"]
            found[f"{r['dialect']} fast path + derive (page)"][n] = province["derive_fast"][
                "median_s"
            ]
            if r["dialect"] == "sqlite":
                with_index = r["province_with_candidates"]["fast"]["median_s"]
                found["sqlite fast path + covering index"][n] = with_index
            if "fold" in province:
                found[f"{r['dialect']} fold"][n] = province["fold"]["median_s"]
    return found


def main() -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SystemExit("matplotlib is not installed: .venv/bin/pip install matplotlib") from None
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=80)
    styles = {"sqlite": "-", "postgresql": "--"}
    for name, series in sorted(points().items()):
        xs = sorted(series)
        ax.plot(
            xs,
            [series[x] for x in xs],
            styles[name.split()[0]],
            marker="o",
            label=name,
        )
    ax.axhline(1.0, color="grey", linewidth=0.8, linestyle=":")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("requests in the database (whole province)")
    ax.set_ylabel("seconds (median)")
    ax.set_title("Table 3 of one year, whole province: fold vs fast path")
    ax.legend(fontsize=7)
    ax.grid(True, which="both", linewidth=0.3)
    fig.tight_layout()
    out = RESULTS / "scaling.png"
    fig.savefig(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
