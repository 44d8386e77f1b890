"""The outcome catalogue (docs/domain.md §4): every conclusion carries exactly one code.

Each outcome names its label in the report, the article relied on and the row it is
counted under in each national format. The decide form, the reply notices, the
statistics and the report layouts all read this table.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The two national report formats (docs/domain.md §7).
FORMATS: tuple[str, ...] = ("2019", "2021")


@dataclass(frozen=True)
class OutcomeGroup:
    code: str
    label: str


GROUPS: tuple[OutcomeGroup, ...] = (
    OutcomeGroup("disclosed", "（一）予以公开"),
    OutcomeGroup("partially_disclosed", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"),
    OutcomeGroup("withheld", "（三）不予公开"),
    OutcomeGroup("unavailable", "（四）无法提供"),
    OutcomeGroup("not_processed", "（五）不予处理"),
    OutcomeGroup("other", "（六）其他处理"),
)
GROUP_BY_CODE: dict[str, OutcomeGroup] = {g.code: g for g in GROUPS}


@dataclass(frozen=True)
class Outcome:
    code: str
    #: The row label in the report (for sub-rows, without the group label).
    label: str
    #: Short name for lists and timelines.
    short: str
    basis: str
    #: Whether a decide may choose it; lapses are concluded by their own events.
    decidable: bool = True

    @property
    def group(self) -> OutcomeGroup:
        return GROUP_BY_CODE[self.code.split(".")[0]]

    def row_key(self, fmt: str) -> str:
        """The JSON/layout row this outcome is counted under in ``fmt``.

        The 2019 format has a single (六)其他处理 row for the three ``other.*`` codes.
        """
        if fmt == "2019" and self.code.startswith("other."):
            return "other"
        return self.code


OUTCOMES: tuple[Outcome, ...] = (
    Outcome("disclosed", "（一）予以公开", "予以公开", "第三十六条第（一）项、第（二）项"),
    Outcome(
        "partially_disclosed",
        "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
        "部分公开",
        "第三十七条",
    ),
    Outcome("withheld.state_secret", "1.属于国家秘密", "不予公开·国家秘密", "第十四条"),
    Outcome(
        "withheld.prohibited_by_law",
        "2.其他法律行政法规禁止公开",
        "不予公开·法律法规禁止",
        "第十四条",
    ),
    Outcome(
        "withheld.security_stability",
        "3.危及“三安全一稳定”",
        "不予公开·三安全一稳定",
        "第十四条",
    ),
    Outcome(
        "withheld.third_party",
        "4.保护第三方合法权益",
        "不予公开·第三方合法权益",
        "第十五条",
    ),
    Outcome(
        "withheld.internal_affairs",
        "5.属于三类内部事务信息",
        "不予公开·内部事务信息",
        "第十六条第一款",
    ),
    Outcome(
        "withheld.process_information",
        "6.属于四类过程性信息",
        "不予公开·过程性信息",
        "第十六条第二款",
    ),
    Outcome(
        "withheld.enforcement_file",
        "7.属于行政执法案卷",
        "不予公开·行政执法案卷",
        "第十六条第二款",
    ),
    Outcome(
        "withheld.administrative_query",
        "8.属于行政查询事项",
        "不予公开·行政查询事项",
        "第三十六条第（七）项",
    ),
    Outcome(
        "unavailable.not_held",
        "1.本机关不掌握相关政府信息",
        "无法提供·本机关不掌握",
        "第三十六条第（四）项、第（五）项",
    ),
    Outcome(
        "unavailable.needs_creation",
        "2.没有现成信息需要另行制作",
        "无法提供·需另行制作",
        "第三十八条",
    ),
    Outcome(
        "unavailable.still_unclear",
        "3.补正后申请内容仍不明确",
        "无法提供·补正后仍不明确",
        "第三十条",
    ),
    Outcome(
        "not_processed.petition",
        "1.信访举报投诉类申请",
        "不予处理·信访举报投诉",
        "第三十九条第一款",
    ),
    Outcome("not_processed.duplicate", "2.重复申请", "不予处理·重复申请", "第三十六条第（六）项"),
    Outcome(
        "not_processed.publication",
        "3.要求提供公开出版物",
        "不予处理·公开出版物",
        "第三十九条第二款",
    ),
    Outcome(
        "not_processed.excessive",
        "4.无正当理由大量反复申请",
        "不予处理·大量反复申请",
        "第三十五条",
    ),
    Outcome(
        "not_processed.confirmation",
        "5.要求行政机关确认或重新出具已获取信息",
        "不予处理·要求确认或重新出具",
        "—",
    ),
    Outcome(
        "other.supplement_lapsed",
        "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
        "其他处理·逾期不补正",
        "第三十条",
        decidable=False,
    ),
    Outcome(
        "other.fee_lapsed",
        "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
        "其他处理·逾期未缴费",
        "第四十二条",
        decidable=False,
    ),
    Outcome("other.other", "3.其他", "其他处理", "—"),
)

OUTCOME_BY_CODE: dict[str, Outcome] = {o.code: o for o in OUTCOMES}
DECIDABLE_OUTCOMES: tuple[Outcome, ...] = tuple(o for o in OUTCOMES if o.decidable)

#: Outcomes set by their own lifecycle events rather than chosen in ``decide``.
OUTCOME_OF_TRIGGER: dict[str, str] = {
    "supplement_lapsed": "other.supplement_lapsed",
    "fee_lapsed": "other.fee_lapsed",
    "withdraw": "other.other",
}

#: Refusals (不予公开): since 2024 reconsideration comes before a lawsuit.
REFUSAL_GROUP = "withheld"


def outcome_from_text(text: str) -> Outcome | None:
    """Resolve a code, a report label or a short name (ledgers use any of them)."""
    value = text.strip()
    if value in OUTCOME_BY_CODE:
        return OUTCOME_BY_CODE[value]
    for outcome in OUTCOMES:
        if value in (outcome.label, outcome.short) or value == outcome.label.split(".", 1)[-1]:
            return outcome
    for group in GROUPS:
        if value in (group.code, group.label) and group.code in OUTCOME_BY_CODE:
            return OUTCOME_BY_CODE[group.code]
    return None


def _validate() -> None:
    """Fail at import if the table contradicts itself (a typo here would skew every report)."""
    codes = [o.code for o in OUTCOMES]
    assert len(codes) == len(set(codes)), "duplicate outcome code"
    for outcome in OUTCOMES:
        assert outcome.code.split(".")[0] in GROUP_BY_CODE, outcome.code
    for code in OUTCOME_OF_TRIGGER.values():
        assert code in OUTCOME_BY_CODE, code


_validate()
