"""The request lifecycle: the transition table of ``workflow.requests.spec`` on the machinery.

One :class:`~workflow.kernel.lifecycle.Lifecycle` for every request; views, operations and
the log check fire it and ask it which actions are open.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from workflow.catalog.states import State
from workflow.kernel import guards as g
from workflow.kernel.lifecycle import Lifecycle, TransitionSpec
from workflow.requests.office import procedure
from workflow.requests.spec import RESTORING_TRIGGERS, TRANSITIONS


@dataclass
class _Row:
    state: str
    received_on: date | None


REQUESTS = Lifecycle(TRANSITIONS, State, start_attribute="received_on", start_label="收到申请日期")
MACHINE = REQUESTS.machine


def fire(record: Any, trigger: str, *, history: Sequence[g.EventLike] = (), **kw: Any) -> Any:
    """:meth:`Lifecycle.fire` judged against the procedure as corrected (the office's own
    entries — assignment, sign-off, corrections — are not steps; ``workflow.requests.office``)."""
    return REQUESTS.fire(record, trigger, history=procedure(history), **kw)


def available_actions(
    state: str,
    received_on: date | None,
    history: Sequence[g.EventLike],
    roles: frozenset[str],
    today: date,
    deadlines: g.DeadlinesLike | None = None,
) -> list[tuple[TransitionSpec, list[str]]]:
    """The request actions possible from ``state`` (not register), with blocking reasons.

    Undoing a reopen is not offered to a request that was never reopened (it would be a
    greyed button on every open request).
    """
    steps = procedure(history)
    reopened = any(e.trigger == "reopen" for e in steps)
    return [
        (spec, reasons)
        for spec, reasons in REQUESTS.available_actions(
            _Row(state, received_on), steps, roles, today, deadlines
        )
        if reopened or spec.trigger not in RESTORING_TRIGGERS
    ]
