"""Printable documents: the annual report as PDF and XLSX (no Flask, no templates).

Every renderer here reads the report layouts (``workflow.statistics.layouts``) through the
merged-cell grids of ``documents.grid``, so the HTML preview, the PDF and the spreadsheet
draw the same table from the same (layout, counts) pair and cannot disagree.
"""
