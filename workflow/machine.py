"""State machines built from spec tables: one shared ``transitions.Machine`` per lifecycle.

Following DESIGN.md, a single ``transitions.Machine`` with ``model=None`` serves every
row of a lifecycle: events are fired at the row (``machine.events[name].trigger(row)``)
and the row's ``state`` attribute is the model attribute. An ``after_state_change``
callback hands the transition to a *sink* supplied by the caller that appends the event,
so the state change and its log entry happen in one step and nothing here knows about
databases. Requests and challenges (复议/诉讼) use the same machinery with their own table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from transitions import EventData, Machine, MachineError

from workflow import guards as g
from workflow.errors import GuardError
from workflow.spec import TRANSITIONS, TransitionSpec
from workflow.states import State


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
                from_state=None if source == "new" else source,
                to_state=event.transition.dest,
            )
        )
    )


class Lifecycle:
    """A spec table, its one ``transitions.Machine`` and the guard evaluation around it.

    ``start_attribute`` names the row's date before which nothing can happen (the legal
    receipt date of a request, the filing date of a challenge); ``start_label`` is its
    Chinese name in refusals. Every lifecycle starts in a virtual state ``new``.
    """

    def __init__(
        self,
        transitions: Sequence[TransitionSpec],
        states: type[StrEnum],
        *,
        start_attribute: str,
        start_label: str,
    ) -> None:
        self.transitions = tuple(transitions)
        self.by_trigger = {t.trigger: t for t in self.transitions}
        self.start_attribute = start_attribute
        self.start_label = start_label
        self.machine = Machine(
            model=None,
            states=[s.value for s in states],
            transitions=[
                {"trigger": t.trigger, "source": list(t.source_values), "dest": t.dest.value}
                for t in self.transitions
            ],
            initial=None,
            auto_transitions=False,
            send_event=True,
            model_attribute="state",
            after_state_change=[_emit],
        )

    def context(
        self,
        record: Any,
        history: Sequence[g.EventLike],
        roles: frozenset[str],
        today: date,
        **kw: Any,
    ) -> g.GuardContext:
        return g.GuardContext(
            state=record.state,
            received_on=getattr(record, self.start_attribute),
            history=history,
            roles=roles,
            today=today,
            start_label=self.start_label,
            **kw,
        )

    def available_actions(
        self,
        record: Any,
        history: Sequence[g.EventLike],
        roles: frozenset[str],
        today: date,
        deadlines: g.DeadlinesLike | None = None,
    ) -> list[tuple[TransitionSpec, list[str]]]:
        """Actions possible from the row's state (not the first one), with blocking reasons
        (with ``deadlines``, also an action whose day has not come yet)."""
        ctx = self.context(record, history, roles, today, deadlines=deadlines)
        return [
            (spec, blocking_reasons(spec, ctx))
            for spec in self.transitions
            if "new" not in spec.source_values and record.state in spec.source_values
        ]

    def fire(
        self,
        record: Any,
        trigger: str,
        *,
        sink: Sink,
        roles: frozenset[str],
        today: date,
        effective_date: date,
        payload: Mapping[str, Any],
        history: Sequence[g.EventLike] = (),
        deadlines: g.DeadlinesLike | None = None,
        facts: Mapping[str, Any] | None = None,
    ) -> Any:
        """Check every guard, move ``record`` and return what the sink made of it.

        Raises GuardError (with every reason) and leaves ``record`` untouched when refused.
        """
        spec = self.by_trigger.get(trigger)
        if spec is None:
            raise GuardError([f"未知操作“{trigger}”"])
        ctx = self.context(
            record,
            history,
            roles,
            today,
            effective_date=effective_date,
            payload=payload,
            deadlines=deadlines,
            facts=facts or {},
        )
        reasons = blocking_reasons(spec, ctx)
        if reasons:
            raise GuardError(reasons)
        result: list[Any] = []
        try:
            self.machine.events[trigger].trigger(record, sink=sink, result=result)
        except MachineError as exc:  # blocking_reasons checks the state first
            raise GuardError([f"当前状态下不能进行“{spec.label}”"]) from exc
        return result[0]


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


@dataclass
class _Row:
    state: str
    received_on: date | None


REQUESTS = Lifecycle(TRANSITIONS, State, start_attribute="received_on", start_label="收到申请日期")
MACHINE = REQUESTS.machine
fire = REQUESTS.fire


def available_actions(
    state: str,
    received_on: date | None,
    history: Sequence[g.EventLike],
    roles: frozenset[str],
    today: date,
    deadlines: g.DeadlinesLike | None = None,
) -> list[tuple[TransitionSpec, list[str]]]:
    """The request actions possible from ``state`` (not register), with blocking reasons."""
    return REQUESTS.available_actions(_Row(state, received_on), history, roles, today, deadlines)
