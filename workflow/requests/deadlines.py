"""The legal clocks of a request (docs/domain.md §3, §8), derived from its receipt date and events.

Nothing here is stored: deadlines are recomputed from the event log every time, so a
corrected calendar (e.g. the next year's holiday notice) or a corrected event moves
every deadline at once and nothing can drift out of sync.

Clocks (all in working days, counting from the day after the starting day):

* supplementation notice (Art. 30): 7 wd after receipt;
* reply (Art. 33): 20 wd after the start — receipt, the latest supplement received, or
  a reopen — plus the approved extension, plus every working day spent paused
  (consultations, Art. 32/34; fee notice to payment, Art. 42 and the 2020 fee measures);
* third-party / agency consultation: 15 wd from the consultation (Art. 32, 34);
* fee payment: 20 wd from the fee notice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from workflow.kernel.calendar import WorkdayResult, WorkingCalendar

SUPPLEMENT_NOTICE_DAYS = 7  # Art. 30
REPLY_DAYS = 20  # Art. 33
CONSULTATION_DAYS = 15  # Art. 32 (third party), Art. 34 (other agency)
FEE_PAYMENT_DAYS = 20  # 2020 fee measures
#: Working days left at which a running reply deadline counts as due soon: highlighted on
#: the list and the request page, listed on the workbench (one rule for all three).
DUE_SOON_DAYS = 5

#: Pausing triggers → the days the other side has to answer, from the pause date.
PAUSE_TRIGGERS: dict[str, int] = {
    "consult_third_party": CONSULTATION_DAYS,
    "consult_agency": CONSULTATION_DAYS,
    "issue_fee_notice": FEE_PAYMENT_DAYS,
}
RESUME_TRIGGERS: frozenset[str] = frozenset({"third_party_replied", "agency_replied", "fee_paid"})
CONCLUDING_TRIGGERS: frozenset[str] = frozenset(
    {"decide", "withdraw", "supplement_lapsed", "fee_lapsed"}
)
_CONSULTATIONS: frozenset[str] = frozenset({"consult_third_party", "consult_agency"})
_FEE_NOTICE: frozenset[str] = frozenset({"issue_fee_notice"})


class EventLike(Protocol):
    """What the clocks need from an event; ORM rows and plain dataclasses both fit.

    Read-only properties so that frozen dataclasses satisfy the protocol too.
    """

    @property
    def trigger(self) -> str: ...

    @property
    def effective_date(self) -> date: ...

    @property
    def payload(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class Deadlines:
    """Every deadline shown for a request, as of a given ``today``.

    ``reply_due`` keeps its last value after the request concludes, so a decision can
    still be checked against it (:func:`lateness`); ``days_left`` / ``overdue`` ignore it
    then, because a concluded request is no longer anyone's to-do.
    """

    supplement_notice_due: date
    reply_due: date | None
    consultation_due: date | None
    fee_due: date | None
    applicant_supplement_due: date | None
    paused: bool
    concluded: bool
    provisional: bool
    voided: bool = False
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar, repr=False, compare=False)

    def days_left(self, today: date) -> int | None:
        """Working days from ``today`` to the reply deadline; negative when overdue.

        0 means due today. A deadline that passed over a weekend counts as overdue by 1
        even before the next working day, so the sign always agrees with
        :meth:`overdue` (which, like :func:`lateness`, compares calendar dates).
        """
        due = self.reply_due
        if due is None or self.concluded or self.voided:
            return None
        if today <= due:
            return self.calendar.working_days_between(today, due)
        return -max(1, self.calendar.working_days_between(due, today))

    def overdue(self, today: date) -> bool:
        """Whether the reply deadline of a still-open request has passed."""
        left = self.days_left(today)
        return left is not None and left < 0


@dataclass
class _Clock:
    """Mutable state while replaying the events; never leaves this module."""

    start: date
    extension_days: int = 0
    paused_days: int = 0
    pause_trigger: str | None = None
    pause_start: date | None = None
    awaiting_supplement: bool = False
    applicant_supplement_due: date | None = None
    concluded: bool = False
    voided: bool = False

    def restart(self, start: date) -> None:
        """A new 20-wd period: earlier extension and pauses no longer count."""
        self.start = start
        self.extension_days = self.paused_days = 0
        self.pause_trigger = self.pause_start = None
        self.awaiting_supplement = False
        self.applicant_supplement_due = None

    def resume(self, on: date, calendar: WorkingCalendar) -> None:
        """End a running pause, banking the working days it lasted."""
        if self.pause_start is not None:
            self.paused_days += calendar.working_days_between(self.pause_start, on)
        self.pause_trigger = self.pause_start = None


_Handler = Callable[[_Clock, EventLike, WorkingCalendar], None]


def _on_request_supplement(clock: _Clock, event: EventLike, _cal: WorkingCalendar) -> None:
    clock.awaiting_supplement = True
    due_on = event.payload.get("due_on")
    clock.applicant_supplement_due = date.fromisoformat(due_on) if due_on else None


def _on_restart(clock: _Clock, event: EventLike, _cal: WorkingCalendar) -> None:
    """``receive_supplement`` and ``reopen``: the reply clock starts afresh."""
    clock.concluded = False
    clock.restart(event.effective_date)


def _on_extend(clock: _Clock, event: EventLike, _cal: WorkingCalendar) -> None:
    clock.extension_days += int(event.payload["days"])


def _on_pause(clock: _Clock, event: EventLike, _cal: WorkingCalendar) -> None:
    if clock.pause_start is None:  # a second pause while paused adds no time
        clock.pause_trigger, clock.pause_start = event.trigger, event.effective_date


def _on_resume(clock: _Clock, event: EventLike, cal: WorkingCalendar) -> None:
    clock.resume(event.effective_date, cal)


def _on_conclude(clock: _Clock, event: EventLike, cal: WorkingCalendar) -> None:
    """Concluding freezes the reply deadline (a pause ends with the request)."""
    clock.resume(event.effective_date, cal)
    clock.concluded = True


def _on_void(clock: _Clock, _event: EventLike, _cal: WorkingCalendar) -> None:
    clock.voided = True


_HANDLERS: dict[str, _Handler] = {
    "request_supplement": _on_request_supplement,
    "receive_supplement": _on_restart,
    "reopen": _on_restart,
    "extend": _on_extend,
    **{trigger: _on_pause for trigger in PAUSE_TRIGGERS},
    **{trigger: _on_resume for trigger in RESUME_TRIGGERS},
    **{trigger: _on_conclude for trigger in CONCLUDING_TRIGGERS},
    "void": _on_void,
}


def _replay(received_on: date, events: Sequence[EventLike], calendar: WorkingCalendar) -> _Clock:
    """Fold the events (in recorded order) into the clock state; unknown triggers are inert."""
    clock = _Clock(start=received_on)
    for event in events:
        handler = _HANDLERS.get(event.trigger)
        if handler is not None:
            handler(clock, event, calendar)
    return clock


def _reply_due(clock: _Clock, calendar: WorkingCalendar, today: date) -> WorkdayResult | None:
    """The reply deadline; a running pause counts up to ``today`` (so it slides daily)."""
    if clock.awaiting_supplement:
        return None
    running = 0
    if clock.pause_start is not None:
        running = calendar.working_days_between(clock.pause_start, today)
    total = REPLY_DAYS + clock.extension_days + clock.paused_days + running
    return calendar.add_working_days(clock.start, total)


def _pause_due(
    clock: _Clock, calendar: WorkingCalendar, kinds: frozenset[str]
) -> WorkdayResult | None:
    """The other side's deadline for the running pause, if it is one of ``kinds``."""
    trigger, start = clock.pause_trigger, clock.pause_start
    if trigger is None or start is None or trigger not in kinds:
        return None
    return calendar.add_working_days(start, PAUSE_TRIGGERS[trigger])


