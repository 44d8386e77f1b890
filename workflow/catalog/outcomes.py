"""The outcome catalogue (docs/domain.md §4): every conclusion carries exactly one code.

Each outcome names its label in the report, the article relied on, the row it is
counted under in each national format, the facts a decision must carry to stand up in
a reconsideration or a court (reasons, the law relied on, the agency responsible …),
and whether the reconsideration-first rule applies to it. The decide form, its guards,
the reply notices, the statistics and the report layouts all read this table
(docs/domain.md §19).
"""

from __future__ import annotations

from dataclasses import dataclass

from workflow.catalog.fees import FEE_LAPSE_RULE

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
class DecisionFact:
    """A fact the decide payload must carry for some outcomes (a reply states it)."""

    #: The decide payload field holding it.
    field: str
    label: str
    #: The article and item that requires it.
    source: str
    #: What a clerk reads when it is missing.
    refusal: str


DECISION_FACTS: tuple[DecisionFact, ...] = (
    DecisionFact(
        "grounds",
        "理由",
        "《条例》第三十六条第（三）项、第三十七条",
        "不予公开（含部分公开中不予公开的部分）必须说明理由：请在“理由”中写明不予公开的理由"
        "（《条例》第三十六条第（三）项、第三十七条）",
    ),
    DecisionFact(
        "legal_provision",
        "禁止公开的法律、行政法规及条款",
        "《条例》第十四条、第三十六条第（三）项",
        "以“其他法律、行政法规禁止公开”为由不予公开的，须写明该法律或行政法规的名称及条款"
        "（如《中华人民共和国统计法》第二十五条）",
    ),
    DecisionFact(
        "secret_basis",
        "定密依据",
        "《条例》第十四条、第三十六条第（三）项；《保守国家秘密法》",
        "以“属于国家秘密”为由不予公开的，须写明定密依据（定密机关、密级或定密文件），"
        "依法不能告知的请写明“定密依据依法不予告知”",
    ),
    DecisionFact(
        "responsible_agency",
        "负责公开该信息的机关",
        "《条例》第三十六条第（五）项",
        "本机关不负责公开该信息的，须写明负责公开该政府信息的行政机关名称（《条例》第三十六条第（五）项）",
    ),
    DecisionFact(
        "responsible_contact",
        "该机关的联系方式",
        "《条例》第三十六条第（五）项",
        "本机关不负责公开该信息的，须写明负责公开该政府信息的行政机关的联系方式"
        "（《条例》第三十六条第（五）项）",
    ),
    DecisionFact(
        "publication_route",
        "获取的方式、途径",
        "《条例》第三十六条第（一）项、第三十九条第二款",
        "信息已经主动公开或属于公开出版物的，须告知获取的方式、途径（如网址、公报期号、"
        "出版物名称及获取地点）",
    ),
    DecisionFact(
        "referral_procedure",
        "应依照办理的法律、行政法规及程序",
        "《条例》第三十六条第（七）项",
        "属于行政查询事项的，须写明有关法律、行政法规及申请人应依照办理的程序"
        "（如《不动产登记资料查询暂行办法》规定的不动产登记资料查询）",
    ),
)
DECISION_FACT_BY_FIELD: dict[str, DecisionFact] = {f.field: f for f in DECISION_FACTS}


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
    #: Fields of DECISION_FACTS a decision with this outcome must carry.
    requires: tuple[str, ...] = ()
    #: 行政复议法 Art. 23 para 1 item (四): a refusal (不予公开) goes to reconsideration
    #: before a court, for decisions dated from RECONSIDERATION_FIRST_FROM.
    reconsideration_first: bool = False
    #: Another outcome whose report row this one is counted in (two answers, one row).
    counted_as: str | None = None
    #: For outcomes sharing a row: which answer this is, as the decide form offers it.
    answer: str = ""
    #: A rule outside the Regulation the reply cites beside ``basis``, quoted.
    also_relies_on: str = ""

    @property
    def group(self) -> OutcomeGroup:
        return GROUP_BY_CODE[self.code.split(".")[0]]

    @property
    def required_facts(self) -> tuple[DecisionFact, ...]:
        return tuple(DECISION_FACT_BY_FIELD[f] for f in self.requires)

    def row_key(self, fmt: str) -> str:
        """The JSON/layout row this outcome is counted under in ``fmt``.

        The 2019 format has a single (六)其他处理 row for the three ``other.*`` codes; an
        outcome with ``counted_as`` shares the row of that outcome (36(四) and 36(五) are
        both (四)1, 36(一) and 36(二) both (一)).
        """
        if self.counted_as:
            return OUTCOME_BY_CODE[self.counted_as].row_key(fmt)
        if fmt == "2019" and self.code.startswith("other."):
            return "other"
        return self.code


