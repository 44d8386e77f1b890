"""Benchmarks and the synthetic-data generator (issue 8: fast at the scale of a province).

Nothing here is imported by the application. Scripts run as ``.venv/bin/python
bench/NAME.py`` from the repository root; ``bench/RESULTS.md`` explains the method and
records the figures.
"""
