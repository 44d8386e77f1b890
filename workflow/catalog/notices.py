"""The documents the system issues (docs/domain.md §9): one kind per documented event.

Each kind names the events it documents (a receipt documents ``register``, a reply the
event that concluded the request) and its Chinese name. The notice model's CHECK
constraint, the issue buttons and ``workflow.notices.operations`` all read this table.
"""

from __future__ import annotations

from dataclasses import dataclass

from workflow.catalog.outcomes import Outcome


@dataclass(frozen=True)
class NoticeKind:
    code: str
    label: str
    #: Triggers of the events this kind documents (the latest such event by default).
    triggers: tuple[str, ...]


NOTICE_KINDS: tuple[NoticeKind, ...] = (
    NoticeKind("receipt", "接收回执", ("register",)),
    NoticeKind("supplement", "补正告知书", ("request_supplement",)),
    NoticeKind("extension", "延期答复告知书", ("extend",)),
    NoticeKind("consultation_third_party", "征求第三方意见书", ("consult_third_party",)),
    NoticeKind("consultation_agency", "征求相关机关意见书", ("consult_agency",)),
    NoticeKind("fee", "收费通知书", ("issue_fee_notice",)),
    NoticeKind("reasons_request", "说明理由告知书", ("request_reasons",)),
    NoticeKind("deferral", "延迟答复告知书", ("defer_reply",)),
    NoticeKind("third_party_disclosure", "公开决定告知书（第三方）", ("notify_third_party",)),
    # A reply documents a decision (also one given on the spot), and the 告知书 that a
    # lapsed request is no longer processed (Art. 30, Art. 42): all conclude with an
    # outcome and remedies.
    NoticeKind(
        "reply", "答复书", ("decide", "answer_on_the_spot", "supplement_lapsed", "fee_lapsed")
    ),
)
NOTICE_KIND_BY_CODE: dict[str, NoticeKind] = {k.code: k for k in NOTICE_KINDS}
NOTICE_KIND_CODES: tuple[str, ...] = tuple(NOTICE_KIND_BY_CODE)

#: Which kind documents an event with this trigger (each trigger has at most one).
#: Letters addressed to someone other than the applicant (the consulted third party or
#: agency, Arts. 32 and 34): the portal never shows them to the applicant.
LETTERS_TO_OTHERS: frozenset[str] = frozenset(
    {"consultation_third_party", "consultation_agency", "third_party_disclosure"}
)

KIND_OF_TRIGGER: dict[str, NoticeKind] = {t: k for k in NOTICE_KINDS for t in k.triggers}


@dataclass(frozen=True)
class ReplyElement:
    """Something every reply (答复书/告知书) of some outcome must state, and its source.

    ``needs`` are the reply's wording facts (the template context) that must be present
    for the element to be stated: issuing refuses a reply missing one
    (workflow.notices.operations). ``phrases`` are words the printed text must contain
    (tests/integration/test_reply_texts.py reads them off every rendered variant).
    """

    code: str
    label: str
    source: str
    needs: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    #: Only for outcomes whose remedies are reconsideration first (Outcome field).
    reconsideration_first_only: bool = False
    #: Only for replies documenting a decision (a lapse notice has no decision form).
    decisions_only: bool = False


#: The elements of every reply, in the order a reply states them.
REPLY_ELEMENTS: tuple[ReplyElement, ...] = (
    ReplyElement(
        "request",
        "申请内容（收到日期、编号、所需信息）",
        "《条例》第二十九条、第三十六条",
        needs=("received_on", "tracking_no", "subject"),
        phrases=("收悉", "您申请获取的政府信息为"),
    ),
    ReplyElement("decision", "答复决定", "《条例》第三十六条", needs=("outcome_code",)),
    ReplyElement(
        "delivery",
        "提供方式（送达方式）",
        "《条例》第四十条",
        needs=("delivery",),
        decisions_only=True,
    ),
    ReplyElement(
        "reconsideration",
        "行政复议机关及期限",
        "《条例》第五十一条；《行政复议法》第二十条、第二十四条、第二十七条",
        needs=("reconsideration_body", "reconsideration_days"),
        phrases=("申请行政复议", "日内"),
    ),
    ReplyElement(
        "lawsuit",
        "管辖法院及起诉期限",
        "《条例》第五十一条；《行政诉讼法》第十八条、第四十五条、第四十六条",
        needs=("court", "lawsuit_months", "lawsuit_after_days"),
        phrases=("提起行政诉讼",),
    ),
    ReplyElement(
        "reconsideration_first",
        "复议前置",
        "《行政复议法》第二十三条第一款第（四）项",
        phrases=("应当先向行政复议机关申请行政复议", "第二十三条第一款第（四）项"),
        reconsideration_first_only=True,
    ),
    ReplyElement(
        "reconsideration_late",
        "复议机关逾期不作决定时的起诉途径",
        "《行政诉讼法》第四十五条",
        phrases=("逾期不作决定", "复议期满之日起"),
    ),
    ReplyElement(
        "complaint",
        "投诉、举报渠道",
        "《条例》第五十一条",
        needs=("complaint_body",),
        phrases=("投诉、举报", "第五十一条"),
    ),
)


def reply_elements(
    outcome: Outcome, *, reconsideration_first: bool, decision: bool = True
) -> tuple[ReplyElement, ...]:
    """What a reply with ``outcome`` must state: the common elements, the article the
    outcome relies on (if it has one), and each fact its decision must carry."""
    common = tuple(
        e
        for e in REPLY_ELEMENTS
        if (reconsideration_first or not e.reconsideration_first_only)
        and (decision or not e.decisions_only)
    )
    article = (
        (ReplyElement("basis", "依据的条款", "《条例》第三十六条、第三十七条", ("basis",)),)
        if outcome.basis not in ("", "—")
        else ()
    )
    if outcome.also_relies_on:
        article += (
            ReplyElement("basis.rule", "所适用的规定", outcome.also_relies_on, ("also_relies_on",)),
        )
    facts = tuple(
        ReplyElement(f"fact.{fact.field}", fact.label, fact.source, (fact.field,))
        for fact in outcome.required_facts
    )
    return common[:2] + article + facts + common[2:]


def _validate() -> None:
    """Fail at import if two kinds claimed one trigger (a notice would be ambiguous)."""
    triggers = [t for k in NOTICE_KINDS for t in k.triggers]
    assert len(triggers) == len(set(triggers)), "a trigger documented by two kinds"


_validate()
