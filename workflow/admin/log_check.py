"""Checking that the event logs are whole and agree with the caches beside them.

The event log is the truth (docs/architecture.md), so it must be checkable by someone who
does not trust the code that wrote it: after a restore, a hand-edited database, a bug
or a disk fault. ``verify_log`` re-reads every request and every challenge with its
events and reports, per record:

- sequence numbers that are not exactly 1..n (gaps, duplicates);
- a broken chain: an event whose ``from_state`` is not the previous event's
  ``to_state`` (the first event starts from nothing);
- a trigger, source or destination that its lifecycle's spec table does not allow;
- effective dates before the receipt / filing date, after the day the event was
  recorded, or earlier than the previous event's (the machine's date guards, re-checked);
- a cached ``state`` that is not the last ``to_state``, or ``last_seq`` that is not n.

Every rule comes from the same spec tables the machine runs (``Lifecycle``), so the
check cannot drift from what the application enforces. It only reads; it never repairs
(a wrong log needs a person, not a script). Records are read in batches so a large
database is checked in bounded memory.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import groupby
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from models import Agency, Challenge, ChallengeEvent, Event, Request
from workflow.challenges.spec import CHALLENGES
from workflow.kernel.actor import local_today
from workflow.kernel.lifecycle import Lifecycle
from workflow.requests.machine import REQUESTS
from workflow.requests.office import OFFICE_TRIGGERS, corrected

#: Records read per batch (with all their events).
BATCH = 2000


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one record's log; ``str()`` is the line ``verify-log`` prints."""

    #: ``sequence``, ``chain``, ``transition``, ``date``, ``state``, ``last_seq`` or ``empty``.
    kind: str
    #: The record in words, e.g. ``申请 2026-0001（机关 test-agency，id 12）``.
    subject: str
    detail: str

    def __str__(self) -> str:
        return f"{self.subject}：{self.detail}"


@dataclass(frozen=True)
class _Entry:
    """The columns of one event the checks read (a plain row, not an ORM object)."""

    seq: int
    trigger: str
    from_state: str | None
    to_state: str
    effective_date: date
    recorded_at: datetime
    id: int = 0
    payload: Any = None


@dataclass(frozen=True)
class _Record:
    id: int
    subject: str
    state: str
    last_seq: int
    start: date


@dataclass(frozen=True)
class _Log:
    """One kind of logged record: its table, its event table and its lifecycle."""

    noun: str
    record: Any
    events: Any
    owner: InstrumentedAttribute[int]
    lifecycle: Lifecycle
    #: The column people know the record by (tracking number, case number).
    name: InstrumentedAttribute[str]
    #: Entries of the office that are not steps (workflow.requests.office): they keep the
    #: state and are dated the day they were recorded; corrections apply before the date check.
    office: frozenset[str] = frozenset()


LOGS: tuple[_Log, ...] = (
    _Log("申请", Request, Event, Event.request_id, REQUESTS, Request.tracking_no, OFFICE_TRIGGERS),
    _Log(
        "复议诉讼案件",
        Challenge,
        ChallengeEvent,
        ChallengeEvent.challenge_id,
        CHALLENGES,
        Challenge.case_no,
    ),
)


def verify_log(session: Session) -> list[Problem]:
    """Every problem found in the request and challenge logs (empty when all is well)."""
    problems: list[Problem] = []
    for log in LOGS:
        for record, events in _records(session, log):
            problems.extend(check_record(record, events, log.lifecycle, log.office))
    return problems


