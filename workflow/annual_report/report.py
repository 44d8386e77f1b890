"""The annual report as one object: derived tables, entered table 二, written narrative.

``AnnualReport`` is everything a renderer needs (PDF, XLSX, HTML preview), built in one
place so they print the same report. The derived parts come from ``stats_queries``
(tables 三 and 四) or from a publication's frozen numbers; the written parts from the
``ReportDraft`` of the agency, year and scope. Section 六, when left empty, is filled
with the year's fee figures (docs/domain.md §8), folded by ``narrative.fee_summary`` from the
events a thin query here reads.

Drafts are working documents, updated in place by ``save_draft`` (one flush, the caller
commits), which validates every field at once so the form can show every mistake.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import groupby
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from models import Agency, Event, PublishedReport, Request
from models.report_draft import ReportDraft
from workflow.annual_report import table2_values
from workflow.annual_report.narrative import (
    SECTIONS,
    FeeSummary,
    Sentence,
    all_figures,
    fee_section_check,
    fee_summary,
    fees_sentence,
    narrative_checks,
    sentences,
    with_fees,
)
from workflow.catalog.outcomes import FORMATS
from workflow.kernel.actor import Actor, naive_utc
from workflow.kernel.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from workflow.statistics.fold import Check, Table2Value, Table3Counts, Table4Counts, year_bounds
from workflow.statistics.layouts import format_for_year
from workflow.statistics.queries import Statistics, derive
from workflow.statistics.scope import Scope

#: Roles that may edit a report draft of their own agency (others read and download).
EDIT_ROLES: frozenset[str] = frozenset({"admin", "approver", "handler"})
#: Field names of the narrative sections, in the order the report prints them.
NARRATIVE_FIELDS: tuple[str, ...] = tuple(SECTIONS)
MAX_NARRATIVE = 50_000
MAX_ISSUER = 200
#: Prefix of the table 二 inputs in a draft form ("t2-rules.new_made").
TABLE2_PREFIX = "t2-"


@dataclass(frozen=True)
class AnnualReport:
    """The full report of one agency (scope) and year, ready to render."""

    agency_name: str
    year: int
    fmt: str
    table2: Mapping[str, Table2Value]
    table3: Table3Counts
    table4: Table4Counts
    overview: str = ""
    problems: str = ""
    other_matters: str = ""
    issuer: str = ""
    issued_on: date | None = None

    @property
    def title(self) -> str:
        return report_title(self.agency_name, self.year)

    def narrative(self, name: str) -> str:
        return str(getattr(self, name))


def report_title(agency_name: str, year: int) -> str:
    return f"{agency_name}{year}年度政府信息公开工作年度报告"


def compose(
    agency_name: str,
    year: int,
    fmt: str,
    table3: Table3Counts,
    table4: Table4Counts,
    fees: FeeSummary,
    draft: ReportDraft | None,
) -> AnnualReport:
    """The report from its parts; defaults for what the draft leaves empty.

    Section 六 defaults to the fee sentence, the issuing office to the agency.
    """
    if draft is None:
        return AnnualReport(
            agency_name, year, fmt, {}, table3, table4, other_matters=fees_sentence(fees)
        )
    return AnnualReport(
        agency_name,
        year,
        fmt,
        table2_values.for_format(fmt, table2_values.from_json(draft.table2)),
        table3,
        table4,
        overview=draft.overview,
        problems=draft.problems,
        other_matters=with_fees(draft.other_matters, fees),
        issuer=draft.issuer,
        issued_on=draft.issued_on,
    )


# --------------------------------------------------------------------------- queries


def find_draft(session: Session, scope: Scope, year: int) -> ReportDraft | None:
    return session.scalar(
        select(ReportDraft).where(
            ReportDraft.agency_id == scope.agency.id,
            ReportDraft.year == year,
            ReportDraft.with_subordinates.is_(scope.with_subordinates),
        )
    )


#: The only events ``fee_summary`` looks at (the others it passes over).
FEE_TRIGGERS = ("issue_fee_notice", "reduce_fee", "waive_fee", "fee_paid", "void")


def fee_histories_by_agency(
    session: Session, scope: Scope, year: int
) -> dict[int, list[list[Row[Any]]]]:
    """The fee events (``FEE_TRIGGERS``, in order) of the scope's requests with a fee
    notice or a payment in the year: the only ones ``fee_summary`` counts (a payment's
    amount comes from its notice, which may lie in an earlier year and is read too).
    Plain rows of the columns it reads, not ORM objects, and no other events; grouped
    by request, the requests by agency (the tracker checks every agency's section 六
    from this one statement)."""
    start, end = year_bounds(year)
    with_fee = (
        select(Event.request_id)
        .join(Request, Request.id == Event.request_id)
        .where(
            Request.agency_id.in_(scope.agency_ids),
            Event.trigger.in_(("issue_fee_notice", "reduce_fee", "waive_fee", "fee_paid")),
            Event.effective_date.between(start, end),
        )
    )
    events = session.execute(
        select(
            Request.agency_id, Event.request_id, Event.trigger, Event.effective_date, Event.payload
        )
        .join(Request, Request.id == Event.request_id)
        .where(Event.request_id.in_(with_fee), Event.trigger.in_(FEE_TRIGGERS))
        .order_by(Event.request_id, Event.seq)
    )
    found: dict[int, list[list[Row[Any]]]] = {}
    for _, group in groupby(events, key=lambda e: e.request_id):
        history = list(group)
        found.setdefault(history[0].agency_id, []).append(history)
    return found


def fee_histories(session: Session, scope: Scope, year: int) -> list[list[Row[Any]]]:
    """:func:`fee_histories_by_agency` for the whole scope at once."""
    return [h for hs in fee_histories_by_agency(session, scope, year).values() for h in hs]


def report_checks(
    statistics: Statistics,
    report: AnnualReport,
    fees: FeeSummary,
    previous_table2: Mapping[str, Table2Value],
    texts: Mapping[str, str] | None = None,
    table2: Mapping[str, Table2Value] | None = None,
) -> list[Check]:
    """Rules 1–8 of a report: the statistics' checks (1–5), table 二 across years (6),
    the narrative's figures (7) and section 六's fees (8) — the one list the report
    editor and the supervisor's tracker both show.

    ``texts`` / ``table2`` replace the report's own (the editor checks what is on
    the screen, saved or not).
    """
    s = statistics
    if texts is None:
        texts = {name: report.narrative(name) for name in NARRATIVE_FIELDS}
    current = report.table2 if table2 is None else table2
    figures = all_figures(s.table3, s.table4, s.fmt, fees)
    headed = {SECTIONS[name]: text for name, text in texts.items()}
    return [
        *s.checks,
        *table2_values.rule6_checks(s.fmt, current, previous_table2),
        *narrative_checks(headed, figures),
        fee_section_check(texts.get("other_matters", ""), fees),
    ]


@dataclass(frozen=True)
class ReportData:
    """A report with what the editor shows beside it: statistics, draft, fees, checks."""

    report: AnnualReport
    statistics: Statistics
    draft: ReportDraft | None
    fees: FeeSummary
    #: Last year's table 二 (from its draft), for rule 6.
    previous_table2: Mapping[str, Table2Value] = field(default_factory=dict)

    @property
    def sentences(self) -> tuple[Sentence, ...]:
        s = self.statistics
        return sentences(s.table3, s.table4, s.fmt, self.fees)

    def checks(
        self,
        texts: Mapping[str, str] | None = None,
        table2: Mapping[str, Table2Value] | None = None,
    ) -> list[Check]:
        """Rules 1–8 (:func:`report_checks`) of this report."""
        return report_checks(
            self.statistics, self.report, self.fees, self.previous_table2, texts, table2
        )


def load_report(session: Session, scope: Scope, year: int, fmt: str | None = None) -> ReportData:
    """Derive and assemble the report of ``scope`` for ``year``.

    The format is ``fmt`` if given (``--format``), else the draft's override, else the
    format of the year.
    """
    draft = find_draft(session, scope, year)
    fmt = format_for_year(year, fmt or (draft.format if draft else None))
    statistics = derive(session, scope, year, fmt)
    fees = fee_summary(fee_histories(session, scope, year), year)
    return report_data(statistics, draft, find_draft(session, scope, year - 1), fees)


def report_data(
    statistics: Statistics,
    draft: ReportDraft | None,
    previous_draft: ReportDraft | None,
    fees: FeeSummary,
) -> ReportData:
    """The report of ``statistics``' scope and year from its parts, read by the caller:
    ``load_report`` for one agency, the supervisor's tracker for a whole subtree from a
    few set-based statements. Same parts, same report, same checks."""
    s = statistics
    report = compose(s.scope.agency.name, s.year, s.fmt, s.table3, s.table4, fees, draft)
    previous_table2 = table2_values.from_json(previous_draft.table2) if previous_draft else {}
    return ReportData(report, statistics, draft, fees, previous_table2)


def published_annual_report(
    session: Session,
    published: PublishedReport,
    numbers: Mapping[str, Any] | None = None,
    fmt: str | None = None,
    agency_name: str | None = None,
) -> AnnualReport:
    """A published report as frozen: its numbers, with the draft's text and table 二.

    The agency's name is the one it had when it published (``published.agency_name``),
    so a renamed agency's old reports keep their old name. ``numbers``, ``fmt`` and
    ``agency_name`` override the publication's for a correction (更正发布) of it.
    """
    agency = session.get(Agency, published.agency_id)
    if agency is None:
        raise NotFound("发布记录所属机关不存在")
    scope = Scope.of(agency, published.with_subordinates)
    frozen: Mapping[str, Any] = numbers if numbers is not None else published.numbers
    fees = fee_summary(fee_histories(session, scope, published.year), published.year)
    return compose(
        agency_name or published.agency_name or agency.name,
        published.year,
        fmt or published.format,
        {r: dict(c) for r, c in frozen["table3"].items()},
        {g: dict(c) for g, c in frozen["table4"].items()},
        fees,
        find_draft(session, scope, published.year),
    )


# --------------------------------------------------------------------------- drafts


@dataclass(frozen=True)
class DraftInput:
    """A validated draft form."""

    format: str | None
    overview: str
    problems: str
    other_matters: str
    issuer: str
    issued_on: date | None
    #: Table 二 values of the format the form showed.
    table2: dict[str, Table2Value]


def _text(raw: Mapping[str, str], name: str) -> str:
    """Form text with Windows line ends made plain (browsers post CRLF)."""
    return raw.get(name, "").replace("\r\n", "\n").strip()


def parse_draft(raw: Mapping[str, str], shown_fmt: str) -> DraftInput:
    """Validate a draft form; every mistake at once (ValidationError with field errors).

    ``shown_fmt`` is the format whose table 二 the form displayed (its inputs are named
    ``t2-<cell key>``); the format field may switch the format for the next display.
    """
    errors: dict[str, str] = {}
    fmt = raw.get("format", "").strip() or None
    if fmt is not None and fmt not in FORMATS:
        errors["format"] = "请选择报表格式"
    texts = {name: _text(raw, name) for name in NARRATIVE_FIELDS}
    for name, text in texts.items():
        if len(text) > MAX_NARRATIVE:
            errors[name] = f"不能超过{MAX_NARRATIVE}字"
    issuer = _text(raw, "issuer")
    if len(issuer) > MAX_ISSUER:
        errors["issuer"] = f"不能超过{MAX_ISSUER}字"
    issued_on = None
    issued_text = raw.get("issued_on", "").strip()
    if issued_text:
        try:
            issued_on = date.fromisoformat(issued_text)
        except ValueError:
            errors["issued_on"] = "日期格式应为 年-月-日，如 2020-01-14"
    table2_raw = {
        k.removeprefix(TABLE2_PREFIX): v for k, v in raw.items() if k.startswith(TABLE2_PREFIX)
    }
    table2, table2_errors = table2_values.parse_table2(shown_fmt, table2_raw)
    errors.update({TABLE2_PREFIX + k: v for k, v in table2_errors.items()})
    if errors:
        raise ValidationError(f"有 {len(errors)} 处需要修改", errors)
    return DraftInput(fmt, *texts.values(), issuer, issued_on, table2)


def can_edit(actor: Actor, scope: Scope) -> bool:
    """Editors of the agency itself; a superior agency reads its subordinates' reports."""
    return actor.agency_id == scope.agency.id and bool(actor.roles & EDIT_ROLES)


