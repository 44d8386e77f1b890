"""Replaying a ledger of requests through the workflow (docs/domain.md §11): all or nothing.

Each valid ledger row (``workflow.ledger.reader``) is planned as the events a clerk would have
recorded and replayed in memory through the same intake and payload parsing, state
machine, guards, deadlines and projection as the operations (``workflow.ledger.memory_replay``),
then written in bulk (``workflow.store.bulk_writer``: ``executemany`` / ``COPY``), so an
imported year counts exactly like a typed one, at thousands of rows a second.

Who: every event is recorded by the importer (:class:`ImportSource`: the importing user,
or the system named after the command) and carries the file's name and SHA-256, so no
colleague is named for what they never did. An agency needs no user account to import.

Transactions: the whole import runs inside one SAVEPOINT. A refused row stops the writing
but not the replay, so *every* problem is reported in one pass; at the end, if anything
was refused (or on a dry run) the SAVEPOINT is rolled back, leaving the session exactly
as it was. The caller therefore cannot store half a ledger even if it commits
regardless, and nothing here commits (one transaction per user action, owned by the
caller). The SAVEPOINT also matters on SQLite: it opens the database transaction, so
nothing is committed early. The challenges ledger (``workflow.challenges.ledger``) uses
the per-row helpers below (:class:`Replay`, :func:`row_savepoint`).

A whole file (``import-ledger``, the web upload's job) goes through
:func:`import_ledger_file` instead: streamed in chunks, each chunk's rows committed into
a staging area (``workflow.ledger.staging``) and published into the real tables in one
short transaction at the end — all or nothing still, but other clerks wait for a chunk's
commit, not for the whole import, and memory does not grow with the rows.
"""

from __future__ import annotations

import multiprocessing
import pickle
import tempfile
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from multiprocessing.pool import Pool
from typing import NamedTuple

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from models import Agency, Request, User
from models.agency import subtree_ids
from models.user import UserRole
from workflow.catalog.states import State
from workflow.kernel.actor import Actor, local_today
from workflow.kernel.errors import DomainError, NotFound, PermissionDenied
from workflow.kernel.payload import ParsedAction
from workflow.ledger.memory_replay import MemoryReplay, MemRequest
from workflow.ledger.reader import (
    COLUMN_NAMES,
    COLUMN_OF_TRIGGER,
    LedgerData,
    LedgerRow,
    PlanError,
    RawRow,
    RowError,
    RowValidator,
    count_ledger_rows,
    iter_ledger_bytes,
    ledger_digest,
    plan_events,
)
from workflow.ledger.staging import StagingArea
from workflow.requests.spec import TRIGGER_LABELS
from workflow.store.bulk_writer import Encoded, Encoder, claim_write_lock, write_batch
from workflow.store.calendar import load_calendar

#: Resolves who replays an agency's rows; raises DomainError (reported on each row of
#: that agency) when nobody suitable exists.
ActorForAgency = Callable[[Session, Agency], Actor]
Progress = Callable[[int, int], None]

_REF_BATCH = 2000


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

    def count(self, outcome: _Outcome, errors: list[RowError]) -> None:
        """Add one replayed row: its state if it passed, else its problems to ``errors``."""
        errors.extend(outcome.errors)
        if outcome.state is not None:
            self.imported += 1
            self.by_state[outcome.state] += 1

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

#: Roles an imported request's events are recorded with: every step a ledger replays
#: (register … decide, extend, void). No ``handler``: the importer is not the 承办人.
REPLAY_ROLES: frozenset[str] = frozenset({"registrar", "approver"})
#: Requests per bulk write (one ``executemany`` / ``COPY`` per table).
BATCH = 2000


