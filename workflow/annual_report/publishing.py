"""Publishing a year's statistics: freeze the numbers with a content hash (docs/domain.md §6).

A publication is an append-only row holding the statistics JSON exactly as published and
the SHA-256 of its canonical form. Later events with an effective date in that year
(a late correction, a void) change a fresh derivation but never the published numbers;
``frozen_differences`` lists every cell where the two now disagree, in the table's own
row and column labels; ``changed_requests`` names the requests (and the events, recorded
after the publication) that moved each changed cell of table 三, ``changed_challenges``
the 复议/诉讼 cases (and their events) that moved each changed cell of table 四.

Safe publishing (issue 15 item 9; docs/domain.md §16): ``readiness`` says what
is missing before anything is frozen (table 二 cells, narrative sections, failing checks,
the fee figures the report will state); a published year can be published again only as
a numbered correction (``republish``, 更正发布) with a reason, each version kept with its
own frozen numbers, PDF and hashes (``versions``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import (
    Agency,
    Challenge,
    ChallengeEvent,
    Event,
    PublishedReport,
    ReportCorrection,
    Request,
)
from models.event import chain_algorithm
from workflow.annual_report import table2_values
from workflow.annual_report.archive import ReportRenderer, freeze_pdf, frozen_pdf, pdf_hash
from workflow.annual_report.narrative import SECTIONS, FeeSummary
from workflow.annual_report.report import ReportData, published_annual_report
from workflow.challenges.spec import CHALLENGE_TRANSITIONS
from workflow.kernel import chain
from workflow.kernel.actor import Actor, local_clock, local_today, naive_utc
from workflow.kernel.errors import DomainError, PermissionDenied, ValidationError
from workflow.requests.spec import TRIGGER_LABELS
from workflow.statistics.challenges import case_facts
from workflow.statistics.facts import facts_from_events
from workflow.statistics.fold import Check, challenge_column, request_cells, stats_json
from workflow.statistics.layouts.table3 import TOTAL, TOTAL_CONCLUDED, table3_layout
from workflow.statistics.layouts.table4 import TABLE4_LAYOUT
from workflow.statistics.layouts.table4 import TOTAL as T4_TOTAL
from workflow.statistics.queries import Statistics, derive
from workflow.statistics.scope import Scope

PUBLISHERS = frozenset({"approver", "admin"})


def canonical_hash(numbers: dict[str, Any]) -> str:
    """SHA-256 of the JSON with sorted keys and no whitespace: stable across databases."""
    text = json.dumps(numbers, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


#: The columns of a publication its chain link covers (its numbers through ``content_hash``).
REPORT_FIELDS: tuple[str, ...] = (
    "agency_id",
    "year",
    "with_subordinates",
    "format",
    "content_hash",
    "published_at",
    "published_by_id",
)


def report_link(algorithm: str, previous: str | None, report: Any) -> str:
    """The chain link of a publication after the agency's ``previous`` one.

    ``report`` is a row or anything with the :data:`REPORT_FIELDS` as attributes.
    """
    fields = {name: getattr(report, name) for name in REPORT_FIELDS}
    fields["with_subordinates"] = bool(fields["with_subordinates"])
    return chain.link(algorithm, "report", previous, fields)


#: The columns of a correction (更正发布) its chain link covers: everything it froze.
CORRECTION_FIELDS: tuple[str, ...] = (
    "number",
    "reason",
    "format",
    "content_hash",
    "pdf_hash",
    "agency_name",
    "published_at",
    "published_by_id",
)


def correction_link(algorithm: str, previous: str | None, corrects: str, row: Any) -> str:
    """The chain link of a correction after the agency's ``previous`` correction.

    Corrections have a chain of their own per agency (in the order they were issued),
    and each link also covers ``corrects``: the link of the version it replaces (the
    publication's ``chain_hash`` for correction 1, correction N - 1's for N). So a
    correction edited, removed or swapped breaks its agency's correction chain, and one
    moved to another year or hung on an edited publication breaks its ``corrects``.
    """
    fields = {name: getattr(row, name) for name in CORRECTION_FIELDS}
    fields["corrects"] = corrects
    return chain.link(algorithm, "correction", previous, fields)


def _lock_agency_chains(session: Session, agency_id: int) -> Agency:
    """The agency row, locked: its publications and corrections each have one head, so
    two publications (or corrections) at once wait for each other here (PostgreSQL;
    SQLite has one writer anyway)."""
    session.execute(select(Agency.id).where(Agency.id == agency_id).with_for_update()).scalar()
    agency = session.get(Agency, agency_id)
    assert agency is not None
    return agency


def numbers_of(result: Statistics) -> dict[str, Any]:
    return stats_json(
        result.scope.agency.code,
        result.year,
        result.fmt,
        result.table3,
        result.table4,
        result.checks,
    )


def find_published(session: Session, scope: Scope, year: int) -> PublishedReport | None:
    return session.scalar(
        select(PublishedReport).where(
            PublishedReport.agency_id == scope.agency.id,
            PublishedReport.year == year,
            PublishedReport.with_subordinates.is_(scope.with_subordinates),
        )
    )


def publish(
    session: Session,
    actor: Actor,
    now: datetime,
    scope: Scope,
    year: int,
    fmt: str | None = None,
    *,
    render: ReportRenderer | None = None,
) -> PublishedReport:
    """Freeze ``year`` for ``scope``; refuses a year not yet over, failed checks, a repeat.

    With ``render`` the report's PDF is frozen in the same transaction (the page always
    publishes both; the tests also publish the numbers alone).
    """
    if not actor.roles & PUBLISHERS:
        raise PermissionDenied("只有审核人或管理员可以发布年度统计")
    if actor.agency_id != scope.agency.id:
        raise PermissionDenied("只能发布本机关的年度统计")
    if year >= local_today(now).year:
        raise DomainError(f"{year}年度尚未结束，不能发布")
    if find_published(session, scope, year) is not None:
        raise DomainError(
            f"{year}年度统计已发布，发布后不能更改；如需更正，请使用“更正发布”（原版本保留）"
        )
    result = derive(session, scope, year, fmt)
    failed = [c for c in result.checks if not c.ok]
    if failed:
        raise DomainError(f"有 {len(failed)} 项勾稽关系检查未通过，请先核对：{failed[0].detail}")
    numbers = numbers_of(result)
    agency = _lock_agency_chains(session, scope.agency.id)
    previous = session.scalar(
        select(PublishedReport.chain_hash)
        .where(PublishedReport.agency_id == scope.agency.id)
        .order_by(PublishedReport.id.desc())
        .limit(1)
    )
    report = PublishedReport(
        agency_id=scope.agency.id,
        year=year,
        with_subordinates=scope.with_subordinates,
        format=result.fmt,
        numbers=numbers,
        content_hash=canonical_hash(numbers),
        published_at=naive_utc(now),
        published_by_id=actor.user_id,
        agency_name=scope.agency.name,
    )
    report.chain_hash = report_link(chain_algorithm(), previous, report)
    agency.report_head = report.chain_hash
    session.add(report)
    session.flush()
    if render is not None:
        freeze_pdf(session, report, render)
    return report


@dataclass(frozen=True)
class CellChange:
    table: str
    row: str
    column: str
    published: int
    now: int
    #: The cell in the table's own words: the row's headings and label, the column's.
    row_label: str = ""
    column_label: str = ""

    @property
    def key(self) -> str:
        """The drill-down's cell key ("row.column")."""
        return f"{self.row}.{self.column}"


