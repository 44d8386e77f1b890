"""Reconsideration and litigation (docs/domain.md §5): kinds, routes, instances and results.

Each detailed result maps to the table 四 column it is counted under (upheld /
corrected / other) and says whether it orders the agency to reply again, which reopens
the request. The three bare column codes are accepted for ledgers that only know them.
"""

from __future__ import annotations

from dataclasses import dataclass

RECONSIDERATION = "reconsideration"
LITIGATION = "litigation"
KINDS: tuple[tuple[str, str], ...] = ((RECONSIDERATION, "行政复议"), (LITIGATION, "行政诉讼"))
KIND_LABELS = dict(KINDS)

DIRECT = "direct"
AFTER_RECONSIDERATION = "after_reconsideration"
ROUTES: tuple[tuple[str, str], ...] = (
    (DIRECT, "未经复议直接起诉"),
    (AFTER_RECONSIDERATION, "复议后起诉"),
)
ROUTE_LABELS = dict(ROUTES)

#: A reconsideration has no 审级 of a court (it is not a 一审): its one "instance" is the
#: 复议 itself; a lawsuit goes 一审 → 二审 (appeal) → 再审 (行政诉讼法 Arts. 85, 90–93).
RECONSIDERATION_INSTANCE = "reconsideration"
COURT_INSTANCES: tuple[tuple[str, str], ...] = (
    ("first", "一审"),
    ("second", "二审"),
    ("retrial", "再审"),
)
INSTANCES: tuple[tuple[str, str], ...] = (*COURT_INSTANCES, (RECONSIDERATION_INSTANCE, "复议"))
INSTANCE_LABELS = dict(INSTANCES)


@dataclass(frozen=True)
class ChallengeResult:
    code: str
    label: str
    #: The table 四 column: upheld / corrected / other.
    column: str
    orders_new_reply: bool = False
    #: None = both kinds; else the only kind this result can conclude.
    kind: str | None = None
    #: None = any instance of its kind; else the only instances that can give it.
    instances: tuple[str, ...] | None = None
    #: Not a conclusion: the case goes back to first instance (发回重审) and stays open.
    #: Recorded by its own transition (``remand``), never offered as a 审结 result.
    remands: bool = False


RESULTS: tuple[ChallengeResult, ...] = (
    ChallengeResult("maintained", "维持", "upheld", kind=RECONSIDERATION),
    ChallengeResult("claims_dismissed", "判决驳回原告诉讼请求", "upheld", kind=LITIGATION),
    ChallengeResult("revoked", "撤销", "corrected"),
    ChallengeResult("revoked_new_reply", "撤销并责令重新答复", "corrected", orders_new_reply=True),
    ChallengeResult("changed", "变更", "corrected"),
    ChallengeResult("confirmed_illegal", "确认违法", "corrected"),
    # 行政复议法 Art. 67, 行政诉讼法 Art. 75: void acts are corrected too.
    ChallengeResult("confirmed_invalid", "确认无效", "corrected"),
    ChallengeResult("ordered_to_perform", "责令履行/重新答复", "corrected", orders_new_reply=True),
    ChallengeResult("application_rejected", "驳回复议申请", "other", kind=RECONSIDERATION),
    # 行政复议法 Art. 69: a merits decision for the agency (no duty breached) → 维持.
    ChallengeResult("request_dismissed", "驳回行政复议请求", "upheld", kind=RECONSIDERATION),
    ChallengeResult("suit_rejected", "裁定驳回起诉", "other", kind=LITIGATION),
    ChallengeResult("withdrawn", "申请人/原告撤回", "other"),
    ChallengeResult("terminated", "终止", "other"),
    ChallengeResult("mediated", "调解", "other"),
    # 行政复议法 Art. 73–74: a settlement ends the case without a decision on the merits.
    ChallengeResult("settled", "和解", "other"),
    # 行政诉讼法 Art. 89 para 1 items (三)/(四): the appeal court sets the judgment aside
    # and sends the case back to the court of first instance; a 再审 court may set the
    # effective judgment aside and send the case back to the court that gave it (一审 or
    # 二审; 最高人民法院关于适用《中华人民共和国行政诉讼法》的解释, 法释〔2018〕1号, Art. 122).
    # Not 纠正 (the agency's act is not judged), no new reply; table 四 counts it under 其他
    # in the year of the ruling.
    ChallengeResult(
        "remanded",
        "裁定撤销原判、发回重审",
        "other",
        kind=LITIGATION,
        instances=("second", "retrial"),
        remands=True,
    ),
    ChallengeResult("upheld", "结果维持", "upheld"),
    ChallengeResult("corrected", "结果纠正", "corrected"),
    ChallengeResult("other", "其他结果", "other"),
)
RESULT_BY_CODE: dict[str, ChallengeResult] = {r.code: r for r in RESULTS}
#: The instances a case of each kind can be in.
INSTANCES_BY_KIND: dict[str, tuple[tuple[str, str], ...]] = {
    RECONSIDERATION: ((RECONSIDERATION_INSTANCE, "复议"),),
    LITIGATION: COURT_INSTANCES,
}


def results_for(kind: str, instance: str | None = None) -> tuple[ChallengeResult, ...]:
    """The results a case of ``kind`` (at ``instance``, when given) can *end* with: 维持 is
    a 复议 result, 判决驳回 a court's; a remand is not an ending (see :data:`REMAND`)."""
    return tuple(
        r
        for r in RESULTS
        if r.kind in (None, kind)
        and not r.remands
        and (instance is None or r.instances is None or instance in r.instances)
    )


#: The one result that sends a case back instead of ending it (transition ``remand``).
REMAND: ChallengeResult = next(r for r in RESULTS if r.remands)


#: Remedy periods (docs/domain.md §5; Art. 51 of the Regulation, 行政复议法, 行政诉讼法).
RECONSIDERATION_DAYS = 60
LAWSUIT_MONTHS = 6
LAWSUIT_AFTER_RECONSIDERATION_DAYS = 15
#: 《行政复议法》第六十二条: the 复议机关 usually decides within 60 days of accepting the
#: application (extendable by 30). Shown for reference only; the law binds the 复议机关.
RECONSIDERATION_DECISION_DAYS = 60
#: From this date a refusal must go to reconsideration first (revised 行政复议法 Art. 23).
RECONSIDERATION_FIRST_FROM = "2024-01-01"