@dataclass(frozen=True)
class ImportSource:
    """Who imports which file: recorded on every event as ``payload["imported"]``.

    ``by`` is the importing user (``--as USER``, the admin who uploaded); without one the
    events are the system's, named after ``command`` (docs/domain.md §11). Either way
    the importer records history others made: the events are its act of recording.
    """

    command: str
    file_name: str
    sha256: str
    by: User | None = None

    @classmethod
    def of_file(
        cls, command: str, file_name: str, data: LedgerData, by: User | None = None
    ) -> ImportSource:
        return cls(command, file_name, ledger_digest(data), by)

    @property
    def recorder(self) -> str:
        return self.by.username if self.by is not None else self.command

    def provenance(self) -> dict[str, str]:
        return {"by": self.recorder, "file": self.file_name, "sha256": self.sha256}

    def actor(self, agency_id: int) -> Actor:
        user_id = self.by.id if self.by is not None else None
        return Actor(user_id, self.recorder, agency_id, REPLAY_ROLES)


def import_ledger(
    session: Session,
    rows: Sequence[LedgerRow],
    source: ImportSource,
    now: datetime,
    dry_run: bool = False,
    *,
    prior_errors: Iterable[RowError] = (),
    total_rows: int | None = None,
    progress: Progress | None = None,
    workers: int = 1,
) -> ImportReport:
    """Replay ``rows``; keep them in the session only if every row (and no prior error) passed.

    ``prior_errors`` are the problems :func:`workflow.ledger.reader.validate_rows` found (their
    rows are not in ``rows``); any of them refuses the whole import, but the valid rows
    are still replayed so the report lists every problem at once. ``total_rows`` is the
    number of data rows in the file (default: ``rows`` plus the lines of ``prior_errors``).
    ``progress(done, total)`` is called after each row.

    Rows are replayed in memory (``workflow.ledger.memory_replay``) — in ``workers`` forked
    processes when more than one (rows are independent, and the order of the results,
    hence every id and tracking number, does not depend on it) — and their encoded rows
    spooled to a temporary file. Only if every row passed are they written, in batches,
    by ``workflow.store.bulk_writer`` on the session's connection inside
    :func:`all_or_nothing`: the database's write lock (SQLite) and the tracking-counter
    row locks (PostgreSQL) are held for the write alone, not for the replay. This is the
    in-transaction form (the caller commits); a whole file is better imported with
    :func:`import_ledger_file`, streamed and staged.
    """
    errors = list(prior_errors)
    total = total_rows if total_rows is not None else len(rows) + len({e.line for e in errors})
    report = ImportReport(rows=total, dry_run=dry_run)
    gate = _AgencyGate(session, source)
    jobs = gate.jobs(rows, errors)
    replayer = _RowReplayer(
        replay=_memory_replay(session, source, now),
        encoder=None if dry_run else Encoder(session.get_bind().dialect.name, now),
        source=source,
    )
    errors.extend(gate.errors())
    skipped = len(rows) - len(jobs)
    with tempfile.TemporaryFile() as spool, replayer.pool(workers, len(jobs)) as pool:
        batches = 0
        batch: list[Encoded] = []
        for done, outcome in enumerate(replayer.run(jobs, pool), start=skipped + 1):
            report.count(outcome, errors)
            if outcome.encoded is not None and not errors:
                batch.append(outcome.encoded)
                if len(batch) >= BATCH:
                    pickle.dump(batch, spool)
                    batches += 1
                    batch.clear()
            if progress is not None:
                progress(done, len(rows))
        pickle.dump(batch, spool)
        batches += 1
        spool.seek(0)
        # Only now is the database written: other clerks wait for the write, not the replay.
        with all_or_nothing(session, errors, dry_run):
            if not errors and not dry_run:
                connection = session.connection()
                claim_write_lock(connection)
                for _ in range(batches):
                    write_batch(connection, pickle.load(spool))  # the file this call wrote
    report.errors = sorted(errors)
    return report


#: Rows read, validated, replayed and staged at a time by :func:`import_ledger_file`:
#: what it holds in memory is bounded by this, not by the size of the file.
CHUNK_ROWS = 2000


