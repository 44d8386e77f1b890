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
- a cached ``state`` that is not the last ``to_state``, or ``last_seq`` that is not n;
- a broken hash chain (``workflow.kernel.chain``): an event whose stored ``hash`` is not
  the digest of its columns after the previous event's, or a record whose head
  (``log_hash``) is not its last event's. Any edited, removed, inserted or reordered
  event shows here, even when the projections beside it were changed to match;
- a request whose content columns (applicant, subject …) differ from what its
  ``register`` event recorded;
- a published report whose numbers no longer match its content hash, or whose link in
  the agency's chain of publications does not match;
- a correction (更正发布) whose numbers or PDF no longer match their hashes, whose link in
  the agency's chain of corrections does not match, or that no longer follows the version
  it replaced (numbers 1..n per report); and an agency whose stored heads are not its
  last publication's and last correction's links (the newest one removed).

Every rule comes from the same spec tables the machine runs (``Lifecycle``), so the
check cannot drift from what the application enforces. It only reads; it never repairs
(a wrong log needs a person, not a script). Records are read in batches so a large
database is checked in bounded memory.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import groupby
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from models import (
    Agency,
    Challenge,
    ChallengeEvent,
    Event,
    PublishedReport,
    ReportCorrection,
    Request,
)
from workflow.annual_report.archive import pdf_hash
from workflow.annual_report.publishing import (
    CORRECTION_FIELDS,
    REPORT_FIELDS,
    canonical_hash,
    correction_link,
    report_link,
)
from workflow.challenges.spec import CHALLENGES
from workflow.kernel import chain
from workflow.kernel.actor import local_today
from workflow.kernel.lifecycle import Lifecycle
from workflow.requests.intake import INTAKE_FIELDS
from workflow.requests.machine import REQUESTS
from workflow.requests.office import OFFICE_TRIGGERS, corrected

#: Records read per batch (with all their events).
BATCH = 2000


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one record's log; ``str()`` is the line ``verify-log`` prints."""

    #: ``sequence``, ``chain``, ``transition``, ``date``, ``state``, ``last_seq``, ``empty``,
    #: ``hash`` (the hash chain), ``content`` (a request's columns) or ``report``.
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
    actor_id: int | None = None
    payload: dict[str, Any] | None = None
    hash: str | None = None
    id: int = 0


@dataclass(frozen=True)
class _Record:
    id: int
    subject: str
    state: str
    last_seq: int
    start: date
    log_hash: str | None = None
    #: ``request`` or ``challenge``: which chain its events are linked in.
    kind: str = "request"
    #: Columns that must equal the first event's payload (a request's intake).
    content: tuple[tuple[str, Any], ...] = ()


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
    kind: str
    #: Record columns recorded in the first event's payload (and never changed since).
    content: tuple[str, ...] = ()
    #: Entries of the office that are not steps (workflow.requests.office): they keep the
    #: state and are dated the day they were recorded; corrections apply before the date check.
    office: frozenset[str] = frozenset()


#: A request's intake as its ``register`` event recorded it (the dates are checked apart).
REQUEST_CONTENT: tuple[str, ...] = tuple(
    f.name for f in INTAKE_FIELDS if f.name not in ("submitted_on", "received_on")
)

LOGS: tuple[_Log, ...] = (
    _Log(
        "申请",
        Request,
        Event,
        Event.request_id,
        REQUESTS,
        Request.tracking_no,
        "request",
        REQUEST_CONTENT,
        office=OFFICE_TRIGGERS,
    ),
    _Log(
        "复议诉讼案件",
        Challenge,
        ChallengeEvent,
        ChallengeEvent.challenge_id,
        CHALLENGES,
        Challenge.case_no,
        "challenge",
    ),
)


def verify_log(session: Session) -> list[Problem]:
    """Every problem found in the request and challenge logs and the published reports."""
    problems: list[Problem] = []
    for log in LOGS:
        for record, events in _records(session, log):
            problems.extend(check_record(record, events, log.lifecycle, log.office))
    problems.extend(check_reports(session))
    problems.extend(check_corrections(session))
    problems.extend(check_heads(session))
    return problems


