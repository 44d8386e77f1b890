"""Synthetic province-scale data, written two ways that must give identical databases.

    .venv/bin/python bench/generate.py --requests 100000 --database-url URL [--bulk]

* **operations** (default): every plan of ``bench/plans.py`` is replayed through
  ``workflow.requests.operations`` / ``workflow.challenges.operations`` exactly as a
  clerk's actions are —
  one ``register`` or ``fire`` per action, with the deadlines, guards, late flags and the
  ``request_facts`` projection maintained by the real code. Slow (40–100 requests a
  second on a 2-core machine) but it *is* the product.
* **bulk** (``--bulk``): the same plans are replayed in memory through the same pure
  domain functions the operations call (intake parsing, payload parsing, the state
  machine with its guards, the deadline clocks, ``facts_from_events``) and the rows are
  written with ``executemany`` (SQLite) or ``COPY`` (PostgreSQL), in parallel worker
  processes. ``tests/integration/test_bench_generator.py`` proves both paths produce the
  same requests, events, projection rows, challenges and statistics.

The schema is created (migrated) if needed; generation appends to whatever is there.
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # run as ``python bench/NAME.py``: import from the repository root
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import json
import multiprocessing
import time as clock
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from bench.plans import (
    BENCH_PASSWORD,
    ROLE_USERS,
    ROOT,
    VIEWER,
    Act,
    Plan,
    Seed,
    plan_for,
    province,
    resolve_payload,
    skeleton,
    username,
)
from models import (
    Agency,
    Challenge,
    ChallengeEvent,
    Event,
    Request,
    RequestFacts,
    TrackingCounter,
    User,
)
from models.db import make_engine, make_session_factory
from models.migrate import upgrade
from workflow.catalog.challenges import (
    RECONSIDERATION,
    RESULT_BY_CODE,
)
from workflow.catalog.states import State
from workflow.challenges import operations as challenge_ops
from workflow.challenges.order_effect import waits_for_appeal_period
from workflow.challenges.spec import CHALLENGES, ChallengeState
from workflow.kernel.actor import LOCAL_ZONE, Actor, local_today, naive_utc
from workflow.kernel.calendar import WorkdayResult, WorkingCalendar
from workflow.kernel.errors import ValidationError
from workflow.kernel.lifecycle import Transition
from workflow.kernel.payload import ParsedAction, parse_action
from workflow.requests import machine
from workflow.requests import operations as ops
from workflow.requests.deadlines import compute_deadlines, lateness
from workflow.requests.intake import parse_intake
from workflow.requests.spec import SPEC_BY_TRIGGER

FIRST_YEAR = 2021
#: Requests per unit of work handed to a bulk worker (and per COPY batch).
CHUNK = 2000

# --------------------------------------------------------------------------- the province


@dataclass(frozen=True)
class Province:
    """The agencies and bench accounts, as plain values a worker process can receive."""

    agency_ids: dict[str, int]
    #: (agency code, ROLE_USERS key) → actor.
    actors: dict[tuple[str, str], Actor]

    def actor(self, agency: str, user: str) -> Actor:
        return self.actors[(agency, user)]


def ensure_province(session: Session) -> Province:
    """Create the province's agencies and bench accounts if missing (idempotent)."""
    specs = province()
    agencies = {a.code: a for a in session.scalars(select(Agency))}
    for spec in specs:
        if spec.code not in agencies:
            parent = agencies[spec.parent] if spec.parent else None
            agencies[spec.code] = Agency(code=spec.code, name=spec.name, parent=parent)
            session.add(agencies[spec.code])
    session.flush()
    users = {u.username: u for u in session.scalars(select(User))}
    hashed: str | None = None
    wanted = [
        (username(s.code, key), s.code, roles) for s in specs for key, roles in ROLE_USERS.items()
    ]
    wanted.append((VIEWER, ROOT, ("viewer",)))
    for name, code, roles in wanted:
        if name in users:
            continue
        user = User(username=name, display_name=name, agency=agencies[code])
        if hashed is None:  # scrypt is slow on purpose: hash the shared password once
            user.set_password(BENCH_PASSWORD)
            hashed = user.password_hash
        user.password_hash = hashed
        user.set_roles(set(roles))
        session.add(user)
        users[name] = user
    session.flush()
    actors = {
        (s.code, key): Actor.of(users[username(s.code, key)]) for s in specs for key in ROLE_USERS
    }
    return Province({s.code: agencies[s.code].id for s in specs}, actors)


