"""The legal clocks of a request (docs/domain.md §3, §8), derived from its receipt date,
its events and the service dates of its consultation letters and fee notices.

Nothing here is stored: deadlines are recomputed from the event log every time, so a
corrected calendar (e.g. the next year's holiday notice) or a corrected event moves
every deadline at once and nothing can drift out of sync. Every rule, with its article,
is described in docs/domain.md §3.11.

Clocks (all in working days, counting from the day after the starting day):

* supplementation notice (Art. 30): 7 wd after receipt (none under the 2008 Regulation);
* reply (Art. 33): 20 wd after the start — receipt, the latest supplement received, or
  a reopen (or the time limit the reopening decision fixes) — plus an extension decided
  within the period, plus the working days spent paused. A pause that begins after the
  period ran out, or an extension decided after it, changes nothing. A consultation
  (Art. 32, 34) pauses the clock at most until the consulted party's own deadline; a fee
  notice pauses it until payment (Art. 42, 2020 fee measures);
* consultation: 15 wd from the day the consulted party receives the letter (Art. 32, 34);
* fee payment: 20 wd from the day after the applicant receives the notice (办法).
  Receipt is the service date recorded on the notice, else a presumption
  (:data:`PRESUMED_RECEIPT_DAYS`) that the deadline's explanation names as one;
* requests received before 2019-05-15 run on the 2008 Regulation (Art. 24): 15 wd, an
  extension of at most 15 wd, no 7-wd limit for a supplementation notice.

Each deadline is computed as a list of :class:`~workflow.requests.deadline_trace.TraceStep` whose
days add up to it (``Deadlines.trace``): the explanation *is* the computation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Protocol

from workflow.catalog.service import DELIVERY_LABELS, PRESUMED_RECEIPT_DAYS
from workflow.catalog.states import State
from workflow.kernel.calendar import WorkdayResult, WorkingCalendar
from workflow.requests.deadline_trace import TraceStep, count_step, provisional_step, total_days
from workflow.requests.office import corrected
from workflow.requests.spec import (
    CONCLUDING_TRIGGERS,
    PAUSING_TRIGGERS,
    RESTORING_TRIGGERS,
    RESUMING_TRIGGERS,
    SPEC_BY_TRIGGER,
)

SUPPLEMENT_NOTICE_DAYS = 7  # Art. 30
REPLY_DAYS = 20  # Art. 33 para 1
EXTENSION_MAX_DAYS = 20  # Art. 33 para 2
CONSULTATION_DAYS = 15  # Art. 32 (third party), Art. 34 (other agency)
FEE_PAYMENT_DAYS = 20  # 2020 fee measures: from the day after receipt of the notice
#: The 2019 Regulation applies to requests received from its entry into force.
REGULATION_2019_FROM = date(2019, 5, 15)
REPLY_DAYS_2008 = 15  # 2008 Regulation Art. 24 para 2
EXTENSION_MAX_DAYS_2008 = 15  # 2008 Regulation Art. 24 para 2
#: Working days left at which a running reply deadline counts as due soon: highlighted on
#: the list and the request page, listed on the workbench (one rule for all three).
DUE_SOON_DAYS = 5

#: The other side's time in each paused state, counted from its receipt of the letter.
_PAUSE_DAYS: dict[State, int] = {
    State.THIRD_PARTY_CONSULTATION: CONSULTATION_DAYS,
    State.AGENCY_CONSULTATION: CONSULTATION_DAYS,
    State.AWAITING_FEE: FEE_PAYMENT_DAYS,
}
#: Pausing triggers (read off the transition table) → the days the other side has.
PAUSE_TRIGGERS: dict[str, int] = {
    t: _PAUSE_DAYS[SPEC_BY_TRIGGER[t].dest] for t in sorted(PAUSING_TRIGGERS)
}
_CONSULTATIONS: frozenset[str] = frozenset(
    t for t in PAUSING_TRIGGERS if SPEC_BY_TRIGGER[t].dest is not State.AWAITING_FEE
)
_PAUSE_NAMES: dict[str, str] = {
    "consult_third_party": "征求第三方意见（《条例》第三十二条）",
    "consult_agency": "征求相关机关意见（《条例》第三十四条）",
    "issue_fee_notice": "发出收费通知（《政府信息公开信息处理费管理办法》）",
}
_OPINIONS: dict[str, str] = {"agree": "同意公开", "object": "不同意公开", "no_reply": "逾期未答复"}

#: The deadlines a request has, by the name used in ``Deadlines.trace`` / ``provisional``.
DEADLINE_NAMES: tuple[str, ...] = (
    "supplement_notice_due",
    "reply_due",
    "consultation_due",
    "fee_due",
)


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


#: Service dates of pausing events, by the event's position in the events passed in.
Served = Mapping[int, date]


@dataclass(frozen=True)
class Deadlines:
    """Every deadline shown for a request, as of a given ``today``.

    ``reply_due`` keeps its last value after the request concludes, so a decision can
    still be checked against it (:func:`lateness`); ``days_left`` / ``overdue`` ignore it
    then, because a concluded request is no longer anyone's to-do. During a consultation
    it is the date the reply falls due if the consulted party stays silent (the pause
    ends at that party's deadline), so a forgotten consultation becomes overdue.

    ``provisional`` names the deadlines (of :data:`DEADLINE_NAMES`) that rest on a year
    whose holidays are not announced; ``presumed`` those counted from a presumed (not
    recorded) service date; ``trace`` explains each deadline step by step.
    """

    supplement_notice_due: date | None
    reply_due: date | None
    consultation_due: date | None
    fee_due: date | None
    applicant_supplement_due: date | None
    paused: bool
    concluded: bool
    provisional: frozenset[str] = frozenset()
    voided: bool = False
    trace: Mapping[str, tuple[TraceStep, ...]] = field(default_factory=dict, compare=False)
    presumed: frozenset[str] = frozenset()
    #: The longest extension the request's regime allows (Art. 33: 20; 2008: 15).
    extension_limit: int = EXTENSION_MAX_DAYS
    #: Whether an extension was decided after the period ran out (it changed nothing).
    late_extension: bool = False
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
class _Pause:
    """One consultation or fee notice: sent on ``start``, received on ``received``."""

    trigger: str
    start: date
    received: date
    service_text: str
    presumed: bool
    due: WorkdayResult
    end: date | None = None
    end_trigger: str | None = None
    opinion: str | None = None

    @property
    def consultation(self) -> bool:
        return self.trigger in _CONSULTATIONS


@dataclass
class _Clock:
    """Mutable state while replaying the events; never leaves this module."""

    start: date
    start_text: str
    base_days: int
    regime_2008: bool
    extensions: list[tuple[date, int, bool, str]] = field(default_factory=list)
    #: Art. 35 deferrals: (decided on, working days, decided within the period).
    deferrals: list[tuple[date, int, bool]] = field(default_factory=list)
    pauses: list[_Pause] = field(default_factory=list)
    awaiting_supplement: bool = False
    applicant_supplement_due: date | None = None
    concluded: bool = False
    voided: bool = False
    #: The clock as it stood when the latest reopen began a new procedure, so that
    #: undoing the reopen (``reopen_undone``) gives the earlier procedure's deadlines back.
    before_reopen: _Clock | None = None

    @property
    def running(self) -> _Pause | None:
        """The pause still waiting for the other side, if any."""
        last = self.pauses[-1] if self.pauses else None
        return last if last is not None and last.end is None else None

    def restart(self, start: date, text: str, base_days: int) -> None:
        """A new period: earlier extension and pauses no longer count."""
        self.start, self.start_text, self.base_days = start, text, base_days
        self.regime_2008 = start < REGULATION_2019_FROM
        self.extensions, self.pauses, self.deferrals = [], [], []
        self.awaiting_supplement = False
        self.applicant_supplement_due = None

    def end_pause(self, event: EventLike) -> None:
        running = self.running
        if running is not None:
            running.end, running.end_trigger = event.effective_date, event.trigger
            running.opinion = event.payload.get("opinion")


def _base_days(start: date) -> int:
    return REPLY_DAYS_2008 if start < REGULATION_2019_FROM else REPLY_DAYS


def _receipt_text(received_on: date) -> str:
    if received_on < REGULATION_2019_FROM:
        return (
            f"收到申请之日 {received_on.isoformat()}，次日起算；2019年5月15日前收到的申请适用"
            f"2008年《条例》第二十四条：{REPLY_DAYS_2008}个工作日内答复"
        )
    return (
        f"收到申请之日 {received_on.isoformat()}，次日起算；《条例》第三十三条第一款："
        f"{REPLY_DAYS}个工作日内答复"
    )


_Handler = Callable[[_Clock, EventLike, WorkingCalendar, date | None, date], None]


def _on_request_supplement(
    clock: _Clock, event: EventLike, _cal: WorkingCalendar, _served: date | None, _today: date
) -> None:
    clock.awaiting_supplement = True
    due_on = event.payload.get("due_on")
    clock.applicant_supplement_due = date.fromisoformat(due_on) if due_on else None


def _on_receive_supplement(
    clock: _Clock, event: EventLike, _cal: WorkingCalendar, _served: date | None, _today: date
) -> None:
    day = event.effective_date
    text = f"收到补正材料之日 {day.isoformat()}，次日起重新计算（《条例》第三十条）"
    clock.restart(day, text, _base_days(day))


def _on_reopen(
    clock: _Clock, event: EventLike, cal: WorkingCalendar, _served: date | None, _today: date
) -> None:
    """A reopen starts a new procedure; a time limit fixed by the decision replaces 20 wd."""
    day = event.effective_date
    order = event.payload.get("order") or "复议决定或判决"
    due_on = event.payload.get("due_on")
    clock.before_reopen = replace(
        clock,
        extensions=list(clock.extensions),
        deferrals=list(clock.deferrals),
        pauses=list(clock.pauses),
    )
    clock.concluded = False
    if due_on:
        fixed = date.fromisoformat(due_on)
        text = (
            f"重新办理之日 {day.isoformat()}（依据：{order}），决定书要求于"
            f"{fixed.isoformat()}前答复"
        )
        clock.restart(day, text, cal.working_days_between(day, fixed))
    else:
        text = (
            f"重新办理之日 {day.isoformat()}（依据：{order}），决定书未定答复期限，"
            f"按《条例》第三十三条第一款{REPLY_DAYS}个工作日"
        )
        clock.restart(day, text, REPLY_DAYS)
    clock.regime_2008 = False


def _on_extend(
    clock: _Clock, event: EventLike, cal: WorkingCalendar, _served: date | None, today: date
) -> None:
    """Only an extension decided within the period extends it (Art. 33 para 2)."""
    due = _reply(clock, cal, today).result.day
    days = int(event.payload["days"])
    approver = str(event.payload.get("approver", ""))
    clock.extensions.append((event.effective_date, days, event.effective_date <= due, approver))


def _on_defer(
    clock: _Clock, event: EventLike, cal: WorkingCalendar, _served: date | None, today: date
) -> None:
    """Art. 35: a reasonable later date, fixed within the period, moves the reply date."""
    due = _reply(clock, cal, today).result.day
    days = int(event.payload["days"])
    clock.deferrals.append((event.effective_date, days, event.effective_date <= due))


def _presumed_receipt(event: EventLike, served: date | None) -> tuple[date, str, bool]:
    sent = event.effective_date
    if served is not None:
        return served, f"{sent.isoformat()} 发出，{served.isoformat()} 送达（已记录）", False
    delivery = str(event.payload.get("delivery") or "")
    days = PRESUMED_RECEIPT_DAYS.get(delivery, 0)
    received = sent + timedelta(days=days)
    how = DELIVERY_LABELS.get(delivery)
    if how is None:
        rule = "未记录送达方式，推定发出当日收到"
    elif days:
        rule = f"{how}，推定发出后第{days}日收到"
    else:
        rule = f"{how}，推定发出当日收到"
    return received, f"{sent.isoformat()} 发出；送达日期尚未记录：{rule}（推定）", True


def _on_pause(
    clock: _Clock, event: EventLike, cal: WorkingCalendar, served: date | None, _today: date
) -> None:
    if clock.running is not None:  # a second pause while paused adds no time
        return
    received, text, presumed = _presumed_receipt(event, served)
    due = cal.add_working_days(received, PAUSE_TRIGGERS[event.trigger])
    clock.pauses.append(_Pause(event.trigger, event.effective_date, received, text, presumed, due))


def _on_resume(
    clock: _Clock, event: EventLike, _cal: WorkingCalendar, _served: date | None, _today: date
) -> None:
    clock.end_pause(event)


def _on_conclude(
    clock: _Clock, event: EventLike, _cal: WorkingCalendar, _served: date | None, _today: date
) -> None:
    """Concluding freezes the reply deadline (a pause ends with the request)."""
    clock.end_pause(event)
    clock.concluded = True


def _on_restore(
    clock: _Clock, event: EventLike, cal: WorkingCalendar, served: date | None, today: date
) -> None:
    """The reopen was undone: the earlier procedure's clock, concluded, is the clock again."""
    saved = clock.before_reopen
    if saved is None:  # nothing to restore (an import without its reopen): just conclude
        _on_conclude(clock, event, cal, served, today)
        return
    for name in saved.__dataclass_fields__:
        setattr(clock, name, getattr(saved, name))
    clock.concluded = True


def _on_void(
    clock: _Clock, _event: EventLike, _cal: WorkingCalendar, _served: date | None, _today: date
) -> None:
    clock.voided = True


_HANDLERS: dict[str, _Handler] = {
    "request_supplement": _on_request_supplement,
    "receive_supplement": _on_receive_supplement,
    "reopen": _on_reopen,
    "extend": _on_extend,
    "defer_reply": _on_defer,
    **{trigger: _on_pause for trigger in PAUSE_TRIGGERS},
    **{trigger: _on_resume for trigger in RESUMING_TRIGGERS},
    **{trigger: _on_conclude for trigger in CONCLUDING_TRIGGERS},
    **{trigger: _on_restore for trigger in RESTORING_TRIGGERS},
    "void": _on_void,
}


def _replay(
    received_on: date,
    events: Sequence[EventLike],
    calendar: WorkingCalendar,
    served: Served,
    today: date,
) -> _Clock:
    """Fold the events (in recorded order) into the clock state; unknown triggers are inert."""
    clock = _Clock(
        received_on,
        _receipt_text(received_on),
        _base_days(received_on),
        received_on < REGULATION_2019_FROM,
    )
    # Corrections (更正) apply first (same positions): the clocks follow corrected dates.
    for position, event in enumerate(corrected(events)):
        handler = _HANDLERS.get(event.trigger)
        if handler is not None:
            handler(clock, event, calendar, served.get(position), today)
    return clock


# --------------------------------------------------------------------------- the reply


@dataclass(frozen=True)
class _Reply:
    result: WorkdayResult
    steps: tuple[TraceStep, ...]
    #: The clock stands still today (a running fee pause, or a consultation in its period).
    paused_now: bool
    #: The date depends on ``today`` (a fee pause still running): it slides daily.
    sliding: bool


def _pause_end(pause: _Pause, today: date) -> tuple[date, str, bool]:
    """Where a pause ends, why (in Chinese), and whether that end is ``today`` (sliding)."""
    name = _PAUSE_NAMES[pause.trigger]
    cap = pause.due.day
    if pause.consultation:
        article = "第三十二条" if pause.trigger == "consult_third_party" else "第三十四条"
        if pause.end is not None and pause.end <= cap:
            opinion = _OPINIONS.get(pause.opinion or "", "回复")
            return (
                pause.end,
                f"{name}：{pause.end.isoformat()} 收到意见（{opinion}），恢复计算",
                False,
            )
        if pause.end is not None:
            return (
                cap,
                f"{name}：对方答复期限 {cap.isoformat()} 届满，暂停至此为止（《条例》{article}），"
                f"{pause.end.isoformat()} 才记录的意见不再延长期限",
                False,
            )
        return (
            cap,
            f"{name}：尚未收到意见，暂停最长至对方答复期限 {cap.isoformat()}，"
            f"此后恢复计算（《条例》{article}）",
            False,
        )
    if pause.end is not None:
        how = {"fee_paid": "缴费", "waive_fee": "决定免收"}.get(pause.end_trigger or "", "办结")
        return pause.end, f"{name}：{pause.end.isoformat()} {how}，自发出通知至此不计入", False
    end = max(today, pause.start)
    return end, f"{name}：尚未缴费，暂停至今日（{end.isoformat()}）仍在继续", True


def _reply(clock: _Clock, calendar: WorkingCalendar, today: date) -> _Reply:
    """The reply deadline and its explanation, walking the pauses in order.

    The deadline is ``add_working_days(start, counted + paused)``; a pause counts only if
    it began on or before the deadline as it stood then.
    """
    valid = [(on, days, approver) for on, days, ok, approver in clock.extensions if ok]
    deferred = [(on, days) for on, days, ok in clock.deferrals if ok]
    total = clock.base_days + sum(days for _, days, _ in valid) + sum(d for _, d in deferred)
    steps: list[TraceStep] = [TraceStep("start", clock.start, None, clock.start_text)]
    for on, days, ok, approver in clock.extensions:
        if ok:
            text = (
                f"{on.isoformat()} 经{approver or '审核人'}同意延长{days}个工作日"
                f"（《条例》第三十三条第二款），期限合计{total}个工作日，计入下列计数"
            )
            steps.append(TraceStep("extension", on, None, text))
        else:
            text = (
                f"{on.isoformat()} 决定延期{days}个工作日，但已晚于答复期限：延期须在答复期限内"
                "决定（《条例》第三十三条第二款），不改变答复期限"
            )
            steps.append(TraceStep("extension_late", on, None, text))
    for on, days in deferred:
        text = (
            f"{on.isoformat()} 认定申请理由合理但无法在法定期限内答复，确定延迟{days}个工作日"
            f"答复（《条例》第三十五条），期限合计{total}个工作日，计入下列计数"
        )
        steps.append(TraceStep("deferral", on, None, text))
    extra = counted = 0
    cursor = clock.start
    paused_now = sliding = False
    for pause in clock.pauses:
        so_far = calendar.add_working_days(clock.start, total + extra).day
        if pause.start > so_far:
            text = (
                f"{_PAUSE_NAMES[pause.trigger]}：{pause.start.isoformat()} 开始，但答复期限已于"
                f"{so_far.isoformat()} 届满，此后的暂停不延长期限"
            )
            steps.append(TraceStep("pause_ignored", pause.start, pause.end, text))
            continue
        run = calendar.working_days_between(cursor, pause.start)
        if run:
            steps.append(count_step(calendar, cursor, pause.start, run, counted + 1))
            counted += run
        end, text, slides = _pause_end(pause, today)
        paused = calendar.working_days_between(pause.start, end)
        span = f"{pause.start.isoformat()} 至 {end.isoformat()} 暂停计算；"
        steps.append(TraceStep("pause", pause.start, end, span + text, paused_days=paused))
        extra += paused
        cursor = max(cursor, end)
        if pause.end is None:
            paused_now = slides or today <= pause.due.day
            sliding = slides
    result = calendar.add_working_days(clock.start, total + extra)
    steps.append(count_step(calendar, cursor, result.day, total - counted, counted + 1))
    note = provisional_step(calendar, clock.start, result.day)
    if note is not None:
        steps.append(note)
    return _Reply(result, tuple(steps), paused_now, sliding)


def _simple(
    calendar: WorkingCalendar, start: date, text: str, days: int
) -> tuple[WorkdayResult, tuple[TraceStep, ...]]:
    """A deadline of ``days`` working days after ``start``, with its explanation."""
    result = calendar.add_working_days(start, days)
    steps = [
        TraceStep("start", start, None, text),
        count_step(calendar, start, result.day, days, 1),
    ]
    note = provisional_step(calendar, start, result.day)
    if note is not None:
        steps.append(note)
    return result, tuple(steps)


def _pause_deadline(
    calendar: WorkingCalendar, pause: _Pause
) -> tuple[WorkdayResult, tuple[TraceStep, ...]]:
    if pause.consultation:
        article = "第三十二条" if pause.trigger == "consult_third_party" else "第三十四条"
        rule = f"自收到征求意见书之日起{CONSULTATION_DAYS}个工作日内提出意见（《条例》{article}）"
    else:
        rule = f"自收到收费通知次日起{FEE_PAYMENT_DAYS}个工作日内缴纳（《信息处理费管理办法》）"
    text = f"{_PAUSE_NAMES[pause.trigger]}：{pause.service_text}；{rule}"
    days = PAUSE_TRIGGERS[pause.trigger]
    result, steps = _simple(calendar, pause.received, text, days)
    assert result == pause.due  # the same count the pause was capped with
    return result, steps


def compute_deadlines(
    received_on: date,
    events: Sequence[EventLike],
    calendar: WorkingCalendar,
    today: date,
    served: Served | None = None,
) -> Deadlines:
    """All deadlines of a request from its legal receipt date and its events.

    ``today`` only matters for a fee pause still running, whose length is not yet known.
    ``served`` maps the position (in ``events``) of a consultation or fee event to the
    service date recorded on its notice.
    """
    clock = _replay(received_on, events, calendar, served or {}, today)
    found: dict[str, tuple[WorkdayResult, tuple[TraceStep, ...]]] = {}
    if received_on >= REGULATION_2019_FROM:  # the 2008 Regulation set no such limit
        text = (
            f"收到申请之日 {received_on.isoformat()}，次日起算；申请内容不明确的，应在"
            f"{SUPPLEMENT_NOTICE_DAYS}个工作日内一次性告知补正（《条例》第三十条）"
        )
        found["supplement_notice_due"] = _simple(
            calendar, received_on, text, SUPPLEMENT_NOTICE_DAYS
        )
    reply = None if clock.awaiting_supplement else _reply(clock, calendar, today)
    if reply is not None:
        found["reply_due"] = (reply.result, reply.steps)
    running = None if clock.concluded else clock.running
    presumed: set[str] = set()
    if running is not None:
        name = "consultation_due" if running.consultation else "fee_due"
        found[name] = _pause_deadline(calendar, running)
        if running.presumed:
            presumed.add(name)
            if reply is not None and running.consultation:
                presumed.add("reply_due")

    def day(name: str) -> date | None:
        return found[name][0].day if name in found else None

    return Deadlines(
        supplement_notice_due=day("supplement_notice_due"),
        reply_due=day("reply_due"),
        consultation_due=day("consultation_due"),
        fee_due=day("fee_due"),
        applicant_supplement_due=clock.applicant_supplement_due,
        paused=reply.paused_now if reply is not None and running is not None else False,
        concluded=clock.concluded,
        provisional=frozenset(n for n, (r, _) in found.items() if r.provisional),
        voided=clock.voided,
        trace={n: steps for n, (_, steps) in found.items()},
        presumed=frozenset(presumed),
        extension_limit=EXTENSION_MAX_DAYS_2008 if clock.regime_2008 else EXTENSION_MAX_DAYS,
        late_extension=any(not ok for _, _, ok, _ in clock.extensions),
        calendar=calendar,
    )


def trace_total(deadlines: Deadlines, name: str) -> date | None:
    """The date the trace of ``name`` adds up to (what the property test compares)."""
    steps = deadlines.trace.get(name)
    if not steps:
        return None
    return deadlines.calendar.add_working_days(steps[0].start, total_days(steps)).day


@dataclass(frozen=True)
class StoredClock:
    """The part of the reply clock that does not depend on ``today``, for the projection.

    ``reply_due`` is set whenever the events and the calendar alone fix it: a running
    clock, a consultation (whose pause ends at the consulted party's deadline at the
    latest) and a pause begun after the deadline had passed; then SQL can select overdue
    and due-soon requests with it. Only a fee pause still running within the period
    slides every day: it is stored as ``paused`` without a date. ``pause_due`` is the
    other side's deadline — of a running pause, or the applicant's 补正 deadline while a
    supplement is awaited — so requests whose consultation, fee or 补正 deadline has
    passed can be listed for attention (期满待办).
    """

    reply_due: date | None
    paused: bool = False
    pause_due: date | None = None


def stored_clock(
    received_on: date,
    events: Sequence[EventLike],
    calendar: WorkingCalendar,
    served: Served | None = None,
) -> StoredClock:
    """What ``request_facts`` keeps of the reply clock (see :class:`StoredClock`)."""
    clock = _replay(received_on, events, calendar, served or {}, received_on)
    if clock.concluded or clock.voided:
        return StoredClock(None)
    if clock.awaiting_supplement:  # the applicant's 补正 deadline, for the lapse queue
        return StoredClock(None, pause_due=clock.applicant_supplement_due)
    reply = _reply(clock, calendar, received_on)
    running = clock.running
    if running is None:
        return StoredClock(reply.result.day)
    due = None if reply.sliding else reply.result.day
    return StoredClock(due, paused=True, pause_due=running.due.day)


def lateness(trigger: str, effective_date: date, deadlines: Deadlines) -> str | None:
    """Why an action came after its legal deadline, in Chinese; ``None`` if on time.

    The system records reality, so a late action is accepted and flagged, not refused
    (except a late extension, which ``workflow.requests.clock_guards`` refuses unless an approver
    overrides it). Pass the deadlines as they stood *before* the action.
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