def _records(session: Session, log: _Log) -> Iterator[tuple[_Record, list[_Entry]]]:
    rec = log.record
    start = getattr(rec, log.lifecycle.start_attribute)
    last_id = 0
    while True:
        # Plain columns, not ORM objects: the caller's session is left as it was.
        rows = session.execute(
            select(rec.id, log.name, Agency.code, rec.state, rec.last_seq, start)
            .join(Agency, Agency.id == rec.agency_id)
            .where(rec.id > last_id)
            .order_by(rec.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        last_id = rows[-1][0]
        ev = log.events
        found = session.execute(
            select(
                log.owner,
                ev.seq,
                ev.trigger,
                ev.from_state,
                ev.to_state,
                ev.effective_date,
                ev.recorded_at,
                ev.id,
                ev.payload,
            )
            .where(log.owner.in_([row[0] for row in rows]))
            .order_by(log.owner, ev.seq, ev.id)
        )
        by_owner = {
            owner: [_Entry(*values) for _owner, *values in group]
            for owner, group in groupby(found, key=lambda r: r[0])
        }
        for record_id, name, agency_code, state, last_seq, start_date in rows:
            record = _Record(
                id=record_id,
                subject=f"{log.noun} {name}（机关 {agency_code}，id {record_id}）",
                state=state,
                last_seq=last_seq,
                start=start_date,
            )
            yield record, by_owner.get(record_id, [])


def check_record(
    record: _Record,
    events: Sequence[_Entry],
    lifecycle: Lifecycle,
    office: frozenset[str] = frozenset(),
) -> list[Problem]:
    """The problems of one record, its events in sequence order."""
    steps = [e for e in corrected(events) if e.trigger not in office] if office else events
    details = [
        *_sequence(record, events, lifecycle),
        *_chain(record, events, lifecycle),
        *_transitions(record, steps, lifecycle),
        *_office(events, office),
        *_dates(record, steps, lifecycle),
        *_caches(record, events, lifecycle),
    ]
    if not events:
        details = [("empty", "没有任何事件记录")]
    return [Problem(kind, record.subject, detail) for kind, detail in details]


Findings = Iterator[tuple[str, str]]


def _name(event: _Entry, lifecycle: Lifecycle) -> str:
    spec = lifecycle.by_trigger.get(event.trigger)
    label = f"{spec.label}（{event.trigger}）" if spec else event.trigger
    return f"第{event.seq}条事件 {label}"


def _sequence(_record: _Record, events: Sequence[_Entry], _lc: Lifecycle) -> Findings:
    seqs = [e.seq for e in events]
    if not seqs:
        return
    duplicates = sorted(s for s, n in Counter(seqs).items() if n > 1)
    if duplicates:
        yield "sequence", "事件序号重复：" + "、".join(map(str, duplicates))
    invalid = sorted(s for s in set(seqs) if s < 1)
    if invalid:
        yield "sequence", "事件序号无效：" + "、".join(map(str, invalid))
    missing = sorted(set(range(1, max(seqs) + 1)) - set(seqs))
    if missing:
        yield "sequence", "事件序号缺失：" + "、".join(map(str, missing))


def _chain(_record: _Record, events: Sequence[_Entry], lifecycle: Lifecycle) -> Findings:
    previous: str | None = None
    for event in events:
        if event.from_state != previous:
            expected = previous or "（无，第一条事件）"
            yield (
                "chain",
                f"{_name(event, lifecycle)}的原状态为 {event.from_state or '（无）'}，"
                f"应为前一条事件的新状态 {expected}",
            )
        previous = event.to_state


def _transitions(_record: _Record, events: Sequence[_Entry], lifecycle: Lifecycle) -> Findings:
    for event in events:
        spec = lifecycle.by_trigger.get(event.trigger)
        if spec is None:
            yield "transition", f"{_name(event, lifecycle)}不是本流程的操作"
            continue
        source = event.from_state or "new"
        if source not in spec.source_values:
            yield "transition", f"{_name(event, lifecycle)}不能从状态 {source} 进行"
        if event.to_state != spec.dest.value:
            yield (
                "transition",
                f"{_name(event, lifecycle)}应转入 {spec.dest.value}，记录为 {event.to_state}",
            )


def _office(events: Sequence[_Entry], office: frozenset[str]) -> Findings:
    """An office entry keeps the state and is dated the day it was recorded."""
    for event in events:
        if event.trigger not in office:
            continue
        if event.from_state != event.to_state:
            yield "transition", f"第{event.seq}条事件 {event.trigger} 不应改变状态"
        if event.effective_date > local_today(event.recorded_at):
            yield "date", f"第{event.seq}条事件 {event.trigger} 的日期晚于记录日期"


def _dates(record: _Record, events: Sequence[_Entry], lifecycle: Lifecycle) -> Findings:
    latest: date | None = None
    for event in events:
        day = event.effective_date
        if day < record.start:
            yield (
                "date",
                f"{_name(event, lifecycle)}的法律日期 {day.isoformat()} "
                f"早于{lifecycle.start_label}（{record.start.isoformat()}）",
            )
        recorded = local_today(event.recorded_at)
        if day > recorded:
            yield (
                "date",
                f"{_name(event, lifecycle)}的法律日期 {day.isoformat()} "
                f"晚于记录日期（{recorded.isoformat()}）",
            )
        if latest is not None and day < latest:
            yield (
                "date",
                f"{_name(event, lifecycle)}的法律日期 {day.isoformat()} "
                f"早于前面事件的日期（{latest.isoformat()}）",
            )
        latest = max(latest or day, day)


def _caches(record: _Record, events: Sequence[_Entry], _lc: Lifecycle) -> Findings:
    if not events:
        return
    if record.state != events[-1].to_state:
        yield (
            "state",
            f"缓存的当前状态为 {record.state}，事件日志的最终状态为 {events[-1].to_state}",
        )
    if record.last_seq != len(events):
        yield "last_seq", f"last_seq 为 {record.last_seq}，事件共 {len(events)} 条"