def _labels(table: str, fmt: str, row: str, column: str) -> tuple[str, str]:
    """Row and column labels of a cell (the key itself where a layout does not know it)."""
    try:
        if table == "table3":
            layout = table3_layout(fmt)
            return " · ".join(layout.row(row).path), layout.column(column).full_label
        return TABLE4_LAYOUT.group(row).label, TABLE4_LAYOUT.column(column).label
    except KeyError:
        return row, column


def differences_between(
    numbers: Mapping[str, Any], fresh: Statistics, fmt: str | None = None
) -> list[CellChange]:
    """Cells where ``fresh`` differs from the frozen ``numbers``, labelled as in the table."""
    current = numbers_of(fresh)
    fmt = fmt or fresh.fmt
    changes = []
    for table in ("table3", "table4"):
        old, new = numbers.get(table, {}), current[table]
        for row in sorted(set(old) | set(new)):
            for column in sorted(set(old.get(row, {})) | set(new.get(row, {}))):
                before, after = old.get(row, {}).get(column, 0), new.get(row, {}).get(column, 0)
                if before != after:
                    labels = _labels(table, fmt, row, column)
                    changes.append(CellChange(table, row, column, before, after, *labels))
    return changes


def frozen_differences(report: PublishedReport, fresh: Statistics) -> list[CellChange]:
    """Cells where a fresh derivation differs from the latest published version."""
    latest = latest_version(report)
    return differences_between(latest.numbers, fresh, latest.format)


