"""The JSON API v1 (docs/domain.md §11.5): one blueprint, a module per resource.

Importing the route modules registers their routes on ``bp``.
"""

from views.api import attachments, notices, office, openapi, requests, statistics, transfers
from views.api.blueprint import CSRF_EXEMPT, bp

__all__ = [
    "CSRF_EXEMPT",
    "attachments",
    "bp",
    "notices",
    "office",
    "openapi",
    "requests",
    "statistics",
    "transfers",
]
