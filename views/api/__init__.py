"""The JSON API v1 (docs/domain-api.md §11): one blueprint, a module per resource.

Importing the route modules registers their routes on ``bp``.
"""

from views.api import notices, openapi, requests, statistics, transfers
from views.api.blueprint import bp

__all__ = ["bp", "notices", "openapi", "requests", "statistics", "transfers"]