def save_draft(
    session: Session,
    actor: Actor,
    now: datetime,
    scope: Scope,
    year: int,
    data: DraftInput,
    expected_version: int,
) -> ReportDraft:
    """Create or update the draft; ``expected_version`` is the version the editor saw
    (0 = no draft yet), so a colleague's save in between is a conflict, not lost."""
    if not can_edit(actor, scope):
        raise PermissionDenied("只有本机关的管理员、审核人或承办人可以编辑年度报告")
    draft = find_draft(session, scope, year)
    if (draft.version if draft else 0) != expected_version:
        raise ConflictError("年度报告已被他人修改，未保存。页面已显示最新内容，请核对后再保存。")
    if draft is None:
        draft = ReportDraft(
            agency_id=scope.agency.id,
            year=year,
            with_subordinates=scope.with_subordinates,
            table2={},
        )
        session.add(draft)
    draft.format = data.format
    draft.overview, draft.problems = data.overview, data.problems
    draft.other_matters = data.other_matters
    draft.issuer, draft.issued_on = data.issuer, data.issued_on
    # Keep the other format's figures: switching the format back must not lose them.
    draft.table2 = {
        **{k: v for k, v in (draft.table2 or {}).items() if k not in data.table2},
        **table2_values.to_json(data.table2),
    }
    draft.updated_at = naive_utc(now)
    draft.updated_by_id = actor.user_id
    session.flush()
    return draft
