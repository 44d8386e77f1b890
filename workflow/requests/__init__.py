"""Requests (依申请公开): intake, the lifecycle table, the legal clocks, finding requests.

``spec`` is the transition table; ``intake``, ``deadlines`` and ``diagram`` are pure;
``operations``, ``clocks``, ``query`` and ``similar`` read or write the database.
"""