def check_reports(session: Session) -> list[Problem]:
    """Published reports: numbers against their content hash, and each agency's chain."""
    problems: list[Problem] = []
    heads: dict[int, str | None] = {}
    rows = session.execute(
        select(
            PublishedReport.id,
            Agency.code,
            PublishedReport.numbers,
            PublishedReport.chain_hash,
            *(getattr(PublishedReport, name) for name in REPORT_FIELDS),
        )
        .join(Agency, Agency.id == PublishedReport.agency_id)
        .order_by(PublishedReport.id)
    )
    for row in rows:
        subject = f"已发布的{row.year}年度报告（机关 {row.code}，id {row.id}）"
        if canonical_hash(row.numbers) != row.content_hash:
            problems.append(Problem("report", subject, "发布的数字与其内容摘要不符（数字被修改）"))
        previous = heads.get(row.agency_id)
        heads[row.agency_id] = row.chain_hash
        problems.extend(
            _link_problems(
                subject,
                row.chain_hash,
                lambda algorithm, row=row, previous=previous: report_link(algorithm, previous, row),
                "链接摘要不符：这份报告或本机关在它之前发布的报告被修改、删除或调换",
            )
        )
    return problems


def _link_problems(
    subject: str, stored: str | None, expected: Callable[[str], str], broken: str
) -> list[Problem]:
    """What is wrong with one stored chain link: missing, of an unknown algorithm, or not
    the link recomputed from the row and its predecessor (``broken`` says what that means)."""
    if stored is None:
        return [Problem("report", subject, "没有链接摘要")]
    try:
        recomputed = expected(chain.algorithm_of(stored))
    except chain.UnknownAlgorithm as err:
        return [Problem("report", subject, str(err))]
    return [] if recomputed == stored else [Problem("report", subject, broken)]


def check_corrections(session: Session) -> list[Problem]:
    """Corrections: numbers and PDF against their hashes, each agency's chain of
    corrections, and each correction's link to the version it replaced."""
    problems: list[Problem] = []
    heads: dict[int, str | None] = {}
    #: The link of the latest version seen of each publication, and its number.
    versions: dict[int, tuple[int, str]] = {}
    rows = session.execute(
        select(
            ReportCorrection.id,
            ReportCorrection.published_report_id,
            ReportCorrection.numbers,
            ReportCorrection.pdf,
            ReportCorrection.chain_hash,
            *(getattr(ReportCorrection, name) for name in CORRECTION_FIELDS),
            PublishedReport.agency_id,
            PublishedReport.year,
            PublishedReport.chain_hash.label("report_link"),
            Agency.code,
        )
        .join(PublishedReport, PublishedReport.id == ReportCorrection.published_report_id)
        .join(Agency, Agency.id == PublishedReport.agency_id)
        .order_by(ReportCorrection.id)
    )
    for row in rows:
        subject = f"{row.year}年度报告的第{row.number}次更正（机关 {row.code}，id {row.id}）"
        if canonical_hash(row.numbers) != row.content_hash:
            problems.append(
                Problem("report", subject, "更正发布的数字与其内容摘要不符（数字被修改）")
            )
        if row.pdf is not None and pdf_hash(row.pdf) != row.pdf_hash:
            problems.append(Problem("report", subject, "更正发布的报告文件与其摘要不符"))
        number, corrects = versions.get(row.published_report_id, (0, row.report_link or ""))
        versions[row.published_report_id] = (row.number, row.chain_hash or "")
        if row.number != number + 1:
            problems.append(
                Problem("report", subject, f"更正序号不连续：上一版本是第{number}次更正")
            )
        previous = heads.get(row.agency_id)
        heads[row.agency_id] = row.chain_hash
        problems.extend(
            _link_problems(
                subject,
                row.chain_hash,
                lambda algorithm, row=row, previous=previous, corrects=corrects: correction_link(
                    algorithm, previous, corrects, row
                ),
                "链接摘要不符：这次更正、它所更正的版本或本机关在它之前的更正被修改、删除或调换",
            )
        )
    return problems