def seeds_for(n: int, seed: int, today: date, first_year: int = FIRST_YEAR) -> list[Seed]:
    return skeleton(n, seed, first_year, today, province())


# --------------------------------------------------------------------------- path (a)


def replay_operations(session: Session, prov: Province, plan: Plan, now: datetime) -> Request:
    """One plan through the real write path: ``register``, then one operation per act."""
    agency = session.get(Agency, prov.agency_ids[plan.agency])
    assert agency is not None
    actor = prov.actor(plan.agency, plan.registrar)
    request = ops.register(session, actor, now, plan.intake, agency=agency)
    cases: list[Challenge] = []
    for act in plan.acts:
        raw = {"effective_date": act.on.isoformat(), **resolve_payload(act.payload, plan.agency)}
        who = prov.actor(plan.agency, act.user)
        if act.target == "request":
            ops.fire(session, request, act.trigger, who, now, raw)
        elif act.trigger == "file":
            cases.append(challenge_ops.file_challenge(session, who, now, request, raw))
        else:
            challenge_ops.fire_challenge(session, cases[act.case], act.trigger, who, now, raw)
    return request


def generate_operations(
    engine: Engine,
    plans: Iterable[Plan],
    now: datetime,
    *,
    commit_every: int = 200,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Replay ``plans`` through ``workflow.requests.operations``, committing in batches."""
    done = 0
    with make_session_factory(engine)() as session:
        prov = ensure_province(session)
        session.commit()
        for plan in plans:
            replay_operations(session, prov, plan, now)
            done += 1
            if done % commit_every == 0:
                session.commit()
                session.expunge_all()
                if progress:
                    progress(done)
        session.commit()
    return done


# --------------------------------------------------------------------------- path (b)


@dataclass
class _Row:
    """What the state machine needs of a request or a case: a state and a start date."""

    state: str
    received_on: date | None = None
    filed_on: date | None = None


@dataclass(frozen=True)
class MemEvent:
    """An event row before it has an id (also what deadlines and guards read)."""

    seq: int
    trigger: str
    from_state: str | None
    to_state: str
    effective_date: date
    actor_id: int | None
    payload: dict[str, Any]


@dataclass
class MemCase:
    row: _Row
    kind: str
    route: str | None
    body: str
    case_no: str
    instance: str
    prior: int | None
    events: list[MemEvent] = field(default_factory=list)
    version: int = 1


@dataclass
class MemRequest:
    """One replayed request: its columns, events, projection row and cases (no ids yet)."""

    agency_id: int
    year: int
    columns: dict[str, Any]
    events: list[MemEvent]
    facts: dict[str, Any]
    cases: list[MemCase]


class MemoryReplay:
    """``operations.register`` / ``fire`` and ``challenge_ops`` without a database.

    Each method mirrors its counterpart step for step (same parsing, same guards through
    the one state machine, same deadline and lateness computation, same payloads); the
    equivalence test keeps the mirror honest.
    """

    def __init__(self, prov: Province, now: datetime, calendar: WorkingCalendar) -> None:
        self.prov = prov
        self.now = now
        self.today = local_today(now)
        self.calendar = calendar
        self.approvers = {
            (prov.agency_ids[code], actor.username)
            for (code, _key), actor in prov.actors.items()
            if "approver" in actor.roles
        }

    def replay(self, plan: Plan) -> MemRequest:
        actor = self.prov.actor(plan.agency, plan.registrar)
        agency_id = self.prov.agency_ids[plan.agency]
        intake = parse_intake(plan.intake, self.today)
        values = dict(intake.values)
        values.pop("submitted_on", None)
        values.pop("received_on", None)
        submitted_at = (
            naive_utc(self.now)
            if intake.submitted_on == self.today
            else datetime.combine(intake.submitted_on, time(0), LOCAL_ZONE).astimezone(UTC)
        )
        columns = {
            **REQUEST_DEFAULTS,
            **values,
            "submitted_at": naive_utc(submitted_at),
            "received_on": intake.received_on,
            "handler_id": actor.user_id if "handler" in actor.roles else None,
        }
        row = _Row(State.NEW.value, received_on=intake.received_on)
        events: list[MemEvent] = []
        action = ParsedAction(
            intake.received_on, {**intake.values, "receipt_rule": intake.receipt_note}
        )
        self._apply(row, "register", actor, action, events, agency_id)
        cases: list[MemCase] = []
        for act in plan.acts:
            raw = {
                "effective_date": act.on.isoformat(),
                **resolve_payload(act.payload, plan.agency),
            }
            who = self.prov.actor(plan.agency, act.user)
            if act.target == "request":
                self._fire(row, act.trigger, who, raw, events, agency_id)
            elif act.trigger == "file":
                cases.append(self._file(row, events, who, raw, cases))
            else:
                self._fire_case(row, events, cases[act.case], act, who, raw, agency_id)
        columns["state"] = row.state
        columns["last_seq"] = len(events)
        columns["version"] = len(events)
        return MemRequest(
            agency_id,
            intake.received_on.year,
            columns,
            events,
            ops.projection_values(intake.received_on, events, self.calendar),
            cases,
        )

    # -- requests (operations.fire / _apply)

    def _fire(
        self,
        row: _Row,
        trigger: str,
        actor: Actor,
        raw: dict[str, Any],
        events: list[MemEvent],
        agency_id: int,
    ) -> None:
        action = parse_action(SPEC_BY_TRIGGER[trigger], raw)
        approver = action.payload.get("approver")
        if approver is not None and (agency_id, approver) not in self.approvers:
            raise ValidationError("批准人须为本机关的审核人", {"approver": approver})
        self._apply(row, trigger, actor, action, events, agency_id)

    def _apply(
        self,
        row: _Row,
        trigger: str,
        actor: Actor,
        action: ParsedAction,
        events: list[MemEvent],
        agency_id: int,
    ) -> None:
        assert actor.agency_id == agency_id
        assert row.received_on is not None
        deadlines = (
            compute_deadlines(row.received_on, events, self.calendar, self.today)
            if events
            else None
        )
        payload = dict(action.payload)
        late = lateness(trigger, action.effective_date, deadlines) if deadlines else None
        if late:
            payload["late"] = late

        def sink(transition: Transition) -> MemEvent:
            return MemEvent(
                len(events) + 1,
                transition.trigger,
                transition.from_state,
                transition.to_state,
                action.effective_date,
                actor.user_id,
                payload,
            )

        event = machine.fire(
            row,
            trigger,
            sink=sink,
            roles=actor.roles,
            today=self.today,
            effective_date=action.effective_date,
            payload=payload,
            history=events,
            deadlines=deadlines,
        )
        events.append(event)

    # -- challenges (challenge_ops.file_challenge / fire_challenge)

    def _file(
        self,
        request: _Row,
        request_events: list[MemEvent],
        actor: Actor,
        raw: dict[str, Any],
        cases: list[MemCase],
    ) -> MemCase:
        action = parse_action(CHALLENGES.by_trigger["file"], raw)
        payload = dict(action.payload)
        prior_no = (payload.get("prior_case_no") or "").strip()
        prior = next(
            (
                i
                for i, c in enumerate(cases)
                if prior_no
                and c.kind == RECONSIDERATION
                and c.case_no == prior_no
                and c.row.state != ChallengeState.VOIDED.value
            ),
            None,
        )
        facts = {
            "request_state": request.state,
            "request_received_on": request.received_on,
            "prior_status": None
            if prior is None
            else ("concluded" if cases[prior].row.state == "concluded" else "open"),
        }
        warning = challenge_ops.refusal_warning(request_events, payload)
        if warning:
            payload["warning"] = warning
        case = MemCase(
            _Row(ChallengeState.NEW.value, filed_on=action.effective_date),
            kind=payload["kind"],
            route=payload.get("route"),
            body=payload["body"],
            case_no=payload["case_no"],
            instance=payload.get("instance")
            or ("reconsideration" if payload["kind"] == RECONSIDERATION else "first"),
            prior=prior,
        )
        self._apply_case(case, "file", actor, ParsedAction(action.effective_date, payload), facts)
        return case

    def _fire_case(
        self,
        request: _Row,
        request_events: list[MemEvent],
        case: MemCase,
        act: Act,
        actor: Actor,
        raw: dict[str, Any],
        agency_id: int,
    ) -> None:
        action = parse_action(CHALLENGES.by_trigger[act.trigger], raw)
        self._apply_case(case, act.trigger, actor, action, {"kind": case.kind})
        case.version += 1
        if act.trigger == "appeal":
            case.instance = action.payload["instance"]
            case.body = action.payload["body"]
            case.case_no = action.payload["case_no"]
            case.version += 1  # the ORM flushes these column changes as one more UPDATE
        if act.trigger == "conclude":
            result = RESULT_BY_CODE[action.payload["result"]]
            waits = waits_for_appeal_period(case.kind, case.instance)  # as challenge_ops
            if result.orders_new_reply and request.state == "concluded" and not waits:
                order = f"{case.body}{case.case_no}：{result.label}"
                reopen = {"effective_date": action.effective_date.isoformat(), "order": order[:200]}
                self._fire(request, "reopen", actor, reopen, request_events, agency_id)

    def _apply_case(
        self,
        case: MemCase,
        trigger: str,
        actor: Actor,
        action: ParsedAction,
        facts: dict[str, Any],
    ) -> None:
        def sink(transition: Transition) -> MemEvent:
            return MemEvent(
                len(case.events) + 1,
                transition.trigger,
                transition.from_state,
                transition.to_state,
                action.effective_date,
                actor.user_id,
                dict(action.payload),
            )

        event = CHALLENGES.fire(
            case.row,
            trigger,
            sink=sink,
            roles=actor.roles,
            today=self.today,
            effective_date=action.effective_date,
            payload=action.payload,
            history=case.events,
            facts=facts,
        )
        case.events.append(event)


#: Column defaults the ORM fills in for a new request (``models.request.Request``).
REQUEST_DEFAULTS: dict[str, Any] = {
    "external_ref": None,
    "id_type": "",
    "id_number": "",
    "phone": "",
    "email": "",
    "address": "",
    "doc_numbers": "",
    "form_wanted": "",
    "delivery_wanted": "",
}
REQUEST_COLUMNS: tuple[str, ...] = tuple(c.name for c in Request.__table__.columns)
EVENT_COLUMNS: tuple[str, ...] = tuple(c.name for c in Event.__table__.columns)
FACT_COLUMNS: tuple[str, ...] = tuple(c.name for c in RequestFacts.__table__.columns)
CHALLENGE_COLUMNS: tuple[str, ...] = tuple(c.name for c in Challenge.__table__.columns)
CASE_EVENT_COLUMNS: tuple[str, ...] = tuple(c.name for c in ChallengeEvent.__table__.columns)


class MemoCalendar(WorkingCalendar):
    """The same working-day answers, memoised: a calendar never changes once built
    (``WorkingCalendar`` copies its overrides), and replaying millions of events asks
    the same few thousand questions over and over."""

    def __init__(self) -> None:
        super().__init__()
        self._add: dict[tuple[date, int], WorkdayResult] = {}
        self._between: dict[tuple[date, date], int] = {}

    def add_working_days(self, start: date, n: int) -> WorkdayResult:
        key = (start, n)
        found = self._add.get(key)
        if found is None:
            found = self._add[key] = super().add_working_days(start, n)
        return found

    def working_days_between(self, start: date, end: date) -> int:
        key = (start, end)
        found = self._between.get(key)
        if found is None:
            found = self._between[key] = super().working_days_between(start, end)
        return found


# -- worker processes: plans are rebuilt from their seeds, replayed in memory and encoded
#    as database values; the writer only fills in the keys.


@dataclass(frozen=True)
class Encoded:
    """A replayed request as rows in column order, keys left as ``None`` for the writer."""

    agency_id: int
    year: int
    request: tuple[Any, ...]
    events: list[tuple[Any, ...]]
    facts: tuple[Any, ...]
    #: (challenge row, index of its prior case in this request's cases, its event rows)
    cases: list[tuple[tuple[Any, ...], int | None, list[tuple[Any, ...]]]]


class Encoder:
    """Database values for one dialect: SQLite gets what SQLAlchemy would store there."""

    def __init__(self, dialect: str, now: datetime) -> None:
        self.value: Callable[[Any], Any] = _sqlite_value if dialect == "sqlite" else _same
        self.recorded_at = self.value(naive_utc(now))
        self.created_at = self.value(naive_utc(datetime.now(UTC)))

    def encode(self, mem: MemRequest) -> Encoded:
        v = self.value
        values = {
            **mem.columns,
            "id": None,
            "agency_id": mem.agency_id,
            "tracking_no": None,
            "year": mem.year,
            "serial": None,
            "created_at": self.created_at,
        }
        facts = {
            "request_id": None,
            "agency_id": mem.agency_id,
            "applicant_kind": mem.columns["applicant_kind"],
            **mem.facts,
        }
        cases = []
        for case in mem.cases:
            row = {
                "id": None,
                "agency_id": mem.agency_id,
                "request_id": None,
                "kind": case.kind,
                "route": case.route,
                "body": case.body,
                "case_no": case.case_no,
                "instance": case.instance,
                "filed_on": case.row.filed_on,
                "prior_id": None,
                "state": case.row.state,
                "last_seq": len(case.events),
                "version": case.version,
                "created_at": self.created_at,
            }
            events = [self._event(e, "challenge_id", CASE_EVENT_COLUMNS) for e in case.events]
            cases.append((tuple(v(row[c]) for c in CHALLENGE_COLUMNS), case.prior, events))
        return Encoded(
            mem.agency_id,
            mem.year,
            tuple(v(values[c]) for c in REQUEST_COLUMNS),
            [self._event(e, "request_id", EVENT_COLUMNS) for e in mem.events],
            tuple(v(facts[c]) for c in FACT_COLUMNS),
            cases,
        )

    def _event(self, e: MemEvent, owner: str, columns: Sequence[str]) -> tuple[Any, ...]:
        values = {
            "id": None,
            owner: None,
            "seq": e.seq,
            "trigger": e.trigger,
            "from_state": e.from_state,
            "to_state": e.to_state,
            "effective_date": self.value(e.effective_date),
            "recorded_at": self.recorded_at,
            "payload": json.dumps(e.payload),
            "actor_id": e.actor_id,
        }
        return tuple(values[c] for c in columns)


def _same(value: Any) -> Any:
    return value


def _sqlite_value(value: Any) -> Any:
    """A value as SQLAlchemy stores it in SQLite (ISO dates, microsecond timestamps)."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


_WORKER: dict[str, Any] = {}


def _init_worker(prov: Province, now: datetime, dialect: str) -> None:
    calendar = MemoCalendar()
    _WORKER["replay"] = MemoryReplay(prov, now, calendar)
    _WORKER["encoder"] = Encoder(dialect, now)
    _WORKER["calendar"] = calendar


def _replay_chunk(seeds: Sequence[Seed]) -> list[Encoded]:
    replay: MemoryReplay = _WORKER["replay"]
    encoder: Encoder = _WORKER["encoder"]
    calendar: WorkingCalendar = _WORKER["calendar"]
    return [encoder.encode(replay.replay(plan_for(s, calendar, replay.today))) for s in seeds]


def _index(columns: Sequence[str], *names: str) -> tuple[int, ...]:
    return tuple(columns.index(n) for n in names)


_REQ_KEYS = _index(REQUEST_COLUMNS, "id", "tracking_no", "serial")
_EVENT_KEYS = _index(EVENT_COLUMNS, "id", "request_id")
_FACT_KEYS = _index(FACT_COLUMNS, "request_id")
_CASE_KEYS = _index(CHALLENGE_COLUMNS, "id", "request_id", "prior_id")
_CASE_EVENT_KEYS = _index(CASE_EVENT_COLUMNS, "id", "challenge_id")


def _with(row: tuple[Any, ...], keys: tuple[int, ...], *values: Any) -> tuple[Any, ...]:
    out = list(row)
    for index, value in zip(keys, values, strict=True):
        out[index] = value
    return tuple(out)


@dataclass
class _Ids:
    """Next primary keys and tracking serials, read from the database once."""

    request: int
    event: int
    challenge: int
    case_event: int
    serials: dict[tuple[int, int], int]


def _next_ids(session: Session) -> _Ids:
    def after(column: Any) -> int:
        return int(session.scalar(select(func.coalesce(func.max(column), 0))) or 0) + 1

    serials = {(c.agency_id, c.year): c.last for c in session.scalars(select(TrackingCounter))}
    return _Ids(
        after(Request.id), after(Event.id), after(Challenge.id), after(ChallengeEvent.id), serials
    )


class BulkWriter:
    """Assigns ids and tracking numbers in plan order and writes rows in batches."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        with make_session_factory(engine)() as session:
            self.ids = _next_ids(session)
        self.touched: set[tuple[int, int]] = set()
        self.rows = 0

    def rows_for(self, replayed: Sequence[Encoded]) -> dict[str, list[tuple[Any, ...]]]:
        out: dict[str, list[tuple[Any, ...]]] = {table: [] for table in _COLUMNS}
        requests, events, facts = out["requests"], out["events"], out["request_facts"]
        ids = self.ids
        for enc in replayed:
            rid = ids.request
            ids.request += 1
            key = (enc.agency_id, enc.year)
            serial = ids.serials.get(key, 0) + 1
            ids.serials[key] = serial
            self.touched.add(key)
            tracking = ops.tracking_number(enc.year, serial)
            requests.append(_with(enc.request, _REQ_KEYS, rid, tracking, serial))
            for row in enc.events:
                events.append(_with(row, _EVENT_KEYS, ids.event, rid))
                ids.event += 1
            facts.append(_with(enc.facts, _FACT_KEYS, rid))
            first_case = ids.challenge
            for row, prior, case_events in enc.cases:
                cid = ids.challenge
                ids.challenge += 1
                prior_id = None if prior is None else first_case + prior
                out["challenges"].append(_with(row, _CASE_KEYS, cid, rid, prior_id))
                for event in case_events:
                    out["challenge_events"].append(
                        _with(event, _CASE_EVENT_KEYS, ids.case_event, cid)
                    )
                    ids.case_event += 1
        return out

    def write(self, replayed: Sequence[Encoded]) -> None:
        tables = self.rows_for(replayed)
        with self.engine.begin() as conn:
            raw = conn.connection.driver_connection
            for table, rows in tables.items():
                if not rows:
                    continue
                columns = _COLUMNS[table]
                if self.engine.dialect.name == "postgresql":
                    _copy(raw, table, columns, rows)
                else:
                    marks = ", ".join("?" * len(columns))
                    raw.executemany(  # type: ignore[union-attr]
                        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
                    )
                self.rows += len(rows)

    def finish(self) -> None:
        """Tracking counters up to the serials handed out; PostgreSQL sequences past the ids."""
        with make_session_factory(self.engine)() as session:
            for agency_id, year in sorted(self.touched):
                last = self.ids.serials[(agency_id, year)]
                counter = session.get(TrackingCounter, (agency_id, year))
                if counter is None:
                    session.add(TrackingCounter(agency_id=agency_id, year=year, last=last))
                else:
                    counter.last = last
            if self.engine.dialect.name == "postgresql":
                for table in ("requests", "events", "challenges", "challenge_events"):
                    session.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"coalesce((SELECT max(id) FROM {table}), 1))"
                        )
                    )
            session.commit()


_COLUMNS: dict[str, tuple[str, ...]] = {
    "requests": REQUEST_COLUMNS,
    "events": EVENT_COLUMNS,
    "request_facts": FACT_COLUMNS,
    "challenges": CHALLENGE_COLUMNS,
    "challenge_events": CASE_EVENT_COLUMNS,
}


def _copy(raw: Any, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def generate_bulk(
    engine: Engine,
    seeds: Sequence[Seed],
    now: datetime,
    *,
    workers: int = 2,
    plans: Sequence[Plan] | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Replay ``seeds`` (or explicit ``plans``) in memory and bulk-insert the rows.

    ``workers`` > 1 replays chunks in that many processes (the order of the output, hence
    every id and tracking number, does not depend on it).
    """
    with make_session_factory(engine)() as session:
        prov = ensure_province(session)
        session.commit()
    writer = BulkWriter(engine)
    done = 0
    dialect = engine.dialect.name
    for replayed in _replayed(prov, now, dialect, seeds, plans, workers):
        writer.write(replayed)
        done += len(replayed)
        if progress:
            progress(done)
    writer.finish()
    return done


def _replayed(
    prov: Province,
    now: datetime,
    dialect: str,
    seeds: Sequence[Seed],
    plans: Sequence[Plan] | None,
    workers: int,
) -> Iterator[list[Encoded]]:
    if plans is not None:
        replay = MemoryReplay(prov, now, MemoCalendar())
        encoder = Encoder(dialect, now)
        for start in range(0, len(plans), CHUNK):
            yield [encoder.encode(replay.replay(p)) for p in plans[start : start + CHUNK]]
        return
    chunks = [seeds[i : i + CHUNK] for i in range(0, len(seeds), CHUNK)]
    if workers <= 1:
        _init_worker(prov, now, dialect)
        for chunk in chunks:
            yield _replay_chunk(chunk)
        return
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=_init_worker, initargs=(prov, now, dialect)) as pool:
        yield from pool.imap(_replay_chunk, chunks)


