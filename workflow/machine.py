"""The one state machine of every request, built once from ``workflow.spec``.

Following DESIGN.md, a single ``transitions.Machine`` with ``model=None`` serves every
row: events are fired at the row (``MACHINE.events[name].trigger(row, ...)``) and the
row's ``state`` attribute is the machine's model attribute. An ``after_state_change``
callback hands the transition to a *sink* (supplied by the caller) that appends the
event, so the state change and its log entry happen in one step and nothing here knows
about databases.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from transitions import EventData, Machine, MachineError

from workflow import guards as g
from workflow.errors import GuardError
from workflow.spec import SPEC_BY_TRIGGER, TRANSITIONS, TransitionSpec
from workflow.states import State


class Stateful(Protocol):
    state: str
    received_on: date | None


@dataclass(frozen=True)
class Transition:
    """What the sink receives: enough to write one event row."""

    trigger: str
    from_state: str | None
    to_state: str


Sink = Callable[[Transition], Any]


def _emit(event: EventData) -> None:
    sink: Sink = event.kwargs["sink"]
    source = event.transition.source
    event.kwargs["result"].append(
        sink(
            Transition(
                trigger=event.event.name,
                from_state=None if source == State.NEW.value else source,
                to_state=event.transition.dest,
            )
        )
    )


MACHINE = Machine(
    model=None,
    states=[s.value for s in State],
    transitions=[
        {"trigger": t.trigger, "source": list(t.source_values), "dest": t.dest.value}
        for t in TRANSITIONS
    ],
    initial=None,
    auto_transitions=False,
    send_event=True,
    model_attribute="state",
    after_state_change=[_emit],
)


def blocking_reasons(spec: TransitionSpec, ctx: g.GuardContext) -> list[str]:
    """Every reason the action is refused now; empty means it may be fired.

    Without a payload in ``ctx`` only the preconditions are checked (for buttons).
    """
    if ctx.state not in spec.source_values:
        return [f"当前状态下不能进行“{spec.label}”"]
    reasons = [r for r in (g.role_allowed(spec.roles)(ctx),) if r]
    reasons += [r for guard in spec.preconditions if (r := guard(ctx))]
    if ctx.effective_date is not None:
        reasons += [r for guard in g.DATE_GUARDS if (r := guard(ctx))]
        reasons += [r for guard in spec.payload_guards if (r := guard(ctx))]
    return reasons


def available_actions(
    state: str,
    received_on: date | None,
    history: Sequence[g.EventLike],
    roles: frozenset[str],
    today: date,
) -> list[tuple[TransitionSpec, list[str]]]:
    """Actions possible from ``state`` (excluding register), each with why it is blocked."""
    ctx = g.GuardContext(state, received_on, history, roles, today)
    return [
        (spec, blocking_reasons(spec, ctx))
        for spec in TRANSITIONS
        if spec.trigger != "register" and state in spec.source_values
    ]


def fire(
    record: Stateful,
    trigger: str,
    *,
    sink: Sink,
    roles: frozenset[str],
    today: date,
    effective_date: date,
    payload: Mapping[str, Any],
    history: Sequence[g.EventLike] = (),
    deadlines: g.DeadlinesLike | None = None,
) -> Any:
    """Check every guard, move ``record`` and return what the sink made of it.

    Raises GuardError (with every reason) and leaves ``record`` untouched when refused.
    """
    spec = SPEC_BY_TRIGGER.get(trigger)
    if spec is None:
        raise GuardError([f"未知操作“{trigger}”"])
    ctx = g.GuardContext(
        state=record.state,
        received_on=record.received_on,
        history=history,
        roles=roles,
        today=today,
        effective_date=effective_date,
        payload=payload,
        deadlines=deadlines,
    )
    reasons = blocking_reasons(spec, ctx)
    if reasons:
        raise GuardError(reasons)
    result: list[Any] = []
    try:
        MACHINE.events[trigger].trigger(record, sink=sink, result=result)
    except MachineError as exc:  # the spec check above makes this unreachable in practice
        raise GuardError([f"当前状态下不能进行“{spec.label}”"]) from exc
    return result[0]
