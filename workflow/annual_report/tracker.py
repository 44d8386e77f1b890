"""The supervisor's report tracker and consolidated tables (条例 Art. 49).

Definitions: docs/domain.md §17.

A superior agency follows whether each agency below has published its annual report
for the year by its deadline: a department by 31 January, a people's government at
county level and above by 31 March (``agencies.report_level``; an agency without a
level is held to 31 March, the later date, and shown as such). Beside the status the
tracker shows each agency's 勾稽关系 checks as the figures stand now — the very list its
report page shows (rules 1–8, ``workflow.annual_report.report.report_checks``, built by
``report_data`` from the same parts ``load_report`` reads) — plus the fold check of
``stats-verify`` (the stored projection against the event log, for the year and the
year before), and links to the PDF frozen at publication.

Everything is read for the whole subtree at once: the table 三 counts of every agency
from one grouped statement (``fast_counts_by_agency``), the cases from one statement
(``table4_by_agency``), the fee events, drafts, publications and frozen PDFs from one
statement each, and the event log of the subtree in one batched pass
(``fold_counts_by_agency``) — the tracker's largest cost (bench/RESULTS.md).
The consolidated tables are the sum of the per-agency counts, so each consolidated
cell is exactly the sum of its breakdown.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Agency, PublishedReport, PublishedReportPdf, ReportDraft
from workflow.annual_report.narrative import fee_summary
from workflow.annual_report.report import fee_histories_by_agency, report_data
from workflow.kernel.actor import local_today
from workflow.requests.reminders import REPORT_LEVELS
from workflow.statistics.challenges import table4_by_agency
from workflow.statistics.fold import (
    Cell,
    Check,
    Table3Counts,
    Table4Counts,
    checks,
    table3_from_counts,
    table4_from_counts,
)
from workflow.statistics.layouts import format_for_year
from workflow.statistics.layouts.table4 import TOTAL as T4_TOTAL
from workflow.statistics.queries import (
    Statistics,
    fast_counts_by_agency,
    fold_check,
    fold_counts_by_agency,
)
from workflow.statistics.scope import Scope

#: The level an agency without one is held to: the later deadline (never accuse wrongly).
DEFAULT_LEVEL = "government"

STATUS_LABELS: dict[str, str] = {
    "not_started": "未开始",
    "draft": "草稿",
    "published": "已按期发布",
    "published_late": "逾期发布",
}


def deadline_of(level: str | None, year: int) -> date:
    """Art. 49: the date by which the report on ``year`` must be published."""
    _, month, day = REPORT_LEVELS[level if level in REPORT_LEVELS else DEFAULT_LEVEL]
    return date(year + 1, month, day)


@dataclass(frozen=True)
class TrackerLine:
    """One agency's annual report for the year."""

    agency: Agency
    deadline: date
    #: ``STATUS_LABELS`` key.
    status: str
    #: Not published and the deadline has passed (逾期未发布).
    overdue: bool
    published_on: date | None
    #: The publication has its PDF frozen (linked on the page).
    has_pdf: bool
    checks: list[Check]

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def level_set(self) -> bool:
        return self.agency.report_level in REPORT_LEVELS

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]


@dataclass(frozen=True)
class Consolidated:
    """Tables 三 and 四 of a subtree, with every agency's own tables behind them."""

    year: int
    fmt: str
    table3: Table3Counts
    table4: Table4Counts
    checks: list[Check]
    table3_by_agency: Mapping[int, Table3Counts]
    table4_by_agency: Mapping[int, Table4Counts]
    #: Each agency's checks (rules 1–5, rule 5 against its own previous year).
    checks_by_agency: Mapping[int, list[Check]]


