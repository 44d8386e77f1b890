"""Lifecycles as data: the row types of a spec table and the machine that runs one.

A lifecycle is a table of :class:`TransitionSpec` rows (trigger, sources, destination,
roles, payload fields, legal rule, guards). :class:`Lifecycle` builds a single
``transitions.Machine`` with ``model=None`` for a whole table and fires events at the
row (``machine.events[name].trigger(row)``); the row's ``state`` attribute is the model
attribute. An ``after_state_change`` callback hands the transition to a *sink* supplied
by the caller that appends the event, so the state change and its log entry happen in
one step and nothing here knows about databases. Requests and challenges (复议/诉讼)
each run their own table on this machinery (``workflow.requests.machine``,
``workflow.challenges.spec``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, Literal

from transitions import EventData, Machine, MachineError

from workflow.kernel import guards as g
from workflow.kernel.errors import GuardError

FieldKind = Literal["text", "longtext", "date", "int", "choice", "outcome", "approver"]


@dataclass(frozen=True)
class PayloadField:
    name: str
    label: str
    kind: FieldKind
    required: bool = True
    help: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    default: str | int | None = None

    def choice_label(self, value: str) -> str:
        return dict(self.choices).get(value, value)


@dataclass(frozen=True)
class TransitionSpec:
    trigger: str
    label: str
    #: States of the lifecycle's own enum (request or challenge states).
    sources: tuple[StrEnum, ...]
    dest: StrEnum
    roles: frozenset[str]
    #: Label of the effective date on the form ("告知补正日期", "答复日期" …).
    date_label: str
    rule: str
    fields: tuple[PayloadField, ...] = ()
    #: Guards that depend only on the request, the actor and its history.
    preconditions: tuple[g.Guard, ...] = ()
    #: Guards that also look at the submitted payload and effective date.
    payload_guards: tuple[g.Guard, ...] = field(default=())

    @property
    def source_values(self) -> tuple[str, ...]:
        return tuple(s.value for s in self.sources)


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