# --------------------------------------------------------------------------- CLI


def prepare(url: str) -> Engine:
    """An engine on ``url`` with the schema migrated to the latest revision."""
    engine = make_engine(url)
    upgrade(engine)
    return engine


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--bulk", action="store_true", help="in-memory replay + COPY/executemany")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--first-year", type=int, default=FIRST_YEAR)
    parser.add_argument("--now", help="ISO timestamp (UTC) used as 'now' (default: the clock)")
    parser.add_argument("--workers", type=int, default=2, help="bulk replay processes")
    args = parser.parse_args(argv)
    now = datetime.fromisoformat(args.now).replace(tzinfo=UTC) if args.now else datetime.now(UTC)
    engine = prepare(args.database_url)
    seeds = seeds_for(args.requests, args.seed, local_today(now), args.first_year)
    started = clock.perf_counter()

    def progress(done: int) -> None:
        rate = done / max(clock.perf_counter() - started, 1e-9)
        print(f"\r{done}/{args.requests} requests ({rate:,.0f}/s)", end="", file=sys.stderr)

    if args.bulk:
        generate_bulk(engine, seeds, now, workers=args.workers, progress=progress)
    else:
        calendar = WorkingCalendar()
        today = local_today(now)
        plans = (plan_for(s, calendar, today) for s in seeds)
        generate_operations(engine, plans, now, progress=progress)
    elapsed = clock.perf_counter() - started
    print(file=sys.stderr)
    print(
        json.dumps(
            {
                "requests": args.requests,
                "path": "bulk" if args.bulk else "operations",
                "dialect": engine.dialect.name,
                "seconds": round(elapsed, 2),
                "requests_per_second": round(args.requests / elapsed, 1),
            }
        )
    )
    engine.dispose()


if __name__ == "__main__":
    main()
