"""Who acts and when: the actor of every operation and the agency-local day.

Operations receive the actor and ``now`` as arguments (never a global request or clock),
so the same code runs from a page, the API, the CLI, a job and the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

LOCAL_ZONE = ZoneInfo("Asia/Shanghai")


class Account(Protocol):
    """What an actor is taken from: a user row (``models.User``), seen without the ORM."""

    id: int
    username: str
    agency_id: int

    @property
    def roles(self) -> frozenset[str]: ...


@dataclass(frozen=True)
class Actor:
    """Who acts: taken from the logged-in user, the CLI or the importer."""

    user_id: int | None
    username: str
    agency_id: int
    roles: frozenset[str]

    @classmethod
    def of(cls, user: Account) -> Actor:
        return cls(user.id, user.username, user.agency_id, user.roles)


def local_today(now: datetime) -> date:
    """Effective dates are agency-local (Beijing time) calendar days."""
    aware = now if now.tzinfo else now.replace(tzinfo=UTC)
    return aware.astimezone(LOCAL_ZONE).date()


def local_clock(value: datetime | None) -> str:
    """A stored (naive UTC) time as Beijing time, "YYYY-MM-DD HH:MM": how every page and
    document shows a time (issue 15 item 10; one rule, here)."""
    if value is None:
        return ""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(LOCAL_ZONE).strftime("%Y-%m-%d %H:%M")


def naive_utc(now: datetime) -> datetime:
    return (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(UTC).replace(tzinfo=None)
