"""The documents the agency issues and the fees it may charge.

``fees`` is pure; ``operations`` numbers, stores and serves notices in the database.
"""
