"""The database session of the HTTP request being served: one per request, closed at teardown.

Views take it from here (not from ``app``) so that nothing under ``views/`` imports the
application factory that imports the views.
"""

from __future__ import annotations

from flask import current_app, g
from sqlalchemy.orm import Session


def db() -> Session:
    """The request's session, opened on first use."""
    if "db" not in g:
        g.db = current_app.extensions["db_sessions"]()
    return g.db
