"""The figures the narrative sections quote, as insertable sentences, and rule 7.

Real reports often say one number in the text and print another in the table (docs/domain.md §6
rule 7). Here the narrative is offered the derived figures as ready-made sentences, and
every sentence is built from ``Figure`` objects: a figure knows the phrases that
introduce it ("予以公开"), its value and unit, and the table cells it comes from. The
same figures parse the text back: wherever a phrase is followed by a number and the unit
("予以公开3件"), the number must equal the figure, or a failed ``Check`` names the
section, the quoted text and the table value. Generating and checking from one list
means a sentence the system wrote can never fail its own check.

Also here: the year's information-processing fees for section 六 (docs/domain.md §8), folded from
the request events.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from workflow.catalog.outcomes import GROUPS, OUTCOME_BY_CODE
from workflow.kernel.guards import EventLike
from workflow.statistics.fold import Check, year_bounds
from workflow.statistics.layouts.table3 import (
    CARRIED_FORWARD,
    CARRIED_OVER,
    NEW_RECEIVED,
    TOTAL,
    TOTAL_CONCLUDED,
    table3_layout,
)
from workflow.statistics.layouts.table4 import TABLE4_LAYOUT
from workflow.statistics.layouts.table4 import TOTAL as T4_TOTAL

RULE_7 = "规则7：叙述部分引用的数字 = 表中数字"

#: The narrative sections, by draft field, with their headings (docs/domain.md §7).
SECTIONS: dict[str, str] = {
    "overview": "一、总体情况",
    "problems": "五、存在的主要问题及改进情况",
    "other_matters": "六、其他需要报告的事项",
}

#: How a report says a case of each table 四 heading was brought against the agency.
_CHALLENGE_VERBS: dict[str, str] = {"行政复议": "被申请", "行政诉讼": "提起"}

Table = Mapping[str, Mapping[str, int]]


@dataclass(frozen=True)
class Figure:
    """A number the narrative may quote, with the phrases that introduce it.

    ``phrases[0]`` is the one the generated sentence uses; the others are common
    alternatives a clerk may write, checked just the same.
    """

    phrases: tuple[str, ...]
    value: int
    unit: str
    cells: tuple[str, ...]

    @property
    def text(self) -> str:
        return f"{self.phrases[0]}{self.value}{self.unit}"


def _cell(table: Table, row: str, column: str) -> int:
    return int(table.get(row, {}).get(column, 0))


def group_name(label: str) -> str:
    """ "（三）不予公开" → "不予公开"; "（二）部分公开（区分处理的…）" → "部分公开"."""
    return re.sub(r"（[^）]*）$", "", re.sub(r"^（[一二三四五六七八九十]+）", "", label))


# --------------------------------------------------------------------------- requests


def request_figures(t3: Table, fmt: str) -> dict[str, Figure]:
    """Table 三's totals and its six result groups (total column), by name."""
    layout = table3_layout(fmt)

    def figure(phrases: tuple[str, ...], row: str) -> Figure:
        return Figure(phrases, _cell(t3, row, TOTAL), "件", (f"{row}.{TOTAL}",))

    figures = {
        "new": figure(("收到政府信息公开申请", "新收政府信息公开申请"), NEW_RECEIVED),
        "over": figure(("上年结转",), CARRIED_OVER),
        "concluded": figure(("办结",), TOTAL_CONCLUDED),
    }
    rows_by_group: dict[str, list[str]] = {}
    for row in layout.outcome_rows:
        group = OUTCOME_BY_CODE[row.outcome_codes[0]].group.code
        rows_by_group.setdefault(group, []).append(row.key)
    for group in GROUPS:
        rows = rows_by_group.get(group.code, [])
        figures[group.code] = Figure(
            (group_name(group.label),),
            sum(_cell(t3, r, TOTAL) for r in rows),
            "件",
            tuple(f"{r}.{TOTAL}" for r in rows),
        )
    figures["forward"] = figure(("结转下年度继续办理", "结转下年度"), CARRIED_FORWARD)
    return figures


def requests_sentence(t3: Table, fmt: str) -> str:
    """本年度共收到政府信息公开申请10件，上年结转0件，办结10件，其中予以公开1件、…，
    结转下年度继续办理0件。 (result groups with no request are left out)"""
    f = request_figures(t3, fmt)
    parts = [f"本年度共{f['new'].text}", f["over"].text, f["concluded"].text]
    results = [f[g.code].text for g in GROUPS if f[g.code].value]
    if results:
        parts[-1] += "，其中" + "、".join(results)
    parts.append(f["forward"].text)
    return "，".join(parts) + "。"