def hash_intact(report: PublishedReport) -> bool:
    """Whether the stored numbers still match the hash taken when they were published."""
    return canonical_hash(report.numbers) == report.content_hash


# --------------------------------------------------------------------------- versions


@dataclass(frozen=True)
class Version:
    """One published version of a year: the publication (1) or a correction (2, 3 …)."""

    number: int
    numbers: Mapping[str, Any]
    format: str
    content_hash: str
    pdf_hash: str | None
    agency_name: str
    published_at: datetime
    published_by: str
    reason: str
    #: The correction row (None for the first publication).
    correction_id: int | None = None

    @property
    def label(self) -> str:
        return "首次发布" if self.number == 1 else f"更正发布（第{self.number - 1}次更正）"

    @property
    def intact(self) -> bool:
        """Whether the stored numbers still hash to what was taken at publication."""
        return canonical_hash(dict(self.numbers)) == self.content_hash


def _corrections(report: PublishedReport) -> list[ReportCorrection]:
    session = Session.object_session(report)
    if session is None or report.id is None:
        return []
    return list(
        session.scalars(
            select(ReportCorrection)
            .where(ReportCorrection.published_report_id == report.id)
            .order_by(ReportCorrection.number)
        )
    )


def versions(session: Session, report: PublishedReport) -> list[Version]:
    """Every version of the published year, oldest first (all kept, none changed)."""
    first = frozen_pdf(session, report)
    found = [
        Version(
            1,
            report.numbers,
            report.format,
            report.content_hash,
            first.pdf_hash if first else None,
            report.agency_name or report.agency.name,
            report.published_at,
            report.published_by.display_name if report.published_by else "系统",
            "",
        )
    ]
    for row in _corrections(report):
        found.append(
            Version(
                row.number + 1,
                row.numbers,
                row.format,
                row.content_hash,
                row.pdf_hash,
                row.agency_name,
                row.published_at,
                row.published_by.display_name if row.published_by else "系统",
                row.reason,
                row.id,
            )
        )
    return found


def latest_version(report: PublishedReport) -> Version:
    session = Session.object_session(report)
    assert session is not None
    return versions(session, report)[-1]


def frozen_version_pdf(session: Session, report: PublishedReport, number: int) -> bytes | None:
    """The PDF frozen with version ``number`` (1: the publication), if any."""
    if number == 1:
        first = frozen_pdf(session, report)
        return first.pdf if first else None
    row = session.scalar(
        select(ReportCorrection).where(
            ReportCorrection.published_report_id == report.id,
            ReportCorrection.number == number - 1,
        )
    )
    return row.pdf if row is not None else None


MIN_REASON = 5


def republish(
    session: Session,
    actor: Actor,
    now: datetime,
    scope: Scope,
    year: int,
    reason: str,
    *,
    render: ReportRenderer,
) -> ReportCorrection:
    """Publish ``year`` again as a numbered correction (更正发布) with ``reason``.

    The same rules as the first publication (who, own agency, every check passing), and
    more: the year must have been published, the reason said, and the new version must
    differ from the latest one (numbers or the report as printed); otherwise there is
    nothing to correct. Every earlier version stays as it was.
    """
    if not actor.roles & PUBLISHERS:
        raise PermissionDenied("只有审核人或管理员可以更正发布年度报告")
    if actor.agency_id != scope.agency.id:
        raise PermissionDenied("只能更正发布本机关的年度报告")
    original = find_published(session, scope, year)
    if original is None:
        raise DomainError(f"{year}年度尚未发布，请先发布；更正发布只用于已发布的年度")
    reason = " ".join(reason.split())
    if len(reason) < MIN_REASON:
        raise ValidationError(
            f"请说明更正的原因（至少{MIN_REASON}个字）",
            {"reason": f"更正原因至少{MIN_REASON}个字，将与更正版本一并保存"},
        )
    result = derive(session, scope, year, original.format)
    failed = [c for c in result.checks if not c.ok]
    if failed:
        raise DomainError(f"有 {len(failed)} 项勾稽关系检查未通过，请先核对：{failed[0].detail}")
    numbers = numbers_of(result)
    content = canonical_hash(numbers)
    report = published_annual_report(session, original, numbers, result.fmt, scope.agency.name)
    rendered = render(report)
    latest = versions(session, original)[-1]
    printed = pdf_hash(rendered.pdf)
    if content == latest.content_hash and printed == latest.pdf_hash:
        raise DomainError(
            f"重新统计的数字和报告与最新发布的{latest.label}完全一致，没有需要更正的内容"
        )
    number = (
        session.scalar(
            select(func.max(ReportCorrection.number)).where(
                ReportCorrection.published_report_id == original.id
            )
        )
        or 0
    ) + 1
    row = ReportCorrection(
        published_report_id=original.id,
        number=number,
        reason=reason,
        format=result.fmt,
        numbers=numbers,
        content_hash=content,
        pdf=rendered.pdf,
        pdf_hash=printed,
        font=rendered.font[:200],
        agency_name=scope.agency.name,
        published_at=naive_utc(now),
        published_by_id=actor.user_id,
    )
    agency = _lock_agency_chains(session, scope.agency.id)
    previous = session.scalar(
        select(ReportCorrection.chain_hash)
        .join(PublishedReport, PublishedReport.id == ReportCorrection.published_report_id)
        .where(PublishedReport.agency_id == scope.agency.id)
        .order_by(ReportCorrection.id.desc())
        .limit(1)
    )
    corrects = _version_link(session, original, number - 1)
    row.chain_hash = correction_link(chain_algorithm(), previous, corrects, row)
    agency.correction_head = row.chain_hash
    session.add(row)
    session.flush()
    return row


