"""Reconsideration and litigation (复议 / 诉讼): their lifecycle, remedies and use cases.

``spec`` and ``remedies`` are pure; ``operations`` reads and writes the database.
"""
