"""Replaying a ledger of requests through the workflow (docs/domain.md §11): all or nothing.

Each valid ledger row (``workflow.ledger.reader``) is registered and its planned events are
fired through ``workflow.requests.operations`` — the same checks, guards, event log and
statistics projection as in the UI, so an imported year counts exactly like a typed one.

Transactions: the whole import runs inside one SAVEPOINT and each row inside its own
nested SAVEPOINT. A refused row rolls back only itself, so the remaining rows are still
tried and *every* problem is reported in one pass; at the end, if anything was refused
(or on a dry run) the outer SAVEPOINT is rolled back, leaving the session exactly as it
was. The caller therefore cannot store half a ledger even if it commits regardless, and
nothing here commits (one transaction per user action, owned by the caller).
The outer SAVEPOINT also matters on SQLite: without it the first row's SAVEPOINT would
open the database transaction and releasing it would commit that row early.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Agency, Request, User
from models.user import UserRole
from workflow.catalog.states import State
from workflow.kernel.actor import Actor
from workflow.kernel.calendar import WorkingCalendar
from workflow.kernel.errors import DomainError, NotFound, PermissionDenied
from workflow.ledger.reader import (
    COLUMN_NAMES,
    COLUMN_OF_TRIGGER,
    LedgerRow,
    PlanError,
    PlannedEvent,
    RowError,
    plan_events,
)
from workflow.requests import operations as ops
from workflow.requests.spec import TRIGGER_LABELS
from workflow.store.calendar import load_calendar

#: Resolves who replays an agency's rows; raises DomainError (reported on each row of
#: that agency) when nobody suitable exists.
ActorForAgency = Callable[[Session, Agency], Actor]
Progress = Callable[[int, int], None]

_REF_BATCH = 500


@dataclass
class ImportReport:
    """What an import did (or, on a dry run or refusal, would have done)."""

    rows: int
    dry_run: bool
    imported: int = 0
    #: Final state of each imported row → count (``in_review``, ``concluded`` …).
    by_state: Counter[str] = field(default_factory=Counter)
    errors: list[RowError] = field(default_factory=list)
    #: The lifecycle whose states ``by_state`` counts (requests, or challenges' importer).
    states: type[StrEnum] = State

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def stored(self) -> bool:
        """Whether the rows stay in the session for the caller to commit."""
        return self.ok and not self.dry_run

    @property
    def refused_lines(self) -> list[int]:
        return sorted({e.line for e in self.errors})

    def state_summary(self) -> str:
        """“已办结 3，办理中 1” in the order of the lifecycle."""
        parts = [
            f"{s.label} {self.by_state[s.value]}"  # type: ignore[attr-defined]
            for s in self.states
            if self.by_state[s.value]
        ]
        return "，".join(parts)


# --------------------------------------------------------------------------- actors


def first_with_role(session: Session, agency: Agency, role: str) -> User | None:
    """The agency's longest-standing active user with ``role`` (a stable default actor)."""
    return session.scalar(
        select(User)
        .join(UserRole)
        .where(User.agency_id == agency.id, User.active.is_(True), UserRole.role == role)
        .order_by(User.id)
        .limit(1)
    )


def default_actor(session: Session, agency: Agency) -> Actor:
    """An active approver of the agency (may do every step, including void), else a handler.

    An approver is preferred because extensions must name one and only approvers (or
    admins) may void. With only a handler, rows needing those steps are refused one by
    one with the reason, while the others still import.
    """
    user = first_with_role(session, agency, "approver") or first_with_role(
        session, agency, "handler"
    )
    if user is None:
        raise PermissionDenied(
            f"机关“{agency.code}”没有审核人或承办人账号，无法导入（延期、作废记录需要审核人）"
        )
    return Actor.of(user)