def _version_link(session: Session, original: PublishedReport, correction: int) -> str:
    """The chain link of version ``correction + 1`` of ``original`` (0: the publication)."""
    if correction == 0:
        return original.chain_hash or ""
    link = session.scalar(
        select(ReportCorrection.chain_hash).where(
            ReportCorrection.published_report_id == original.id,
            ReportCorrection.number == correction,
        )
    )
    return link or ""


# --------------------------------------------------------------------------- readiness


@dataclass(frozen=True)
class Readiness:
    """What the confirmation page shows before anything is frozen."""

    #: Table 二 cells not filled in ("规章·本年制发件数").
    missing_table2: list[str]
    #: Narrative sections left empty, by heading.
    empty_sections: list[str]
    failed_checks: list[Check]
    fees: FeeSummary
    #: The cells that changed since the latest version (a correction only).
    changes: list[CellChange] = field(default_factory=list)

    @property
    def blocking(self) -> bool:
        """Failing checks refuse publishing; the rest is a warning the publisher confirms."""
        return bool(self.failed_checks)


def readiness(data: ReportData, published: PublishedReport | None = None) -> Readiness:
    """What is missing or wrong in the report about to be published (or corrected).

    The fee section (六) is filled from the year's fee figures when left empty, so only
    sections 一 and 五 count as missing text; the figures are shown for confirming.
    """
    report = data.report
    texts = {name: report.narrative(name) for name in SECTIONS}
    empty = [
        SECTIONS[name]
        for name, text in texts.items()
        if not text.strip() and name != "other_matters"
    ]
    return Readiness(
        missing_table2=table2_values.missing(report.fmt, report.table2),
        empty_sections=empty,
        failed_checks=[c for c in data.checks() if not c.ok],
        fees=data.fees,
        changes=frozen_differences(published, data.statistics) if published else [],
    )


# --------------------------------------------------------------------------- causes


@dataclass(frozen=True)
class ChangedRequest:
    """A request whose count moved after a version was published, and why."""

    request_id: int
    tracking_no: str
    #: Whether it now counts in the cell (True) or counted there and no longer does.
    entered: bool
    #: The events recorded after the publication, as "2026-03-02 作废（记录于 …）".
    events: tuple[str, ...]


def _row_matches(displayed: str, base: str) -> bool:
    if displayed == base:
        return True
    return displayed == TOTAL_CONCLUDED and base not in (
        "new_received",
        "carried_over",
        "carried_forward",
    )


def _in_cell(cells: Sequence[tuple[str, str]], row: str, column: str) -> bool:
    return any(_row_matches(row, r) and column in (TOTAL, k) for r, k in cells)