def import_ledger_file(
    engine: Engine,
    data: LedgerData,
    source: ImportSource,
    now: datetime,
    dry_run: bool = False,
    *,
    progress: Progress | None = None,
    workers: int = 1,
    chunk_rows: int = CHUNK_ROWS,
    import_id: str | None = None,
    total_rows: int | None = None,
) -> ImportReport:
    """Import a whole ledger file streamed in chunks, all or nothing, in its own transactions.

    ``data`` is the file's bytes or, better for a big file, its path: a path is read as
    it is streamed, and what this holds is bounded by a chunk, not by the file. The
    file is read twice: once to count its rows and find any problem of the file as a
    whole (:class:`workflow.ledger.reader.LedgerFileError`, raised before anything is
    done), then ``chunk_rows`` rows at a time: validated, replayed (in ``workers``
    processes), and — while no row has been refused — written to this import's staging
    area (``workflow.ledger.staging``) and committed. Other clerks wait for one chunk's
    write at most, never for the whole import. Every row is replayed even after a
    refusal, so the report lists every problem at once. At the end, if nothing was
    refused and this is no dry run, one short transaction publishes the staged rows into
    the real tables and commits; in every other case (refused, dry run, an exception, a
    cancellation raised by ``progress``) the staging area is dropped and the real tables
    were never touched. A process killed outright leaves its staging tables, which the
    next import drops.

    This function owns its transactions (a staged import cannot be the caller's one
    transaction: its chunks commit); it needs the engine, not a session. ``import_id``
    names the staging area (a job passes its id, to drop it on failure); ``total_rows``
    is :func:`workflow.ledger.reader.count_ledger_rows` when the caller has counted.
    """
    total = total_rows if total_rows is not None else count_ledger_rows(data, source.file_name)
    report = ImportReport(rows=total, dry_run=dry_run)
    errors: list[RowError] = []
    with Session(engine) as session, ExitStack() as stack:
        replayer = _RowReplayer(
            replay=_memory_replay(session, source, now),
            encoder=None if dry_run else Encoder(engine.dialect.name, now),
            source=source,
        )
        # Fork the replay processes before the staging area opens its connection.
        pool = stack.enter_context(replayer.pool(workers, total))
        staging = None if dry_run else stack.enter_context(StagingArea(engine, import_id))
        gate = _AgencyGate(session, source)
        validator = stack.enter_context(closing(RowValidator(local_today(now))))
        done = 0

        def collect(outcomes: Iterator[_Outcome]) -> None:
            """Count one chunk's replayed rows and, while none was refused, stage them."""
            nonlocal done
            batch: list[Encoded] = []
            for outcome in outcomes:
                report.count(outcome, errors)
                if outcome.encoded is not None and not errors:
                    batch.append(outcome.encoded)
                done += 1
                if progress is not None:
                    progress(done, total)
            if staging is not None and not errors:
                staging.stage(batch)

        # A pipeline: while the replay processes work on one chunk, this process validates
        # the next and stages the last, so neither side waits for the other.
        replaying: Iterator[_Outcome] | None = None
        for raws in _chunks(iter_ledger_bytes(data, source.file_name), chunk_rows):
            valid: list[LedgerRow] = []
            for raw in raws:
                row, problems = validator.check(raw)
                errors.extend(problems)
                if row is not None:
                    valid.append(row)
            jobs = gate.jobs(valid, errors)
            done += len(raws) - len(jobs)
            started = replayer.run(jobs, pool)
            if replaying is not None:
                collect(replaying)
            replaying = started
        if replaying is not None:
            collect(replaying)
        errors.extend(gate.errors())
        session.rollback()  # end the read transaction: on SQLite its snapshot is stale now
        if staging is not None and not errors:
            with engine.begin() as conn:
                staging.publish(conn)
    report.errors = sorted(errors)
    return report


def _chunks(items: Iterable[RawRow], size: int) -> Iterator[list[RawRow]]:
    chunk: list[RawRow] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _memory_replay(session: Session, source: ImportSource, now: datetime) -> MemoryReplay:
    return MemoryReplay(
        now,
        load_calendar(session),  # memoising, shared by the process (per revision)
        approvers=None,
        provenance=source.provenance(),
    )


