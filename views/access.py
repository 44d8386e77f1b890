"""Who may see and who may change which request.

A user sees the requests of their own agency and of every agency below it (a superior
agency supervises its departments), but changes only their own agency's requests: the
legal responsibility for a reply lies with the agency that received the request.
Hiding another branch's requests as 404 (rather than 403) avoids confirming that a
request number exists at all.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask_login import current_user

from models import Request, User
from models.agency import subtree_ids
from views.database import db
from workflow.catalog.roles import ROLE_BY_CODE
from workflow.kernel.errors import NotFound, PermissionDenied

#: Largest primary key a URL may name (32-bit): beyond it the database errors, not 404s.
MAX_ID = 2**31 - 1

P = ParamSpec("P")
R = TypeVar("R")


def visible_agency_ids(user: User) -> set[int]:
    """The agencies whose requests ``user`` may read: their own and every descendant."""
    return set(subtree_ids(db(), user.agency_id))


def load_request_for(user: User, request_id: int, *, write: bool) -> Request:
    """The request if ``user`` may see it (404 otherwise); writing needs the same agency."""
    if not 0 < request_id <= MAX_ID:
        raise NotFound("申请不存在，或您无权查看")
    request = db().get(Request, request_id)
    if request is None or request.agency_id not in visible_agency_ids(user):
        raise NotFound("申请不存在，或您无权查看")
    if write and request.agency_id != user.agency_id:
        raise PermissionDenied("只能办理本机关的申请，上级机关只能查阅")
    return request


def require_roles(*roles: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Refuse (403) users holding none of ``roles``; use under ``login_required``.

    The message names the roles, so a clerk knows whom to ask rather than just "no".
    """
    allowed = frozenset(roles)
    names = "、".join(ROLE_BY_CODE[r].label for r in sorted(allowed))

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            if not (current_user.is_authenticated and current_user.roles & allowed):
                raise PermissionDenied(f"只有{names}可以进行此操作")
            return view(*args, **kwargs)

        return wrapped

    return decorator
