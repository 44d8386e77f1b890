"""The ledger (台账): reading and checking a file (pure ``reader``), replaying it (``importer``)."""