def changed_requests(
    session: Session,
    scope: Scope,
    year: int,
    fmt: str,
    since: datetime,
    changes: Sequence[CellChange],
) -> dict[str, list[ChangedRequest]]:
    """For each changed cell of table 三 (by ``CellChange.key``), the requests that moved
    in or out of it, with the events behind the move.

    The log is append-only and every event says when it was recorded, so the facts as
    they stood at ``since`` (the version's publication) are the facts of the events
    recorded by then; a request's cells then and now tell which changed cells it moved.
    Table 四's cells: ``changed_challenges``.
    """
    wanted = [c for c in changes if c.table == "table3"]
    found: dict[str, list[ChangedRequest]] = {c.key: [] for c in wanted}
    if not wanted:
        return found
    touched = select(Event.request_id).where(Event.recorded_at > since).distinct()
    requests = list(
        session.scalars(
            select(Request)
            .where(Request.agency_id.in_(scope.agency_ids), Request.id.in_(touched))
            .order_by(Request.id)
        )
    )
    if not requests:
        return found
    events: dict[int, list[Event]] = {r.id: [] for r in requests}
    for event in session.scalars(
        select(Event).where(Event.request_id.in_(list(events))).order_by(Event.seq)
    ):
        events[event.request_id].append(event)
    for req in requests:
        log = events[req.id]
        then = [e for e in log if e.recorded_at <= since]
        later = tuple(
            f"{e.effective_date.isoformat()} {TRIGGER_LABELS.get(e.trigger, e.trigger)}"
            f"（记录于 {local_clock(e.recorded_at)}）"
            for e in log
            if e.recorded_at > since
        )
        old = request_cells(req.applicant_kind, facts_from_events(req.received_on, then), year, fmt)
        new = request_cells(req.applicant_kind, facts_from_events(req.received_on, log), year, fmt)
        if not then:  # registered after publication: counted nowhere then
            old = ()
        for change in wanted:
            before = _in_cell(old, change.row, change.column)
            after = _in_cell(new, change.row, change.column)
            if before != after:
                found[change.key].append(ChangedRequest(req.id, req.tracking_no, after, later))
    return found


@dataclass(frozen=True)
class ChangedChallenge:
    """A 复议/诉讼 case whose table 四 cell moved after a version was published, and why."""

    challenge_id: int
    case_no: str
    #: Whether it now counts in the cell (True) or counted there and no longer does.
    entered: bool
    #: The case's events recorded after the publication, as "2026-03-02 审结（记录于 …）".
    events: tuple[str, ...]


_CHALLENGE_LABELS = {t.trigger: t.label for t in CHALLENGE_TRANSITIONS}


def _table4_cell(kind: str, route: str | None, events: Sequence[Any], year: int) -> tuple[str, str]:
    """(group, column) a case counts in for ``year`` by ``events``; ("", "") for none."""
    facts = case_facts([(kind, route, events)], year)
    column = challenge_column(facts[0], year) if facts else None
    return (facts[0].group, column) if facts and column is not None else ("", "")


def changed_challenges(
    session: Session,
    scope: Scope,
    year: int,
    since: datetime,
    changes: Sequence[CellChange],
) -> dict[str, list[ChangedChallenge]]:
    """For each changed cell of table 四 (by ``CellChange.key``), the cases that moved in
    or out of it, with their events recorded after ``since`` (the version's publication).

    As for table 三: the case log is append-only and each event says when it was
    recorded, so the case as it stood at ``since`` is the case of the events recorded by
    then; its cell then and now (``workflow.statistics.challenges.case_facts``, the fold
    table 四 is counted with) tells which changed cells it moved.
    """
    wanted = [c for c in changes if c.table == "table4"]
    found: dict[str, list[ChangedChallenge]] = {c.key: [] for c in wanted}
    if not wanted:
        return found
    touched = (
        select(ChallengeEvent.challenge_id).where(ChallengeEvent.recorded_at > since).distinct()
    )
    cases = list(
        session.scalars(
            select(Challenge)
            .where(Challenge.agency_id.in_(scope.agency_ids), Challenge.id.in_(touched))
            .order_by(Challenge.id)
        )
    )
    if not cases:
        return found
    logs: dict[int, list[ChallengeEvent]] = {c.id: [] for c in cases}
    for event in session.scalars(
        select(ChallengeEvent)
        .where(ChallengeEvent.challenge_id.in_(list(logs)))
        .order_by(ChallengeEvent.challenge_id, ChallengeEvent.seq)
    ):
        logs[event.challenge_id].append(event)
    for case in cases:
        log = logs[case.id]
        then = [e for e in log if e.recorded_at <= since]
        later = tuple(
            f"{e.effective_date.isoformat()} {_CHALLENGE_LABELS.get(e.trigger, e.trigger)}"
            f"（记录于 {local_clock(e.recorded_at)}）"
            for e in log
            if e.recorded_at > since
        )
        old = _table4_cell(case.kind, case.route, then, year)
        new = _table4_cell(case.kind, case.route, log, year)
        for change in wanted:
            before = old[0] == change.row and change.column in (T4_TOTAL, old[1])
            after = new[0] == change.row and change.column in (T4_TOTAL, new[1])
            if before != after:
                found[change.key].append(ChangedChallenge(case.id, case.case_no, after, later))
    return found
