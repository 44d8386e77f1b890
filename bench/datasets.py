"""Make sure the benchmark data sets exist (bulk path, seed 8); prints their URLs.

.venv/bin/python bench/datasets.py --sizes 10k,100k --dialects sqlite,postgresql
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # run as ``python bench/NAME.py``: import from the repository root
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse

from bench.common import dialects, ensure_dataset, label, postgres, sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10k,100k")
    parser.add_argument("--dialects", default="sqlite,postgresql")
    args = parser.parse_args()
    with postgres() as pg:
        for dialect in dialects(args.dialects, pg):
            for n in sizes(args.sizes):
                print(dialect, label(n), ensure_dataset(dialect, n, pg))


if __name__ == "__main__":
    main()
