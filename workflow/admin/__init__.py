"""Administration: agencies, accounts, the calendar entry, and checking the logs."""
