"""The annual statistics: what a request counts as, the tables' layouts and their counts.

``facts``, ``fold`` and ``layouts`` are pure (the reference rules); ``queries``,
``challenges`` and ``scope`` read the database (the fast path and its verification).
"""