# --------------------------------------------------------------------------- challenges


def challenge_figures(t4: Table) -> dict[str, Figure]:
    """Table 四's totals: per heading (行政复议 / 行政诉讼), per route, and per heading and
    result column ("行政诉讼结果维持"), by name."""
    figures: dict[str, Figure] = {}
    headings: dict[str, list[str]] = {}
    for group in TABLE4_LAYOUT.groups:
        headings.setdefault(group.path[0], []).append(group.key)
        if len(group.path) > 1:
            figures[group.key] = Figure(
                (group.path[-1],), _cell(t4, group.key, T4_TOTAL), "件", (f"{group.key}.total",)
            )
    for heading, keys in headings.items():
        verb = _CHALLENGE_VERBS.get(heading, "")
        figures[heading] = Figure(
            (f"{verb}{heading}", heading) if verb else (heading,),
            sum(_cell(t4, k, T4_TOTAL) for k in keys),
            "件",
            tuple(f"{k}.{T4_TOTAL}" for k in keys),
        )
        for column in TABLE4_LAYOUT.columns:
            if column.key == T4_TOTAL:
                continue
            figures[f"{heading}.{column.key}"] = Figure(
                (f"{heading}{column.label}",),
                sum(_cell(t4, k, column.key) for k in keys),
                "件",
                tuple(f"{k}.{column.key}" for k in keys),
            )
    return figures


def challenges_sentence(t4: Table) -> str:
    """本年度因政府信息公开被申请行政复议0件、提起行政诉讼2件（其中未经复议直接起诉2件、
    复议后起诉0件）；行政诉讼结果维持2件。"""
    f = challenge_figures(t4)
    headings = list(dict.fromkeys(g.path[0] for g in TABLE4_LAYOUT.groups))
    parts = []
    for heading in headings:
        text = f[heading].text
        routes = [g.key for g in TABLE4_LAYOUT.groups if g.path[0] == heading and len(g.path) > 1]
        if routes and f[heading].value:
            text += "（其中" + "、".join(f[r].text for r in routes) + "）"
        parts.append(text)
    sentence = "本年度因政府信息公开" + "、".join(parts)
    results = [
        f[f"{h}.{c.key}"].text
        for h in headings
        for c in TABLE4_LAYOUT.columns
        if c.key != T4_TOTAL and f[f"{h}.{c.key}"].value
    ]
    if results:
        sentence += "；" + "、".join(results)
    return sentence + "。"


# --------------------------------------------------------------------------- fees


@dataclass(frozen=True)
class FeeSummary:
    """Information-processing fees of a year: notices issued and fees actually paid."""

    year: int
    notices: int
    charged: int
    paid: int
    collected: int
    #: Fees waived or reduced in the year (each an event with its reason).
    relieved: int = 0

    @property
    def recorded(self) -> bool:
        """Whether the system recorded any fee activity in the year."""
        return bool(self.notices or self.paid or self.relieved)


def fee_summary(histories: Iterable[Sequence[EventLike]], year: int) -> FeeSummary:
    """Fold each request's events (in order) into the year's fee figures.

    Charged: every ``issue_fee_notice`` with an effective date in the year, by its
    amount. Collected: every ``fee_paid`` in the year, at the amount it answers (the
    latest notice's, or the latest reduction's). Relieved: every ``reduce_fee`` and
    ``waive_fee`` in the year. A voided request counts nowhere, as in every
    other statistic; nor does a notice without an amount (an imported ledger's fee lapse
    whose notice it does not hold, docs/domain.md §11.2).
    """
    start, end = year_bounds(year)
    notices = charged = paid = collected = relieved = 0
    for events in histories:
        if any(e.trigger == "void" for e in events):
            continue
        amount = 0
        for event in events:
            inside = start <= event.effective_date <= end
            if event.trigger == "issue_fee_notice":
                amount = int(event.payload.get("amount") or 0)
                if inside and amount:  # no amount: a notice a ledger implies, not a fee
                    notices += 1
                    charged += amount
            elif event.trigger == "reduce_fee":
                amount = int(event.payload.get("amount") or 0)
                relieved += inside
            elif event.trigger == "waive_fee":
                amount = 0
                relieved += inside
            elif event.trigger == "fee_paid" and inside:
                paid += 1
                collected += amount
    return FeeSummary(year, notices, charged, paid, collected, relieved)


