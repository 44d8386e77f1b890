"""Shared persistence every feature uses: the stored calendar, serial numbers, the event log."""
