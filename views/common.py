"""What every view shares: who is signed in, now, ids from the URL, and running one operation.

Every write in a view has the same shape (parse, call ONE domain operation, commit once),
so the commit and the mapping of the domain's refusals live here, once, in
:func:`perform`. How a refusal is then shown (on a form, as a flashed message, as JSON)
is the caller's presentation; what counts as a refusal and its status is decided here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from flask import flash
from flask_login import current_user
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError

from models import User
from views.database import db
from workflow.kernel.actor import local_clock
from workflow.kernel.errors import (
    ConflictError,
    DomainError,
    GuardError,
    LineErrors,
    NotFound,
    PermissionDenied,
    ValidationError,
)

T = TypeVar("T")

#: Said when the commit itself loses a race and the operation named nothing better.
DEFAULT_CONFLICT = "保存时与他人的操作冲突，您的操作没有保存。请刷新页面后重新操作。"
#: Said when the database stayed busy (a long import holding a lock) past the wait.
BUSY = "系统正忙（可能正在导入台账），您的操作没有保存。请稍后重新提交。"


def is_busy(err: OperationalError) -> bool:
    """A lock wait that ran out: SQLite's busy timeout, PostgreSQL's ``lock_timeout``."""
    code = getattr(err.orig, "sqlstate", None)
    return code == "55P03" or "database is locked" in str(err.orig).lower()


def signed_in_user() -> User:
    """The signed-in user as the ORM row (not the proxy), for typed helpers."""
    user: User = current_user._get_current_object()  # type: ignore[attr-defined]
    return user


def utc_now() -> datetime:
    return datetime.now(UTC)


def positive_int(text: str | None, default: int | None = None) -> int | None:
    """A small positive int from a query string, else ``default`` (never an exception).

    ASCII digits only: ``"²".isdigit()`` is true but ``int("²")`` fails.
    """
    text = (text or "").strip()
    if text.isascii() and text.isdigit() and 0 < len(text) < 7 and int(text) > 0:
        return int(text)
    return default


def local_time(value: datetime | None) -> str:
    """A stored (naive UTC) time as Beijing time, the way staff read clocks."""
    return local_clock(value)


@dataclass(frozen=True)
class Refused:
    """A refusal the user can act on; nothing was saved.

    ``status`` is 400 for bad input or a rule that refuses, 409 for a lost race.
    ``field_errors`` maps form fields to one message; ``lines`` to several (one per bad
    line of a pasted list).
    """

    status: int
    messages: tuple[str, ...]
    field_errors: Mapping[str, str] = field(default_factory=dict)
    lines: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def __str__(self) -> str:
        return "；".join(self.messages)


def perform(operation: Callable[[], T], *, conflict: str = DEFAULT_CONFLICT) -> T | Refused:
    """Run one domain operation and commit once; a refusal is rolled back and returned.

    ``conflict`` is the message when the commit loses a race (a stale version, a
    duplicate key inserted in parallel). Permission and not-found refusals are not the
    user's input problems: they are rolled back and propagate to the error page (403 /
    404, or the API's JSON). Anything else is a bug and reaches the 500 page.
    """
    session = db()
    try:
        result = operation()
        session.commit()
    except (StaleDataError, IntegrityError):
        session.rollback()
        return Refused(409, (conflict,))
    except OperationalError as err:
        session.rollback()
        if is_busy(err):
            return Refused(409, (BUSY,))
        raise
    except ConflictError as err:
        session.rollback()
        return Refused(409, (str(err),))
    except LineErrors as err:
        session.rollback()
        return Refused(400, (str(err),), err.field_errors, err.messages)
    except ValidationError as err:
        session.rollback()
        return Refused(400, (str(err),), err.field_errors)
    except GuardError as err:
        session.rollback()
        return Refused(400, tuple(err.reasons), err.field_errors)
    except (PermissionDenied, NotFound):
        session.rollback()
        raise
    except DomainError as err:  # any other rule that refuses (e.g. "year not over yet")
        session.rollback()
        return Refused(err.status, (str(err),))
    except BaseException:
        session.rollback()
        raise
    return result


def perform_and_flash(
    operation: Callable[[], str], *, conflict: str = DEFAULT_CONFLICT, refused: str = ""
) -> bool:
    """:func:`perform` for a button on a page: its success sentence or its refusal is flashed.

    ``operation`` returns the sentence that says what was done; ``refused`` opens the
    refusal's message (e.g. "nothing was recorded: "). Returns whether it was done.
    """
    result = perform(operation, conflict=conflict)
    if isinstance(result, Refused):
        flash(refused + str(result), "error")
        return False
    flash(result, "success")
    return True