def fee_figures(fees: FeeSummary) -> dict[str, Figure]:
    return {
        "notices": Figure(("发出信息处理费收费通知",), fees.notices, "件", ("fees.notices",)),
        "charged": Figure(("收费金额合计",), fees.charged, "元", ("fees.charged",)),
        "paid": Figure(("申请人实际缴纳",), fees.paid, "件", ("fees.paid",)),
        "collected": Figure(("实收金额合计",), fees.collected, "元", ("fees.collected",)),
        "relieved": Figure(("减免信息处理费",), fees.relieved, "件", ("fees.relieved",)),
    }


def fees_sentence(fees: FeeSummary) -> str:
    """Section 六's fee paragraph (docs/domain.md §8: fees charged and collected in the year)."""
    if not fees.recorded:
        return "本年度未收取政府信息公开信息处理费。"
    f = fee_figures(fees)
    relieved = f"；{f['relieved'].text}" if fees.relieved else ""
    return (
        f"本年度共{f['notices'].text}，{f['charged'].text}；"
        f"{f['paid'].text}，{f['collected'].text}{relieved}。"
    )


#: The rule the 六 check reports under (30号: 六 reports the fees collected).
FEE_RULE = "规则8：六、其他需要报告的事项应报告本年度信息处理费"
#: What marks a 六 as reporting the fees: the generated sentence's own words.
_FEE_MARK = "信息处理费"


def with_fees(other_matters: str, fees: FeeSummary) -> str:
    """Section 六 as published: the draft's text, with the fee sentence when it lacks one.

    An empty 六 is the fee sentence; a 六 the office wrote that does not report the fees
    the system recorded gets the sentence appended, so the published report always
    carries the year's fee figures (国办公开办函〔2021〕30号). The editor's check
    (:func:`fee_section_check`) tells the office before that happens.
    """
    text = other_matters.strip()
    if not text:
        return fees_sentence(fees)
    if fees.recorded and _FEE_MARK not in text:
        return f"{text}\n{fees_sentence(fees)}"
    return text


def fee_section_check(other_matters: str, fees: FeeSummary) -> Check:
    """Flags a 六 that omits the fees the system recorded (an empty 六 gets them)."""
    text = other_matters.strip()
    if not fees.recorded:
        return Check(FEE_RULE, True, "本年度系统未记录信息处理费", ())
    if not text or _FEE_MARK in text:
        return Check(FEE_RULE, True, "六、其他需要报告的事项已报告信息处理费", ())
    return Check(
        FEE_RULE,
        False,
        f"六、其他需要报告的事项未报告信息处理费，系统记录：{fees_sentence(fees)}"
        "（发布时将自动补入该句）",
        ("fees.notices", "fees.charged"),
    )


# --------------------------------------------------------------------------- rule 7


@dataclass(frozen=True)
class Sentence:
    """An insertable sentence for the editor: its name, button label and text."""

    key: str
    label: str
    text: str


def sentences(t3: Table, t4: Table, fmt: str, fees: FeeSummary) -> tuple[Sentence, ...]:
    """Every derived sentence the editor offers, in the order of the report."""
    return (
        Sentence("requests", "申请办理情况", requests_sentence(t3, fmt)),
        Sentence("challenges", "复议诉讼情况", challenges_sentence(t4)),
        Sentence("fees", "信息处理费", fees_sentence(fees)),
    )


def all_figures(t3: Table, t4: Table, fmt: str, fees: FeeSummary) -> list[Figure]:
    return [
        *request_figures(t3, fmt).values(),
        *challenge_figures(t4).values(),
        *fee_figures(fees).values(),
    ]


def narrative_checks(texts: Mapping[str, str], figures: Sequence[Figure]) -> list[Check]:
    """docs/domain.md §6 rule 7: every quoted figure in the narrative equals the table.

    ``texts`` maps a section heading to its text. One check per quotation found; when
    nothing is quoted, a single passing check says so (the page lists every rule).
    """
    found: list[tuple[str, int, Check]] = []
    seen: set[tuple[str, int]] = set()
    for section, text in texts.items():
        for figure in figures:
            for phrase in figure.phrases:
                pattern = re.escape(phrase) + r"\s*(\d+)\s*" + re.escape(figure.unit)
                for match in re.finditer(pattern, text):
                    if (section, match.end()) in seen:
                        continue  # an alias matched the same quotation
                    seen.add((section, match.end()))
                    quoted = int(match.group(1))
                    detail = f"{section}：“{match.group(0)}”，表中为{figure.value}{figure.unit}"
                    check = Check(RULE_7, quoted == figure.value, detail, figure.cells)
                    found.append((section, match.start(), check))
    if not found:
        return [Check(RULE_7, True, "叙述部分未引用统计数字", ())]
    order = list(texts)
    found.sort(key=lambda item: (order.index(item[0]), item[1]))
    return [check for _, _, check in found]