_REASONS = ("grounds",)

OUTCOMES: tuple[Outcome, ...] = (
    # 36(二): the information can be disclosed and is provided.
    Outcome(
        "disclosed",
        "（一）予以公开",
        "予以公开",
        "第三十六条第（二）项",
        answer="向申请人提供",
    ),
    # 36(一): already published: the reply tells where and how to get it.
    Outcome(
        "disclosed.published",
        "（一）予以公开",
        "予以公开·已主动公开",
        "第三十六条第（一）项",
        requires=("publication_route",),
        counted_as="disclosed",
        answer="已主动公开，告知获取的方式、途径",
    ),
    Outcome(
        "partially_disclosed",
        "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
        "部分公开",
        "第三十七条",
        requires=_REASONS,
        reconsideration_first=True,
    ),
    Outcome(
        "withheld.state_secret",
        "1.属于国家秘密",
        "不予公开·国家秘密",
        "第十四条",
        requires=("grounds", "secret_basis"),
        reconsideration_first=True,
    ),
    Outcome(
        "withheld.prohibited_by_law",
        "2.其他法律行政法规禁止公开",
        "不予公开·法律法规禁止",
        "第十四条",
        requires=("grounds", "legal_provision"),
        reconsideration_first=True,
    ),
    Outcome(
        "withheld.security_stability",
        "3.危及“三安全一稳定”",
        "不予公开·三安全一稳定",
        "第十四条",
        requires=_REASONS,
        reconsideration_first=True,
    ),
    Outcome(
        "withheld.third_party",
        "4.保护第三方合法权益",
        "不予公开·第三方合法权益",
        "第十五条",
        requires=_REASONS,
        reconsideration_first=True,
    ),
    Outcome(
        "withheld.internal_affairs",
        "5.属于三类内部事务信息",
        "不予公开·内部事务信息",
        "第十六条第一款",
        requires=_REASONS,
        reconsideration_first=True,
    ),
    Outcome(
        "withheld.process_information",
        "6.属于四类过程性信息",
        "不予公开·过程性信息",
        "第十六条第二款",
        requires=_REASONS,
        reconsideration_first=True,
    ),
    Outcome(
        "withheld.enforcement_file",
        "7.属于行政执法案卷",
        "不予公开·行政执法案卷",
        "第十六条第二款",
        requires=_REASONS,
        reconsideration_first=True,
    ),
    # 36(七) is a referral to the special access procedure, not a refusal: counted in
    # (三)8 but not subject to reconsideration first (docs/domain.md §19).
    Outcome(
        "withheld.administrative_query",
        "8.属于行政查询事项",
        "不予公开·行政查询事项",
        "第三十六条第（七）项",
        requires=("grounds", "referral_procedure"),
    ),
    # 36(四): the information does not exist.
    Outcome(
        "unavailable.not_held",
        "1.本机关不掌握相关政府信息",
        "无法提供·信息不存在",
        "第三十六条第（四）项",
        answer="该政府信息不存在",
    ),
    # 36(五): another agency is responsible for disclosing it: reasons, its name, contact.
    Outcome(
        "unavailable.not_responsible",
        "1.本机关不掌握相关政府信息",
        "无法提供·非本机关负责公开",
        "第三十六条第（五）项",
        requires=("grounds", "responsible_agency", "responsible_contact"),
        counted_as="unavailable.not_held",
        answer="非本机关负责公开，告知负责公开的机关",
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
        requires=("publication_route",),
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
        also_relies_on=FEE_LAPSE_RULE,
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

#: Outcomes whose remedies are reconsideration first (行政复议法 Art. 23 para 1 item (四)):
#: every 不予公开 but the 36(七) referral, and 部分公开, whose withheld part is a refusal.
RECONSIDERATION_FIRST_CODES: frozenset[str] = frozenset(
    o.code for o in OUTCOMES if o.reconsideration_first
)


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
    for outcome in OUTCOMES:
        assert set(outcome.requires) <= set(DECISION_FACT_BY_FIELD), outcome.code
        if outcome.counted_as:
            counted = OUTCOME_BY_CODE[outcome.counted_as]
            assert counted.counted_as is None and counted.group == outcome.group, outcome.code
            assert outcome.answer and counted.answer, f"{outcome.code}: two answers, one row"
        if outcome.group.code == "withheld" or outcome.code == "partially_disclosed":
            assert "grounds" in outcome.requires, f"{outcome.code}: Art. 36(三)/37 reasons"


_validate()
