"""The documents the system issues (docs/domain.md §9): one kind per documented event.

Each kind names the events it documents (a receipt documents ``register``, a reply the
event that concluded the request) and its Chinese name. The notice model's CHECK
constraint, the issue buttons and ``workflow.notices.operations`` all read this table.
"""

from __future__ import annotations

from dataclasses import dataclass


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
KIND_OF_TRIGGER: dict[str, NoticeKind] = {t: k for k in NOTICE_KINDS for t in k.triggers}


def _validate() -> None:
    """Fail at import if two kinds claimed one trigger (a notice would be ambiguous)."""
    triggers = [t for k in NOTICE_KINDS for t in k.triggers]
    assert len(triggers) == len(set(triggers)), "a trigger documented by two kinds"


_validate()
