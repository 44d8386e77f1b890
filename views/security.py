"""Writing the security log from the web layer, in a transaction of its own.

A failed login, a refused page or a look at an applicant's data is a fact whether or
not the page then saves anything, so these entries are committed at once on a session
of their own: a rollback of the page's work cannot take them with it, and they never
leave the page's session dirty. Changes to accounts are recorded by the operations
themselves (``workflow.admin.security_log``), in the change's own transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask import current_app, request
from flask_login import current_user

from models import User
from views.rate_limits import client_address
from workflow.admin import security_log


def log(
    kind: str,
    *,
    actor: User | None = None,
    username: str = "",
    subject: User | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Commit one entry now; ``actor`` defaults to the signed-in user."""
    if actor is None and current_user.is_authenticated:
        actor = current_user._get_current_object()  # type: ignore[attr-defined]
    session = current_app.extensions["db_sessions"]()
    try:
        security_log.record_ids(
            session,
            kind,
            actor_id=actor.id if actor is not None else None,
            username=username or (actor.username if actor is not None else ""),
            subject_id=subject.id if subject is not None else None,
            agency_id=(subject or actor).agency_id if (subject or actor) is not None else None,
            address=client_address(),
            detail=detail,
        )
        session.commit()
    finally:
        session.close()


def personal_data(kind: str, request_ids: Iterable[int], what: str) -> None:
    """Record who looked at (``personal_data_viewed``) or exported which requests'
    applicant data (个人信息保护法): the ids, the page, the query string."""
    ids = sorted(set(request_ids))
    if not ids:
        return
    log(kind, detail={"requests": ids, "what": what, "query": request.query_string.decode()})