def check_heads(session: Session) -> list[Problem]:
    """Each agency's stored heads against its last publication's and correction's links."""
    last_report = {
        agency: link
        for agency, link in session.execute(
            select(PublishedReport.agency_id, PublishedReport.chain_hash).order_by(
                PublishedReport.id
            )
        )
    }
    last_correction = {
        agency: link
        for agency, link in session.execute(
            select(PublishedReport.agency_id, ReportCorrection.chain_hash)
            .join(PublishedReport, PublishedReport.id == ReportCorrection.published_report_id)
            .order_by(ReportCorrection.id)
        )
    }
    problems: list[Problem] = []
    for agency in session.execute(
        select(Agency.id, Agency.code, Agency.report_head, Agency.correction_head).order_by(
            Agency.id
        )
    ):
        subject = f"机关 {agency.code} 的发布记录"
        if agency.report_head != last_report.get(agency.id):
            problems.append(
                Problem(
                    "report",
                    subject,
                    "最后一份已发布报告与记录的链头不符（最新的发布被删除或替换）",
                )
            )
        if agency.correction_head != last_correction.get(agency.id):
            problems.append(
                Problem(
                    "report", subject, "最后一次更正发布与记录的链头不符（最新的更正被删除或替换）"
                )
            )
    return problems


def _records(session: Session, log: _Log) -> Iterator[tuple[_Record, list[_Entry]]]:
    rec = log.record
    start = getattr(rec, log.lifecycle.start_attribute)
    last_id = 0
    while True:
        # Plain columns, not ORM objects: the caller's session is left as it was.
        content = [getattr(rec, name) for name in log.content]
        rows = session.execute(
            select(rec.id, log.name, Agency.code, rec.state, rec.last_seq, start, rec.log_hash)
            .add_columns(*content)
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
                ev.actor_id,
                ev.payload,
                ev.hash,
                ev.id,
            )
            .where(log.owner.in_([row[0] for row in rows]))
            .order_by(log.owner, ev.seq, ev.id)
        )
        by_owner = {
            owner: [_Entry(*values) for _owner, *values in group]
            for owner, group in groupby(found, key=lambda r: r[0])
        }
        for record_id, name, agency_code, state, last_seq, start_date, head, *values in rows:
            record = _Record(
                id=record_id,
                subject=f"{log.noun} {name}（机关 {agency_code}，id {record_id}）",
                state=state,
                last_seq=last_seq,
                start=start_date,
                log_hash=head,
                kind=log.kind,
                content=tuple(zip(log.content, values, strict=True)),
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
        *_hashes(record, events, lifecycle),
        *_content(record, events, lifecycle),
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


def _hashes(record: _Record, events: Sequence[_Entry], lifecycle: Lifecycle) -> Findings:
    """Each event's stored link against the digest of its columns after the previous link.

    Each link is recomputed over the *stored* previous link, so the event named is the
    one that was changed (or the first after a removed or inserted one).
    """
    previous: str | None = None
    for event in events:
        if event.hash is None:
            yield "hash", f"{_name(event, lifecycle)}没有链接摘要"
            previous = None
            continue
        try:
            expected = chain.event_link(
                chain.algorithm_of(event.hash),
                record.kind,
                previous,
                seq=event.seq,
                trigger=event.trigger,
                from_state=event.from_state,
                to_state=event.to_state,
                effective_date=event.effective_date,
                recorded_at=event.recorded_at,
                actor_id=event.actor_id,
                payload=event.payload or {},
            )
        except chain.UnknownAlgorithm as err:
            yield "hash", f"{_name(event, lifecycle)}：{err}"
            expected = event.hash
        if expected != event.hash:
            yield (
                "hash",
                f"{_name(event, lifecycle)}"
                "的链接摘要不符：这条事件或它之前的事件被修改、删除或调换",
            )
        previous = event.hash
    if events and record.log_hash != events[-1].hash:
        yield "hash", "记录的链头摘要与最后一条事件的摘要不符（末尾的事件被删除或替换）"


def _content(record: _Record, events: Sequence[_Entry], _lc: Lifecycle) -> Findings:
    """A request's columns against what its register event recorded."""
    if not events or not record.content:
        return
    recorded = events[0].payload or {}
    for name, value in record.content:
        if name in recorded and recorded[name] != value:
            yield "content", f"字段 {name} 与登记事件记录的内容不符"
