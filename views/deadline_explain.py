"""The "期限如何计算" panel: each deadline with the steps it was computed from.

The steps come from ``Deadlines.trace`` (built by ``workflow.requests.deadlines`` while computing
the dates), so the panel and the printed explanation can never disagree with the date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from workflow.requests.deadline_trace import TraceStep
from workflow.requests.deadlines import DEADLINE_NAMES, Deadlines

LABELS: dict[str, str] = {
    "supplement_notice_due": "补正告知期限",
    "reply_due": "答复期限",
    "consultation_due": "征求意见期限",
    "fee_due": "缴费期限",
}
assert set(LABELS) == set(DEADLINE_NAMES)


@dataclass(frozen=True)
class Explained:
    name: str
    label: str
    day: date | None
    steps: tuple[TraceStep, ...]
    provisional: bool
    presumed: bool


def explain(deadlines: Deadlines) -> list[Explained]:
    """Every deadline the request has now, in the panel's order, with its steps."""
    return [
        Explained(
            name,
            LABELS[name],
            getattr(deadlines, name),
            tuple(deadlines.trace[name]),
            name in deadlines.provisional,
            name in deadlines.presumed,
        )
        for name in DEADLINE_NAMES
        if name in deadlines.trace
    ]