def consolidated(
    session: Session, root: Agency, agency_ids: Sequence[int], year: int
) -> Consolidated:
    """The subtree's tables for ``year`` and each agency's, in two statements."""
    scope = Scope(root, tuple(sorted(agency_ids)), True)
    fmt, previous_fmt = format_for_year(year), format_for_year(year - 1)
    counts = fast_counts_by_agency(session, scope, (year - 1, year))
    cases = table4_by_agency(session, scope, year)
    empty: dict[int, Counter[Cell]] = {year - 1: Counter(), year: Counter()}
    t3: dict[int, Table3Counts] = {}
    t4: dict[int, Table4Counts] = {}
    agency_checks: dict[int, list[Check]] = {}
    for agency_id in agency_ids:
        own = counts.get(agency_id, empty)
        t3[agency_id] = table3_from_counts(own[year], fmt)
        t4[agency_id] = cases.get(agency_id) or table4_from_counts({})
        previous = table3_from_counts(own[year - 1], previous_fmt)
        agency_checks[agency_id] = checks(t3[agency_id], t4[agency_id], fmt, previous)
    whole: Counter[Cell] = Counter()
    whole_previous: Counter[Cell] = Counter()
    for by_year in counts.values():
        whole.update(by_year[year])
        whole_previous.update(by_year[year - 1])
    case_cells: Counter[tuple[str, str]] = Counter()
    for table in cases.values():
        for group, columns in table.items():
            for column, n in columns.items():
                if column != T4_TOTAL:
                    case_cells[(group, column)] += n
    table3 = table3_from_counts(whole, fmt)
    table4 = table4_from_counts(case_cells)
    return Consolidated(
        year,
        fmt,
        table3,
        table4,
        checks(table3, table4, fmt, table3_from_counts(whole_previous, previous_fmt)),
        t3,
        t4,
        agency_checks,
    )


def report_tracker(
    session: Session, agency_ids: Sequence[int], year: int, today: date, *, fold: bool = True
) -> list[TrackerLine]:
    """Every agency of ``agency_ids`` (parents first) with its report's status for ``year``
    and its checks as they stand: the report page's rules 1–8 (``report_checks``) and,
    with ``fold``, the fold check of ``stats-verify`` for the year and the year before."""
    ids = list(agency_ids)
    agencies = {a.id: a for a in session.scalars(select(Agency).where(Agency.id.in_(ids)))}
    scope = Scope(agencies[ids[0]], tuple(sorted(ids)), True)
    years = (year - 1, year)
    counts = fast_counts_by_agency(session, scope, years)
    cases = table4_by_agency(session, scope, year)
    fees = fee_histories_by_agency(session, scope, year)
    drafts: dict[tuple[int, int], ReportDraft] = {
        (d.agency_id, d.year): d
        for d in session.scalars(
            select(ReportDraft).where(
                ReportDraft.agency_id.in_(ids),
                ReportDraft.year.in_(years),
                ReportDraft.with_subordinates.is_(False),
            )
        )
    }
    formats = {y: format_for_year(y) for y in years}
    folded = fold_counts_by_agency(session, scope, formats) if fold else {}
    published: dict[int, tuple[date, bool]] = {}
    for agency_id, at, pdf_id in session.execute(
        select(PublishedReport.agency_id, PublishedReport.published_at, PublishedReportPdf.id)
        .outerjoin(PublishedReportPdf, PublishedReportPdf.published_report_id == PublishedReport.id)
        .where(
            PublishedReport.agency_id.in_(ids),
            PublishedReport.year == year,
            PublishedReport.with_subordinates.is_(False),
        )
    ):
        published[agency_id] = (local_today(at), pdf_id is not None)
    empty: dict[int, Counter[Cell]] = {y: Counter() for y in years}
    lines = []
    for agency_id in ids:
        agency = agencies[agency_id]
        draft = drafts.get((agency_id, year))
        own = counts.get(agency_id, empty)
        fmt = format_for_year(year, draft.format if draft else None)
        t3 = table3_from_counts(own[year], fmt)
        t4 = cases.get(agency_id) or table4_from_counts({})
        previous = table3_from_counts(own[year - 1], formats[year - 1])
        statistics = Statistics(Scope.of(agency), year, fmt, t3, t4, checks(t3, t4, fmt, previous))
        data = report_data(
            statistics,
            draft,
            drafts.get((agency_id, year - 1)),
            fee_summary(fees.get(agency_id, []), year),
        )
        found = data.checks()
        if fold:
            by_year = folded.get(agency_id, empty)
            found.extend(fold_check(y, formats[y], by_year[y], own[y]) for y in years)
        due = deadline_of(agency.report_level, year)
        if agency_id in published:
            on, has_pdf = published[agency_id]
            status = "published_late" if on > due else "published"
        else:
            on, has_pdf = None, False
            status = "draft" if draft is not None else "not_started"
        lines.append(
            TrackerLine(agency, due, status, on is None and today > due, on, has_pdf, found)
        )
    return lines