def actor_named(username: str) -> ActorForAgency:
    """Replay as ``username`` (``--as``): the user must be active and of the row's agency."""

    def resolve(session: Session, agency: Agency) -> Actor:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            raise NotFound(f"用户“{username}”不存在")
        if not user.active:
            raise PermissionDenied(f"用户“{username}”已停用")
        if user.agency_id != agency.id:
            raise PermissionDenied(f"用户“{username}”不属于机关“{agency.code}”，不能为其导入")
        return Actor.of(user)

    return resolve


# --------------------------------------------------------------------------- import


def import_ledger(
    session: Session,
    rows: Sequence[LedgerRow],
    actor_for_agency: ActorForAgency,
    now: datetime,
    dry_run: bool = False,
    *,
    prior_errors: Iterable[RowError] = (),
    total_rows: int | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Replay ``rows``; keep them in the session only if every row (and no prior error) passed.

    ``prior_errors`` are the problems :func:`workflow.ledger.reader.validate_rows` found (their
    rows are not in ``rows``); any of them refuses the whole import, but the valid rows
    are still replayed so the report lists every problem at once. ``total_rows`` is the
    number of data rows in the file (default: ``rows`` plus the lines of ``prior_errors``).
    ``progress(done, total)`` is called after each row.
    """
    errors = list(prior_errors)
    total = total_rows if total_rows is not None else len(rows) + len({e.line for e in errors})
    report = ImportReport(rows=total, dry_run=dry_run)
    agencies = agencies_by_code(session, {r.agency for r in rows})
    replay = _Replay(
        session=session,
        actor_for_agency=actor_for_agency,
        now=now,
        agencies=agencies,
        existing=_existing_refs(session, rows, agencies),
        calendar=load_calendar(session),
        errors=errors,
    )
    with all_or_nothing(session, errors, dry_run):
        for done, row in enumerate(rows, start=1):
            state = replay.row(row)
            if state is not None:
                report.imported += 1
                report.by_state[state] += 1
            if progress is not None:
                progress(done, len(rows))
    report.errors = sorted(errors)
    return report


@contextmanager
def all_or_nothing(session: Session, errors: Sequence[RowError], dry_run: bool) -> Iterator[None]:
    """Run a whole import in one SAVEPOINT, kept only if ``errors`` is empty at the end.

    ``errors`` is read when the block finishes, so rows may append to it as they go;
    a dry run is always rolled back. See the module docstring for why a SAVEPOINT.
    """
    outer = session.begin_nested()
    try:
        yield
        if errors or dry_run:
            outer.rollback()
        else:
            outer.commit()
    except BaseException:
        if outer.is_active:
            outer.rollback()
        raise


@contextmanager
def row_savepoint(session: Session) -> Iterator[None]:
    """One row's SAVEPOINT: released on success, rolled back on any exception (re-raised).

    A refused row then leaves nothing behind, and the next row starts clean.
    """
    savepoint = session.begin_nested()
    try:
        yield
        savepoint.commit()
    except BaseException:
        if savepoint.is_active:
            savepoint.rollback()
        raise


def agencies_by_code(session: Session, codes: set[str]) -> dict[str, Agency]:
    if not codes:
        return {}
    found = session.scalars(select(Agency).where(Agency.code.in_(sorted(codes))))
    return {a.code: a for a in found}


def _existing_refs(
    session: Session, rows: Sequence[LedgerRow], agencies: dict[str, Agency]
) -> set[tuple[str, str]]:
    """(agency code, ref) pairs already stored: a ledger is imported once, never merged."""
    wanted: dict[str, set[str]] = {}
    for row in rows:
        if row.agency in agencies:
            wanted.setdefault(row.agency, set()).add(row.ref)
    present: set[tuple[str, str]] = set()
    for code, refs in wanted.items():
        ordered = sorted(refs)
        for start in range(0, len(ordered), _REF_BATCH):
            batch = ordered[start : start + _REF_BATCH]
            stmt = select(Request.external_ref).where(
                Request.agency_id == agencies[code].id, Request.external_ref.in_(batch)
            )
            present.update((code, ref) for ref in session.scalars(stmt) if ref is not None)
    return present


@dataclass(kw_only=True)
class Replay:
    """What every row of one import shares (any ledger): who acts is looked up once an agency.

    An agency without a suitable actor is remembered as its refusal, which is then
    reported on each of its rows.
    """

    session: Session
    actor_for_agency: ActorForAgency
    now: datetime
    agencies: Mapping[str, Agency]
    errors: list[RowError]
    actors: dict[str, Actor | DomainError] = field(default_factory=dict)

    def refuse(self, line: int, column: str, reason: str) -> None:
        self.errors.append(RowError(line, column, reason))

    def actor(self, agency: Agency) -> Actor | DomainError:
        if agency.code not in self.actors:
            try:
                self.actors[agency.code] = self.actor_for_agency(self.session, agency)
            except DomainError as exc:
                self.actors[agency.code] = exc
        return self.actors[agency.code]


@dataclass(kw_only=True)
class _Replay(Replay):
    """The request ledger's replay; approvers are looked up once too."""

    existing: set[tuple[str, str]]
    calendar: WorkingCalendar
    approvers: dict[str, str] = field(default_factory=dict)

    def approver(self, agency: Agency, actor: Actor) -> str:
        if agency.code not in self.approvers:
            self.approvers[agency.code] = _approver_name(self.session, agency, actor)
        return self.approvers[agency.code]

    def row(self, row: LedgerRow) -> str | None:
        """Replay one row in its own SAVEPOINT; return its final state, or None if refused."""
        agency = self.agencies.get(row.agency)
        if agency is None:
            self.refuse(row.line, "agency", f"机关代码“{row.agency}”不存在")
            return None
        if (row.agency, row.ref) in self.existing:
            self.refuse(row.line, "ref", f"编号“{row.ref}”已导入过（本机关已有该编号的申请）")
            return None
        actor = self.actor(agency)
        if isinstance(actor, DomainError):
            self.refuse(row.line, "agency", str(actor))
            return None
        try:
            plan = plan_events(row, approver=self.approver(agency, actor), calendar=self.calendar)
        except PlanError as exc:
            self.refuse(row.line, exc.column, exc.reason)
            return None
        return self._fire(row, agency, actor, plan)

    def _fire(
        self, row: LedgerRow, agency: Agency, actor: Actor, plan: list[PlannedEvent]
    ) -> str | None:
        trigger = "register"
        try:
            with row_savepoint(self.session):
                first, *rest = plan
                request = ops.register(
                    self.session,
                    actor,
                    self.now,
                    first.payload,
                    agency=agency,
                    external_ref=row.ref,
                )
                for step in rest:
                    trigger = step.trigger
                    raw = {"effective_date": step.effective_date.isoformat(), **step.payload}
                    ops.fire(self.session, request, step.trigger, actor, self.now, raw)
        except DomainError as exc:
            self.errors.extend(
                row_errors(
                    row.line,
                    exc,
                    column=COLUMN_OF_TRIGGER.get(trigger, "—"),
                    step=TRIGGER_LABELS.get(trigger, trigger),
                )
            )
            return None
        return request.state


def _approver_name(session: Session, agency: Agency, actor: Actor) -> str:
    """Who is recorded as approving imported extensions: the actor if an approver."""
    if "approver" in actor.roles:
        return actor.username
    user = first_with_role(session, agency, "approver")
    return user.username if user else ""


def row_errors(
    line: int,
    exc: DomainError,
    *,
    column: str,
    step: str,
    columns: Collection[str] = COLUMN_NAMES,
) -> list[RowError]:
    """A refusal of the replayed ``step`` as ledger errors.

    Field errors land on their own column when the ledger has one of that name (payload
    fields and ledger columns share names on purpose), everything else on ``column``,
    the column the step was planned from.
    """
    field_errors: dict[str, str] = getattr(exc, "field_errors", {}) or {}
    if field_errors:
        return [
            RowError(line, name if name in columns else column, f"{step}：{message}")
            for name, message in field_errors.items()
        ]
    return [RowError(line, column, f"{step}：{exc}")]
