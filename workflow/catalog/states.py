"""Request states with their Chinese labels (docs/domain.md §3).

``NEW`` is the machine's starting point before ``register``; no stored request is ever
in it, it only lets ``register`` be an ordinary transition of the one machine.
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    NEW = "new"
    REGISTERED = "registered"
    SUPPLEMENT_REQUESTED = "supplement_requested"
    IN_REVIEW = "in_review"
    THIRD_PARTY_CONSULTATION = "third_party_consultation"
    AGENCY_CONSULTATION = "agency_consultation"
    AWAITING_FEE = "awaiting_fee"
    CONCLUDED = "concluded"
    VOIDED = "voided"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS: dict[State, str] = {
    State.NEW: "新建",
    State.REGISTERED: "已登记",
    State.SUPPLEMENT_REQUESTED: "待补正",
    State.IN_REVIEW: "办理中",
    State.THIRD_PARTY_CONSULTATION: "征求第三方意见",
    State.AGENCY_CONSULTATION: "征求相关机关意见",
    State.AWAITING_FEE: "待缴费",
    State.CONCLUDED: "已办结",
    State.VOIDED: "已作废",
}

#: States in which the reply clock is stopped (docs/domain.md §3: consultations and fees).
PAUSED_STATES: frozenset[State] = frozenset(
    {State.THIRD_PARTY_CONSULTATION, State.AGENCY_CONSULTATION, State.AWAITING_FEE}
)

#: States of a request still being handled (anything but concluded / voided).
OPEN_STATES: frozenset[State] = frozenset(
    {
        State.REGISTERED,
        State.SUPPLEMENT_REQUESTED,
        State.IN_REVIEW,
        *PAUSED_STATES,
    }
)

#: States a stored request may be in (everything but the virtual ``NEW``).
STORED_STATES: tuple[State, ...] = tuple(s for s in State if s is not State.NEW)