def compute_deadlines(
    received_on: date,
    events: Sequence[EventLike],
    calendar: WorkingCalendar,
    today: date,
) -> Deadlines:
    """All deadlines of a request from its legal receipt date and its events.

    ``today`` only matters for a pause still running, whose length is not yet known.
    """
    clock = _replay(received_on, events, calendar)
    notice = calendar.add_working_days(received_on, SUPPLEMENT_NOTICE_DAYS)
    reply = _reply_due(clock, calendar, today)
    consultation = _pause_due(clock, calendar, _CONSULTATIONS)
    fee = _pause_due(clock, calendar, _FEE_NOTICE)
    computed = [r for r in (notice, reply, consultation, fee) if r is not None]
    return Deadlines(
        supplement_notice_due=notice.day,
        reply_due=reply.day if reply else None,
        consultation_due=consultation.day if consultation else None,
        fee_due=fee.day if fee else None,
        applicant_supplement_due=clock.applicant_supplement_due,
        paused=clock.pause_start is not None,
        concluded=clock.concluded,
        provisional=any(r.provisional for r in computed),
        voided=clock.voided,
        calendar=calendar,
    )


@dataclass(frozen=True)
class StoredClock:
    """The part of the reply clock that does not depend on ``today``, for the projection.

    ``reply_due`` is set only while the clock runs (open, not awaiting a supplement, not
    paused): then it is fixed by the events and the calendar alone, so SQL can select
    overdue and due-soon requests with it. A paused clock slides every day, so it is
    stored as ``paused`` without a date and its few requests are computed when asked.
    """

    reply_due: date | None
    paused: bool = False


def stored_clock(
    received_on: date, events: Sequence[EventLike], calendar: WorkingCalendar
) -> StoredClock:
    """What ``request_facts`` keeps of the reply clock (see :class:`StoredClock`)."""
    clock = _replay(received_on, events, calendar)
    if clock.concluded or clock.voided or clock.awaiting_supplement:
        return StoredClock(None)
    if clock.pause_start is not None:
        return StoredClock(None, paused=True)
    due = _reply_due(clock, calendar, received_on)
    return StoredClock(due.day if due else None)


def lateness(trigger: str, effective_date: date, deadlines: Deadlines) -> str | None:
    """Why an action came after its legal deadline, in Chinese; ``None`` if on time.

    The system records reality, so a late action is accepted and flagged, not refused.
    Pass the deadlines as they stood *before* the action (for ``extend``, the deadline
    without the extension being checked).
    """
    if trigger == "request_supplement":
        due: date | None = deadlines.supplement_notice_due
        template = "补正告知晚于法定期限（收到申请后7个工作日，截止 {due}）"
    elif trigger == "decide":
        due = deadlines.reply_due
        template = "答复晚于法定期限（答复期限截止 {due}）"
    elif trigger == "extend":
        due = deadlines.reply_due
        template = "延期决定晚于答复期限（延期须在答复期限内决定，截止 {due}）"
    else:
        return None
    if due is None or effective_date <= due:
        return None
    return template.format(due=due.isoformat())