class _Outcome(NamedTuple):
    """One row's replay: its final state and rows to write, or why it was refused."""

    state: str | None
    encoded: Encoded | None
    errors: list[RowError]


class _Job(NamedTuple):
    """A row to replay and the id of its agency (already checked: it may be imported)."""

    row: LedgerRow
    agency_id: int


#: Rows a replay process handles at a time.
_CHUNK = 500
#: The replayer the forked processes inherit (set just before the pool forks).
_FORKED: dict[str, _RowReplayer] = {}


@dataclass(kw_only=True)
class _RowReplayer:
    """Everything a row's replay needs, plain values only (so processes can share it)."""

    replay: MemoryReplay
    encoder: Encoder | None
    source: ImportSource

    @contextmanager
    def pool(self, workers: int, rows: int) -> Iterator[Pool | None]:
        """``workers`` forked replay processes for an import of ``rows`` rows (None: this
        process replays, as for a file of one replay chunk)."""
        if workers <= 1 or rows <= _CHUNK:
            yield None
            return
        _FORKED["replayer"] = self
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                yield pool
        finally:
            _FORKED.clear()

    def run(self, jobs: Sequence[_Job], pool: Pool | None) -> Iterator[_Outcome]:
        """The outcomes of ``jobs`` in order. With a pool their replay is under way when
        this returns (the caller may do other work before reading); without, it happens
        as the outcomes are read."""
        chunks = [jobs[i : i + _CHUNK] for i in range(0, len(jobs), _CHUNK)]
        if pool is None:
            return (outcome for chunk in chunks for outcome in self.chunk(chunk))
        return (outcome for found in pool.imap(_forked_chunk, chunks) for outcome in found)

    def chunk(self, jobs: Sequence[_Job]) -> list[_Outcome]:
        return [self.row(job) for job in jobs]

    def row(self, job: _Job) -> _Outcome:
        errors: list[RowError] = []
        mem = _replay_row(self.replay, job.row, job.agency_id, self.source, errors)
        if mem is None:
            return _Outcome(None, None, errors)
        encoded = self.encoder.encode(mem) if self.encoder is not None else None
        return _Outcome(mem.row.state, encoded, [])


def _forked_chunk(jobs: Sequence[_Job]) -> list[_Outcome]:
    return _FORKED["replayer"].chunk(jobs)


class _AgencyGate:
    """Which rows may be replayed: their agency exists, is active and is the importer's to
    import, and their ref is not stored yet. What concerns an agency (or the whole file)
    rather than a row is reported once (:meth:`errors`), on the agency's first line, with
    the lines it covers — however many chunks the file is read in."""

    def __init__(self, session: Session, source: ImportSource) -> None:
        self.session = session
        self.source = source
        self.agencies: dict[str, Agency | None] = {}
        self.refused: dict[str, list[int]] = {}
        self.first_line: int | None = None
        by = source.by
        self.allowed: set[int] | None = None
        if by is not None:
            self.allowed = set(subtree_ids(session, by.agency_id)) if by.active else set()

    def jobs(self, rows: Sequence[LedgerRow], errors: list[RowError]) -> list[_Job]:
        """The rows to replay; a ref already stored is refused on its row, into ``errors``."""
        for code in {r.agency for r in rows} - self.agencies.keys():
            self.agencies[code] = self.session.scalar(select(Agency).where(Agency.code == code))
        admitted: list[tuple[LedgerRow, Agency]] = []
        for row in rows:
            if self.first_line is None:
                self.first_line = row.line
            agency = self.agencies[row.agency]
            if agency is None or self._reason(row.agency, agency) is not None:
                self.refused.setdefault(row.agency, []).append(row.line)
            else:
                admitted.append((row, agency))
        existing = _existing_refs(self.session, admitted)
        jobs: list[_Job] = []
        for row, agency in admitted:
            if (agency.id, row.ref) in existing:
                reason = f"编号“{row.ref}”已导入过（本机关已有该编号的申请）"
                errors.append(RowError(row.line, "ref", reason))
            else:
                jobs.append(_Job(row, agency.id))
        return jobs

    def _reason(self, code: str, agency: Agency | None) -> str | None:
        if agency is None:
            return f"机关代码“{code}”不存在"
        if not agency.active:
            return f"机关“{code}”已停用，不能导入新的申请（docs/domain.md §16）"
        if self.allowed is not None and agency.id not in self.allowed:
            assert self.source.by is not None
            return (
                f"用户“{self.source.by.username}”无权导入机关“{code}”的台账"
                "（只能导入本机关及下级机关的）"
            )
        return None

    def errors(self) -> list[RowError]:
        by = self.source.by
        if by is not None and not by.active and self.first_line is not None:
            return [RowError(self.first_line, "—", f"用户“{by.username}”已停用，不能导入")]
        found: list[RowError] = []
        for code, lines in self.refused.items():
            reason = self._reason(code, self.agencies.get(code))
            assert reason is not None
            where = f"（{line_ranges(lines)}）" if len(lines) > 1 else ""
            found.append(RowError(lines[0], "agency", reason + where))
        return found


