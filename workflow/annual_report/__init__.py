"""The annual report (年度报告): entered table 二, narrative, publishing and its archive.

``narrative`` and ``table2_values`` are pure; ``report``, ``publishing`` and ``archive``
read and write the database.
"""
