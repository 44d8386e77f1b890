"""Writing and reading the security log (``models.SecurityLogEntry``).

Every operation that changes an account, a role, an agency or the calendar records its
entry in the caller's transaction (the change and its record commit together or not at
all). Events that happen whether or not anything is saved (a failed login, a refusal,
a look at personal data) are written by the web layer in a transaction of their own.

Who may read: the security auditor (安全审计员) and the system administrator, each within
their own agency and those below it, except that an administrator never sees the
entries about their own account (三权分立: they cannot review their own changes).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, selectinload

from models import SecurityLogEntry, User
from workflow.catalog.security import SECURITY_KIND_BY_CODE

#: Who may read the security log.
READER_ROLES = frozenset({"security_auditor", "admin"})
#: Longest text kept in one detail value (a refused path, a user agent …).
MAX_DETAIL_TEXT = 500


def _bounded(value: Any) -> Any:
    if isinstance(value, str):
        return value[:MAX_DETAIL_TEXT]
    if isinstance(value, Mapping):
        return {str(k)[:64]: _bounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value) if isinstance(value, set | frozenset) else list(value)
        return [_bounded(v) for v in items[:1000]]
    return value


def record(
    session: Session,
    kind: str,
    *,
    actor: User | None = None,
    subject: User | None = None,
    agency_id: int | None = None,
    detail: Mapping[str, Any] | None = None,
) -> SecurityLogEntry:
    """Add one entry about ``subject`` done by ``actor`` (the caller commits)."""
    owner = subject or actor
    return record_ids(
        session,
        kind,
        actor_id=actor.id if actor is not None else None,
        username=actor.username if actor is not None else "",
        subject_id=subject.id if subject is not None else None,
        agency_id=agency_id if agency_id is not None else owner.agency_id if owner else None,
        detail=detail,
    )


def record_ids(
    session: Session,
    kind: str,
    *,
    actor_id: int | None,
    username: str,
    subject_id: int | None = None,
    agency_id: int | None = None,
    address: str = "",
    detail: Mapping[str, Any] | None = None,
) -> SecurityLogEntry:
    """:func:`record` by ids, for a session other than the one the users came from.

    ``username`` is the actor's, or the name typed at a failed login; it is cut to 64
    characters like the address, and detail texts to ``MAX_DETAIL_TEXT``.
    """
    if kind not in SECURITY_KIND_BY_CODE:
        raise ValueError(f"unknown security log kind {kind!r}")
    entry = SecurityLogEntry(
        kind=kind,
        actor_id=actor_id,
        username=username[:64],
        subject_id=subject_id,
        agency_id=agency_id,
        address=address[:64],
        detail=_bounded(dict(detail or {})),
    )
    session.add(entry)
    session.flush()
    return entry


def can_read(user: User) -> bool:
    return bool(user.roles & READER_ROLES)


@dataclass(frozen=True)
class LogFilter:
    kind: str = ""
    username: str = ""
    since: datetime | None = None


def _visible(reader: User, agency_ids: Collection[int], wanted: LogFilter) -> Select[Any]:
    stmt = select(SecurityLogEntry).where(
        or_(SecurityLogEntry.agency_id.in_(agency_ids), SecurityLogEntry.agency_id.is_(None))
        if "security_auditor" in reader.roles and reader.agency.parent_id is None
        else SecurityLogEntry.agency_id.in_(agency_ids)
    )
    if "security_auditor" not in reader.roles:
        # An admin reads the log, but nothing about their own account: not the changes
        # made to it, not its logins (三权分立: the auditor reviews the administrator).
        stmt = stmt.where(
            or_(SecurityLogEntry.subject_id.is_(None), SecurityLogEntry.subject_id != reader.id)
        )
    if wanted.kind:
        stmt = stmt.where(SecurityLogEntry.kind == wanted.kind)
    if wanted.username:
        stmt = stmt.where(func.lower(SecurityLogEntry.username) == wanted.username.lower())
    if wanted.since is not None:
        stmt = stmt.where(SecurityLogEntry.at >= wanted.since)
    return stmt


def entries(
    session: Session,
    reader: User,
    agency_ids: Collection[int],
    wanted: LogFilter,
    limit: int,
    offset: int = 0,
) -> tuple[list[SecurityLogEntry], int]:
    """A page of the entries ``reader`` may see, newest first, and how many there are."""
    stmt = _visible(reader, agency_ids, wanted)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.options(selectinload(SecurityLogEntry.actor), selectinload(SecurityLogEntry.subject))
        .order_by(SecurityLogEntry.at.desc(), SecurityLogEntry.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows), total