def line_ranges(lines: Sequence[int]) -> str:
    """“第2–7133行，共7132行” / “第5、9行”: which lines a file-wide problem covers."""
    ordered = sorted(lines)
    spans: list[tuple[int, int]] = []
    for line in ordered:
        if spans and line == spans[-1][1] + 1:
            spans[-1] = (spans[-1][0], line)
        else:
            spans.append((line, line))
    parts = [str(a) if a == b else f"{a}–{b}" for a, b in spans[:5]]
    more = "等" if len(spans) > 5 else ""
    count = f"，共{len(ordered)}行" if len(ordered) > 1 else ""
    return f"第{'、'.join(parts)}{more}行{count}"


def _replay_row(
    replay: MemoryReplay,
    row: LedgerRow,
    agency_id: int,
    source: ImportSource,
    errors: list[RowError],
) -> MemRequest | None:
    """One row replayed in memory; its refusal goes to ``errors`` and None is returned."""
    try:
        plan = plan_events(row, calendar=replay.calendar)
    except PlanError as exc:
        errors.append(RowError(row.line, exc.column, exc.reason))
        return None
    actor = source.actor(agency_id)
    trigger = "register"
    try:
        first, *rest = plan
        mem = replay.register(actor, agency_id, first.payload)
        mem.columns["external_ref"] = row.ref
        for step in rest:
            trigger = step.trigger
            if step.as_recorded:
                replay.fire(mem, trigger, actor, ParsedAction(step.effective_date, step.payload))
            else:
                raw = {"effective_date": step.effective_date.isoformat(), **step.payload}
                replay.fire(mem, trigger, actor, raw)
    except DomainError as exc:
        errors.extend(
            row_errors(
                row.line,
                exc,
                column=COLUMN_OF_TRIGGER.get(trigger, "—"),
                step=TRIGGER_LABELS.get(trigger, trigger),
            )
        )
        return None
    return replay.finish(mem)


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
    session: Session, rows: Sequence[tuple[LedgerRow, Agency]]
) -> set[tuple[int, str]]:
    """(agency id, ref) pairs already stored: a ledger is imported once, never merged.

    One query per :data:`_REF_BATCH` refs whatever their agencies (a province's chunk
    spans hundreds), by the ref's own index; the pairs are matched here.
    """
    wanted = {(agency.id, row.ref) for row, agency in rows}
    refs = sorted({ref for _, ref in wanted})
    present: set[tuple[int, str]] = set()
    for start in range(0, len(refs), _REF_BATCH):
        stmt = select(Request.agency_id, Request.external_ref).where(
            Request.external_ref.in_(refs[start : start + _REF_BATCH])
        )
        present.update((a, r) for a, r in session.execute(stmt) if (a, r) in wanted)
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
