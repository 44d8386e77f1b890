"""The supervisor's view (条例 Art. 3–4, 49): every agency below, for a chosen period.

A superior agency's 政务公开办 supervises the agencies below it: how many requests each
received and concluded, how many are open and overdue, how late and how fast it replies,
what it answered, and how often a reconsideration or court corrected it. The
definitions are in docs/domain.md §17.

Every figure is a set-based statement over the whole subtree, grouped by agency — never
one statement per agency (a province has hundreds): the projection's facts
(``request_facts``, one grouped statement for the receipts, one for the conclusions),
the overdue requests (one grouped statement over the stored clocks), and the cases with
their events (one statement; cases are few). The conditions that count a figure are
the same expressions that list the requests behind it (``measure_condition``, used by
the request list's filter), so a number and its list cannot disagree.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from models import Agency, Challenge, ChallengeEvent, Request, RequestFacts
from workflow.catalog.outcomes import GROUPS
from workflow.kernel.calendar import WorkingCalendar
from workflow.kernel.errors import ValidationError
from workflow.requests.clocks import overdue_condition
from workflow.statistics.challenges import CaseEvent, facts_at
from workflow.statistics.layouts.table4 import group_for
from workflow.statistics.month_counts import RECEIVED, month_totals

#: The request sets a figure of the table counts, by the code a link names (``measure=``).
#: Overdue is not here: it is "now", whatever the period (the list's own ``overdue`` filter).
MEASURES: dict[str, str] = {
    "received": "本期收到",
    "concluded": "本期办结",
    "open": "期末在办",
    "replied": "本期答复",
    "late": "逾期答复",
    "challenged": "本期被申请复议、提起诉讼",
    "challenge_concluded": "本期复议、诉讼审结",
    "corrected": "本期被纠错",
}
#: The measures counted from the challenge logs (the others from ``request_facts``).
CASE_MEASURES = frozenset({"challenged", "challenge_concluded", "corrected"})
#: The name of the table's total row.
TOTAL_NAME = "合计"
#: The longest period a supervisor may ask for (a table, not a history dump).
MAX_PERIOD_DAYS = 366 * 5


@dataclass(frozen=True)
class Period:
    """A stretch of days, both ends included."""

    start: date
    end: date

    @classmethod
    def of_year(cls, year: int, today: date) -> Period:
        """The calendar year, up to ``today`` while it runs."""
        return cls(date(year, 1, 1), min(date(year, 12, 31), max(today, date(year, 1, 1))))

    @classmethod
    def parse(cls, start: str | None, end: str | None, today: date) -> Period:
        """The period typed in; empty ends default to this year up to today.

        Raises ``ValidationError`` with a Chinese message for a malformed date, an end
        before the start, or a period longer than five years.
        """
        default = cls.of_year(today.year, today)
        start_day = _day(start, "开始日期") or default.start
        end_day = _day(end, "结束日期") or (default.end if start_day <= default.end else start_day)
        if end_day < start_day:
            raise ValidationError("结束日期不能早于开始日期", {"end": "结束日期不能早于开始日期"})
        if (end_day - start_day).days > MAX_PERIOD_DAYS:
            raise ValidationError("统计期间最长五年", {"end": "统计期间最长五年"})
        return cls(start_day, end_day)

    @property
    def label(self) -> str:
        return f"{self.start.isoformat()} 至 {self.end.isoformat()}"


def _day(text: str | None, name: str) -> date | None:
    value = (text or "").strip()
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ValidationError(
            f"{name}格式应为 年-月-日（如 2026-01-31）", {name: "日期格式错误"}
        ) from None
    if not 2000 <= day.year <= 2100:
        raise ValidationError(f"{name}超出范围", {name: "日期超出范围"})
    return day


def _facts_conditions(period: Period, f: Any = RequestFacts) -> dict[str, ColumnElement[bool]]:
    """The request measures over ``request_facts`` (voided requests count nowhere).

    * received: receipt date in the period;
    * concluded: first conclusion in the period (table 三's 办结 rule);
    * open: received by the period's end and not concluded by then (结转 at its end);
    * replied: concluded in the period by a reply (``decide``), not a withdrawal or lapse;
    * late: replied, and the reply was recorded after its deadline.
    """
    concluded = and_(f.concluded_on.between(period.start, period.end), f.outcome.is_not(None))
    replied = and_(concluded, f.reply_days.is_not(None))
    return {
        "received": f.received_on.between(period.start, period.end),
        "concluded": concluded,
        "open": and_(
            f.received_on <= period.end,
            or_(f.concluded_on.is_(None), f.concluded_on > period.end),
        ),
        "replied": replied,
        "late": and_(replied, f.replied_late.is_(True)),
    }


def measure_condition(
    session: Session, measure: str, agency_ids: Iterable[int], period: Period
) -> ColumnElement[bool]:
    """``Request`` rows counted by ``measure`` in ``period`` (the list behind a number)."""
    ids = list(agency_ids)
    if measure in CASE_MEASURES:
        found = case_sets(session, ids, period)[measure]
        request_ids = sorted({rid for by_case in found.values() for rid in by_case.values()})
        return Request.id.in_(request_ids)
    f = RequestFacts
    condition = _facts_conditions(period)[measure]
    return Request.id.in_(
        select(f.request_id).where(f.agency_id.in_(ids), f.voided.is_(False), condition)
    )


# --------------------------------------------------------------------------- cases


def case_sets(
    session: Session, agency_ids: Sequence[int], period: Period
) -> dict[str, dict[int, dict[int, int]]]:
    """Per case measure, per agency: the counted cases (case id → request id).

    * challenged: filed in the period;
    * challenge_concluded: its standing at the period's end is a conclusion within the
      period (an appeal reopens a case, the last result counts, as in table 四);
    * corrected: of those, the result is counted as 纠正 (``RESULTS`` column corrected).
    A case voided at any time counts nowhere. One statement reads every case of the
    agencies that can count (filed by the end, with an event since the start) with its
    events.
    """
    ce = ChallengeEvent
    later = aliased(ChallengeEvent)
    rows = session.execute(
        select(
            Challenge.id,
            Challenge.agency_id,
            Challenge.request_id,
            Challenge.kind,
            Challenge.route,
            ce.trigger,
            ce.effective_date,
            ce.payload["result"].as_string(),
        )
        .join(ce, ce.challenge_id == Challenge.id)
        .where(
            Challenge.agency_id.in_(list(agency_ids)),
            Challenge.filed_on <= period.end,
            exists().where(
                later.challenge_id == Challenge.id, later.effective_date >= period.start
            ),
        )
        .order_by(Challenge.id, ce.seq)
    )
    found: dict[str, dict[int, dict[int, int]]] = {m: defaultdict(dict) for m in CASE_MEASURES}
    for (case_id, agency_id, request_id, kind, route), group in groupby(
        rows, key=itemgetter(0, 1, 2, 3, 4)
    ):
        events = [
            CaseEvent(trigger, day, {} if result is None else {"result": result})
            for *_, trigger, day, result in group
        ]
        if any(e.trigger == "void" for e in events):
            continue
        facts = facts_at(group_for(kind, route), events, period.end)
        if facts is None:
            continue
        if period.start <= facts.filed_on:
            found["challenged"][agency_id][case_id] = request_id
        if facts.concluded_on is not None and facts.concluded_on >= period.start:
            found["challenge_concluded"][agency_id][case_id] = request_id
            if facts.result == "corrected":
                found["corrected"][agency_id][case_id] = request_id
    return found


# --------------------------------------------------------------------------- the table


def share(part: int, whole: int) -> float | None:
    """``part`` of ``whole`` as a fraction; None when there is nothing to divide."""
    return part / whole if whole else None


def median(histogram: Mapping[int, int]) -> float | None:
    """The median of values given as value → how many (None when empty): the middle
    value, or the mean of the two middle values of an even count."""
    total = sum(histogram.values())
    if not total:
        return None
    wanted = ((total - 1) // 2, total // 2)
    found: list[int] = []
    seen = 0
    for value in sorted(histogram):
        n = histogram[value]
        found.extend(value for index in wanted if seen <= index < seen + n)
        seen += n
    return sum(found) / 2


@dataclass(frozen=True)
class AgencyFigures:
    """One row of the supervisor's table (docs/domain.md §17)."""

    agency_id: int
    code: str
    name: str
    #: How far below the supervising agency (0 for itself).
    depth: int
    counts: Mapping[str, int]
    overdue: int
    #: Working days to reply → how many replies.
    reply_days: Mapping[int, int]
    #: Outcome group code → how many conclusions in the period.
    outcomes: Mapping[str, int]

    def count(self, measure: str) -> int:
        return self.counts.get(measure, 0)

    @property
    def late_share(self) -> float | None:
        return share(self.count("late"), self.count("replied"))

    @property
    def median_days(self) -> float | None:
        return median(self.reply_days)

    @property
    def correction_rate(self) -> float | None:
        """纠正率: cases corrected among the cases concluded in the period."""
        return share(self.count("corrected"), self.count("challenge_concluded"))

    def outcome_share(self, group: str) -> float | None:
        return share(self.outcomes.get(group, 0), self.count("concluded"))


@dataclass(frozen=True)
class SupervisionTable:
    root: Agency
    period: Period
    today: date
    rows: list[AgencyFigures]
    total: AgencyFigures = field(repr=False)


#: Sort keys of the table: column code → how a row is ranked (None last).
def _sort_keys() -> dict[str, str]:
    return {"name": "机关", **{c.key: c.label for c in COLUMNS}}


def sort_value(row: AgencyFigures, key: str) -> Any:
    """The value ``key`` ranks ``row`` by (``SORT_KEYS``)."""
    if key == "name":
        return row.code
    if key == "overdue":
        return row.overdue
    if key in ("late_share", "median_days", "correction_rate"):
        return getattr(row, key)
    if key.startswith("outcome:"):
        return row.outcome_share(key.removeprefix("outcome:"))
    return row.count(key)


def sorted_rows(rows: Sequence[AgencyFigures], key: str, descending: bool) -> list[AgencyFigures]:
    """``rows`` by ``key`` (unknown keys: the tree order); empty values always last."""
    if key not in _sort_keys():
        return list(rows)
    present = [r for r in rows if sort_value(r, key) is not None]
    absent = [r for r in rows if sort_value(r, key) is None]
    present.sort(key=lambda r: (sort_value(r, key), r.code), reverse=descending)
    return present + absent


def _depths(session: Session, root_id: int, ids: Sequence[int]) -> dict[int, int]:
    parents = {
        a: parent
        for a, parent in session.execute(
            select(Agency.id, Agency.parent_id).where(Agency.id.in_(ids))
        )
    }
    depth: dict[int, int] = {root_id: 0}
    for agency_id in ids:  # parents come before their children
        if agency_id != root_id:
            depth[agency_id] = depth.get(parents[agency_id], 0) + 1
    return depth


def _summed(parts: Iterable[Mapping[Any, int]]) -> Counter[Any]:
    total: Counter[Any] = Counter()
    for part in parts:
        total.update(part)
    return total


def supervision_table(
    session: Session,
    root: Agency,
    agency_ids: Sequence[int],
    period: Period,
    calendar: WorkingCalendar,
    today: date,
) -> SupervisionTable:
    """The figures of every agency of ``agency_ids`` (``root``'s subtree, parents first)."""
    ids = list(agency_ids)
    f = RequestFacts
    conditions = _facts_conditions(period)
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    # Receipts of the period (and which of them are still open at its end): one range of
    # the covering index (agency, receipt, conclusion, …) per agency.
    for agency_id, received, still_open in session.execute(
        select(f.agency_id, func.count(), func.sum(case((conditions["open"], 1), else_=0)))
        .where(f.agency_id.in_(ids), f.voided.is_(False), conditions["received"])
        .group_by(f.agency_id)
    ):
        counts[agency_id]["received"] += int(received)
        counts[agency_id]["open"] += int(still_open or 0)
    # Received earlier and still open at the period's end. SQLite reads the earlier
    # receipts' entries of the covering index (index-only, like table 三's 上年结转); a
    # UNION over the conclusion index measured slower (bench_supervision.py, 100k).
    for agency_id, still_open in session.execute(
        select(f.agency_id, func.count())
        .where(
            f.agency_id.in_(ids),
            f.voided.is_(False),
            or_(f.concluded_on.is_(None), f.concluded_on > period.end),
            f.received_on < period.start,
        )
        .group_by(f.agency_id)
    ):
        counts[agency_id]["open"] += int(still_open)
    # Conclusions by outcome, reply days and lateness: ix_request_facts_supervision.
    outcomes: dict[int, Counter[str]] = defaultdict(Counter)
    days: dict[int, Counter[int]] = defaultdict(Counter)
    for agency_id, outcome, reply_days, late, n in session.execute(
        select(f.agency_id, f.outcome, f.reply_days, f.replied_late, func.count())
        .where(f.agency_id.in_(ids), f.voided.is_(False), conditions["concluded"])
        .group_by(f.agency_id, f.outcome, f.reply_days, f.replied_late)
    ):
        counts[agency_id]["concluded"] += n
        outcomes[agency_id][outcome.split(".")[0]] += n
        if reply_days is not None:
            counts[agency_id]["replied"] += n
            days[agency_id][reply_days] += n
            if late:
                counts[agency_id]["late"] += n
    overdue = dict(
        session.execute(
            select(Request.agency_id, func.count())
            .where(overdue_condition(session, ids, calendar, today))
            .group_by(Request.agency_id)
        ).all()
    )
    for measure, by_agency in case_sets(session, ids, period).items():
        for agency_id, cases in by_agency.items():
            counts[agency_id][measure] += len(cases)
    agencies = {a.id: a for a in session.scalars(select(Agency).where(Agency.id.in_(ids)))}
    depth = _depths(session, root.id, ids)
    rows = [
        AgencyFigures(
            a,
            agencies[a].code,
            agencies[a].name,
            depth[a],
            counts[a],
            int(overdue.get(a, 0)),
            days[a],
            outcomes[a],
        )
        for a in ids
    ]
    total = AgencyFigures(
        root.id,
        root.code,
        TOTAL_NAME,
        0,
        _summed(r.counts for r in rows),
        sum(r.overdue for r in rows),
        _summed(r.reply_days for r in rows),
        _summed(r.outcomes for r in rows),
    )
    return SupervisionTable(root, period, today, rows, total)


# --------------------------------------------------------------------------- trends


@dataclass(frozen=True)
class Trends:
    """Receipts and conclusions of the subtree: by year, and by month of one year."""

    years: list[int]
    received_by_year: list[int]
    concluded_by_year: list[int]
    year: int
    received_by_month: list[int]
    concluded_by_month: list[int]


def trends(session: Session, agency_ids: Sequence[int], year: int, first_year: int) -> Trends:
    """Year over year from ``first_year`` to ``year``, and ``year`` month by month, from the
    month counts kept with the projection (``workflow.statistics.month_counts``: voided
    requests left out, a conclusion counted in the month of the first one)."""
    years = list(range(first_year, year + 1))
    received: Counter[tuple[int, int]] = Counter()
    concluded: Counter[tuple[int, int]] = Counter()
    for (month, outcome), n in month_totals(session, agency_ids, first_year, year).items():
        (received if outcome == RECEIVED else concluded)[(month.year, month.month)] += n

    def by_year(counts: Counter[tuple[int, int]]) -> list[int]:
        return [sum(n for (y, _m), n in counts.items() if y == year_) for year_ in years]

    return Trends(
        years,
        by_year(received),
        by_year(concluded),
        year,
        [received[(year, m)] for m in range(1, 13)],
        [concluded[(year, m)] for m in range(1, 13)],
    )


# --------------------------------------------------------------------------- columns


@dataclass(frozen=True)
class Column:
    """One column of the table, shared by the page and the XLSX export."""

    key: str
    label: str
    #: "count" (an integer), "share" (a fraction shown as a percentage) or "days".
    kind: str
    #: The request set behind the number (``MEASURES``, "overdue", or None).
    measure: str | None
    #: The outcome group the list behind it is narrowed to.
    outcome: str = ""


def short_group_label(label: str) -> str:
    """ "（二）部分公开（区分处理的…）" → "部分公开"."""
    return label.split("）", 1)[1].split("（")[0]


COLUMNS: tuple[Column, ...] = (
    Column("received", "收到", "count", "received"),
    Column("concluded", "办结", "count", "concluded"),
    Column("open", "期末在办", "count", "open"),
    Column("overdue", "当前逾期", "count", "overdue"),
    Column("replied", "答复", "count", "replied"),
    Column("late", "逾期答复", "count", "late"),
    Column("late_share", "逾期答复率", "share", "late"),
    Column("median_days", "答复用时中位数（工作日）", "days", "replied"),
    *(
        Column(f"outcome:{g.code}", short_group_label(g.label), "share", "concluded", g.code)
        for g in GROUPS
    ),
    Column("challenged", "复议诉讼", "count", "challenged"),
    Column("challenge_concluded", "审结", "count", "challenge_concluded"),
    Column("corrected", "被纠错", "count", "corrected"),
    Column("correction_rate", "纠正率", "share", "corrected"),
)


def column_value(row: AgencyFigures, column: Column) -> int | float | None:
    """The figure of ``row`` in ``column`` (None: nothing to divide or no reply)."""
    value: int | float | None = sort_value(row, column.key)
    return value
