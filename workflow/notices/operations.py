"""Issuing the notices (docs/domain.md §9) and recording their service: flush, never commit.

A notice documents one event of the request's log (the receipt documents ``register``,
the reply the decision, …), so everything it states is derived from that event and the
events before it — never from what happened later. Re-issuing the same event's notice
is refused: the stored PDF is the notice, and a reprint is a download of it.

The applicant's remedy periods run from the day the reply was served. Events are
append-only, so the service date is recorded on the reply notice and read back by
:func:`remedy_deadlines`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import Event, Notice, NoticeCounter, Request
from models.file_store import FileStore
from workflow.catalog.challenges import (
    LAWSUIT_AFTER_RECONSIDERATION_DAYS,
    LAWSUIT_MONTHS,
    RECONSIDERATION_DAYS,
)
from workflow.catalog.channels import CHANNEL_BY_CODE
from workflow.catalog.fees import (
    FEE_MEASURES,
    METHOD_LABELS,
    PER_REQUEST,
    compute_fee,
    schedule_text,
)
from workflow.catalog.notices import (
    NOTICE_KIND_BY_CODE,
    NOTICE_KINDS,
    NoticeKind,
    ReplyElement,
    reply_elements,
)
from workflow.catalog.outcomes import (
    DECISION_FACTS,
    OUTCOME_BY_CODE,
    OUTCOME_OF_TRIGGER,
)
from workflow.catalog.roles import ROLE_BY_CODE
from workflow.catalog.states import State
from workflow.challenges.remedies import RemedyDeadlines, reconsideration_first, reply_remedies
from workflow.kernel.actor import Actor, local_today, naive_utc
from workflow.kernel.calendar import DEFAULT_CALENDAR, WorkingCalendar
from workflow.kernel.errors import (
    ConflictError,
    GuardError,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from workflow.kernel.payload import parse_date
from workflow.notices.document import NoticeDocument, NoticeRenderer
from workflow.notices.fees import rmb_capital
from workflow.requests import office
from workflow.requests.clocks import SERVICE_NOTICE_KINDS
from workflow.requests.deadlines import Deadlines
from workflow.requests.intake import FORMS_WANTED
from workflow.requests.operations import history, project, request_deadlines
from workflow.requests.procedure_rules import REASONS_FINDINGS
from workflow.requests.spec import CASEWORKERS, DECISION_TRIGGERS, DELIVERIES, TRIGGER_LABELS
from workflow.store.calendar import load_calendar
from workflow.store.serials import next_serial

#: Who issues notices and records their service: the staff who handle requests.
NOTICE_ROLES: frozenset[str] = CASEWORKERS
REGULATION = "《中华人民共和国政府信息公开条例》"
#: 条例 Art. 51: where a complaint or report (投诉、举报) goes.
COMPLAINT_BODY = "上一级行政机关或者政府信息公开工作主管部门"


def notice_number(agency_name: str, year: int, serial: int) -> str:
    """The 文号 printed on a notice, one sequence per agency and year for every kind."""
    return f"{agency_name}依申〔{year}〕第{serial}号"


def notices_of(session: Session, request: Request) -> list[Notice]:
    """The request's notices in the order they were issued (content not loaded)."""
    return list(
        session.scalars(select(Notice).where(Notice.request_id == request.id).order_by(Notice.id))
    )


def _check_actor(actor: Actor, agency_id: int) -> None:
    if actor.agency_id != agency_id:
        raise PermissionDenied("只能为本机关的申请出具文书")
    if not actor.roles & NOTICE_ROLES:
        names = "、".join(ROLE_BY_CODE[r].label for r in sorted(NOTICE_ROLES))
        raise PermissionDenied(f"只有{names}可以出具文书或记录送达")


def fitting_event(kind: NoticeKind, events: Sequence[Event], event: Event | None = None) -> Event:
    """The event a notice of ``kind`` documents: ``event`` if it fits, else the latest fit.

    Refuses (in Chinese) a notice the history does not support: a reply before any
    decision, an extension notice without an approved extension, …
    """
    if event is not None:
        if (
            event.trigger not in kind.triggers
            or all(e.id != event.id for e in events)
            or not _documentable(event)
        ):
            raise GuardError([f"所选办理记录不是可以出具{kind.label}的事项"])
        return event
    fits = [e for e in events if e.trigger in kind.triggers and _documentable(e)]
    if not fits:
        needed = "或".join(f"“{TRIGGER_LABELS[t]}”" for t in kind.triggers)
        raise GuardError([f"办理记录中还没有{needed}，不能出具{kind.label}"])
    return fits[-1]


def _documentable(event: Event) -> bool:
    """Whether the log holds what the notice prints: not an imported fee notice whose
    amount the ledger never recorded (``payload["unrecorded"]``)."""
    return not event.payload.get("unrecorded")


def issuable_notices(
    request: Request, events: Sequence[Event], notices: Sequence[Notice], roles: frozenset[str]
) -> list[tuple[NoticeKind, Event]]:
    """The notices the user could issue now: each kind's latest event not yet documented."""
    if request.state == State.VOIDED.value or not roles & NOTICE_ROLES:
        return []
    documented = {n.event_id for n in notices}
    found = []
    for kind in NOTICE_KINDS:
        fits = [e for e in events if e.trigger in kind.triggers and _documentable(e)]
        if fits and fits[-1].id not in documented:
            found.append((kind, fits[-1]))
    return found


def issue_notice(
    session: Session,
    actor: Actor,
    now: datetime,
    request: Request,
    kind: str,
    event: Event | None = None,
    *,
    render: NoticeRenderer,
    store: FileStore | None = None,
) -> Notice:
    """Render, number and store the notice of ``kind`` for ``event`` (default: the latest).

    ``render`` prints the notice (``documents.notices_pdf.render_notice`` in the app).
    ``store`` is the file store attachments live in: the PDF is kept there too, under
    the same SHA-256, so every document of the request is in one place (the database
    copy stays the legal original the download serves; backups carry both).

    The notice is dated with the legal date of the act it documents and numbered in
    that year's sequence; its PDF and SHA-256 are stored and never change.
    """
    notice_kind = NOTICE_KIND_BY_CODE.get(kind)
    if notice_kind is None:
        raise NotFound(f"没有“{kind}”这种文书")
    _check_actor(actor, request.agency_id)
    if request.state == State.VOIDED.value:
        raise GuardError(["已作废的申请不出具文书"])
    events = history(session, request)
    documented = fitting_event(notice_kind, events, event)
    if (
        documented.trigger == "decide"
        and request.agency.decision_signoff
        and not office.signed_off(events, documented.id)
    ):
        raise GuardError(["本机关规定答复须经审核签发：请先提请审核人签发，签发后才能出具答复书"])
    existing = session.scalar(select(Notice).where(Notice.event_id == documented.id))
    if existing is not None:
        raise ConflictError(
            f"该事项已出具{notice_kind.label}（{existing.number}），如需再次打印请下载原件"
        )
    # The notice documents the step as corrected (更正): its date, outcome and fields.
    as_corrected = office.corrected(events)
    prefix = [e for e in as_corrected if e.seq <= documented.seq and not office.is_office(e)]
    documented = next(e for e in as_corrected if e.id == documented.id)
    facts = _Facts(session, request, documented, prefix, load_calendar(session))
    template, context, outcome = _BUILDERS[notice_kind.code](facts)
    dated_on = documented.effective_date
    serial = next_serial(session, request.agency_id, dated_on.year, NoticeCounter)
    number = notice_number(request.agency.name, dated_on.year, serial)
    content = render(NoticeDocument(request.agency.name, number, dated_on, template, context))
    notice = Notice(
        agency_id=request.agency_id,
        request_id=request.id,
        event_id=documented.id,
        kind=notice_kind.code,
        outcome=outcome,
        year=dated_on.year,
        serial=serial,
        number=number,
        dated_on=dated_on,
        issued_at=naive_utc(now),
        issued_by_id=actor.user_id,
        content=content,
        content_hash=hashlib.sha256(content).hexdigest(),
    )
    session.add(notice)
    try:
        session.flush()
    except IntegrityError as exc:  # a colleague issued it in the same moment
        raise ConflictError(f"该事项的{notice_kind.label}刚刚已由他人出具，请刷新后查看") from exc
    if store is not None:
        store.put(content)
    return notice


def record_service(
    session: Session, actor: Actor, now: datetime, notice: Notice, served_on: date | str
) -> Notice:
    """Record the day the notice was served (送达); once only, never changed afterwards.

    A consultation letter's or fee notice's service date starts the other side's time
    (Art. 32, 34; fee measures), so the request's stored clock is recomputed with it.
    """
    _check_actor(actor, notice.agency_id)
    try:
        day = parse_date(served_on)
    except ValueError as exc:
        raise ValidationError(f"送达日期无效：{exc}", {"served_on": str(exc)}) from None
    if day > local_today(now):
        raise ValidationError("送达日期不能晚于今天", {"served_on": "送达日期不能晚于今天"})
    return mark_served(session, notice, day, now, served_by_id=actor.user_id)


def mark_served(
    session: Session,
    notice: Notice,
    day: date,
    now: datetime,
    *,
    served_by_id: int | None,
    served_via: str | None = None,
) -> Notice:
    """Set the service date once (by staff, or ``served_via="portal"`` when the applicant
    first opens it online) and recompute the clock that runs from it."""
    if notice.served_on is not None:
        raise GuardError(
            [f"该文书已记录送达日期（{notice.served_on.isoformat()}），送达日期不能更改"]
        )
    if day < notice.dated_on:
        message = f"送达日期不能早于文书日期（{notice.dated_on.isoformat()}）"
        raise ValidationError(message, {"served_on": message})
    notice.served_on = day
    notice.served_by_id = served_by_id
    notice.served_via = served_via
    notice.served_recorded_at = naive_utc(now)
    session.flush()
    if notice.kind in SERVICE_NOTICE_KINDS:
        request = notice.request
        project(session, request, history(session, request), load_calendar(session))
        session.flush()
    return notice


def reply_served_on(events: Sequence[Event], notices: Sequence[Notice]) -> date | None:
    """When the reply to the latest decision was served, if its notice records it."""
    decides = [e for e in events if e.trigger in DECISION_TRIGGERS]
    if not decides:
        return None
    return next((n.served_on for n in notices if n.event_id == decides[-1].id), None)


def remedy_deadlines(
    events: Sequence[Event],
    notices: Sequence[Notice],
    calendar: WorkingCalendar = DEFAULT_CALENDAR,
) -> RemedyDeadlines | None:
    """Remedy deadlines of the latest reply, from its notice's service date once recorded.

    Without a reply notice from the system, the remedies may not have been stated: the
    one-year outer limit (行政复议法 Art. 20 para 3) is shown too.
    """
    decides = [e for e in events if e.trigger in DECISION_TRIGGERS]
    stated = bool(decides) and any(n.event_id == decides[-1].id for n in notices)
    return reply_remedies(
        events, reply_served_on(events, notices), calendar, remedies_stated=stated
    )


# --------------------------------------------------------------------------- wording facts


@dataclass(frozen=True)
class _Facts:
    """What a notice may draw on: the request and its log up to the documented event."""

    session: Session
    request: Request
    event: Event
    #: Events up to and including ``event``: later events do not change a notice.
    events: Sequence[Event]
    calendar: WorkingCalendar

    def deadlines(self, *, before: bool = False) -> Deadlines:
        """Deadlines as they stood right after the event (or just ``before`` it)."""
        events = self.events[:-1] if before else self.events
        return request_deadlines(
            self.session, self.request, events, self.calendar, self.event.effective_date
        )

    def common(self) -> dict[str, Any]:
        req = self.request
        return {
            "regulation": REGULATION,
            "applicant": req.applicant_name,
            "tracking_no": req.tracking_no,
            "received_on": req.received_on,
            "subject": req.subject,
            "doc_numbers": req.doc_numbers,
            "form_wanted": dict(FORMS_WANTED).get(req.form_wanted, ""),
        }


_Built = tuple[str, dict[str, Any], str | None]


def _receipt(facts: _Facts) -> _Built:
    req, deadlines = facts.request, facts.deadlines()
    channel = CHANNEL_BY_CODE[req.channel]
    return (
        "receipt",
        {
            **facts.common(),
            "channel": channel.label,
            "receipt_rule": channel.receipt_rule,
            "submitted_on": local_today(req.submitted_at),
            "reply_due": deadlines.reply_due,
            "provisional": "reply_due" in deadlines.provisional,
        },
        None,
    )


def _supplement(facts: _Facts) -> _Built:
    payload = facts.event.payload
    context = {
        **facts.common(),
        "items": payload["items"],
        "due_on": date.fromisoformat(payload["due_on"]),
    }
    return "supplement", context, None


def _extension(facts: _Facts) -> _Built:
    before, after = facts.deadlines(before=True), facts.deadlines()
    payload = facts.event.payload
    if after.reply_due == before.reply_due:
        raise GuardError(
            [
                "该延期决定晚于答复期限，未能延长答复期限（《条例》第三十三条第二款），"
                "不出具延期答复告知书"
            ]
        )
    context = {
        **facts.common(),
        "days": int(payload["days"]),
        "reason": payload.get("reason", ""),
        "original_due": before.reply_due,
        "new_due": after.reply_due,
        "provisional": "reply_due" in after.provisional,
    }
    return "extension", context, None


def _consultation(template: str) -> Callable[[_Facts], _Built]:
    def build(facts: _Facts) -> _Built:
        deadlines = facts.deadlines()
        payload = facts.event.payload
        context = {
            **facts.common(),
            "party": payload["party"],
            "matter": payload.get("matter", ""),
            "due_on": deadlines.consultation_due,
            "provisional": "consultation_due" in deadlines.provisional,
        }
        return template, context, None

    return build


def fee_explanation(payload: Mapping[str, Any]) -> str:
    """The tiers behind the amount the fee event recorded, recomputed from its count.

    The event holds the count the operation computed the fee from (``quantity`` units
    after ``already`` earlier ones this month); an imported ledger row holds only the
    amount, so its notice states the rule itself rather than an invented count.
    """
    method = str(payload["method"])
    if "quantity" in payload:
        fee = compute_fee(method, int(payload["quantity"]), already=int(payload.get("already", 0)))
        if fee.amount == int(payload["amount"]):
            return fee.explanation
    return schedule_text(method)


def _fee(facts: _Facts) -> _Built:
    payload, deadlines, req = facts.event.payload, facts.deadlines(), facts.request
    method, amount = str(payload["method"]), int(payload["amount"])
    counted = method == PER_REQUEST and "quantity" in payload
    first = int(payload.get("already", 0)) + 1
    last = first + int(payload.get("quantity", 1)) - 1
    context = {
        **facts.common(),
        **_remedies(facts, "收费通知书", reconsideration_first=False),
        "fee_measures": FEE_MEASURES,
        "method": METHOD_LABELS.get(method, method),
        "amount": amount,
        "amount_capital": rmb_capital(amount),
        "explanation": fee_explanation(payload),
        "ordinal": (str(first) if first == last else f"{first}—{last}") if counted else None,
        "month": f"{req.received_on.year}年{req.received_on.month}月",
        "due_on": deadlines.fee_due,
        "provisional": "fee_due" in deadlines.provisional,
    }
    return "fee", context, None


def _remedies(facts: _Facts, document: str, *, reconsideration_first: bool) -> dict[str, Any]:
    """What templates/notices/_remedies.txt needs: the bodies (the agency's settings,
    行政复议法 Arts. 24, 27), the periods, the rule, the 投诉举报 channel (Art. 51)."""
    agency = facts.request.agency
    return {
        "document": document,
        "reconsideration_first": reconsideration_first,
        "reconsideration_body": agency.reconsideration_body or "",
        "court": agency.court or "",
        "complaint_body": COMPLAINT_BODY,
        "reconsideration_days": RECONSIDERATION_DAYS,
        "lawsuit_months": LAWSUIT_MONTHS,
        "lawsuit_after_days": LAWSUIT_AFTER_RECONSIDERATION_DAYS,
    }


def _reasons_request(facts: _Facts) -> _Built:
    payload = facts.event.payload
    context = {
        **facts.common(),
        "matter": str(payload["matter"]).rstrip("。"),
        "due_on": date.fromisoformat(payload["due_on"]),
    }
    return "reasons_request", context, None


def _latest(events: Sequence[Event], trigger: str) -> Event | None:
    found = [e for e in events if e.trigger == trigger]
    return found[-1] if found else None


def _deferral(facts: _Facts) -> _Built:
    before, after = facts.deadlines(before=True), facts.deadlines()
    asked = _latest(facts.events, "request_reasons")
    context = {
        **facts.common(),
        "asked_on": asked.effective_date if asked else None,
        "days": int(facts.event.payload["days"]),
        "reason": str(facts.event.payload["reason"]).rstrip("。"),
        "original_due": before.reply_due,
        "new_due": after.reply_due,
        "provisional": "reply_due" in after.provisional,
    }
    return "deferral", context, None


def _third_party_disclosure(facts: _Facts) -> _Built:
    payload = facts.event.payload
    consulted = _latest(facts.events, "consult_third_party")
    replied = _latest(facts.events, "third_party_replied")
    context = {
        **facts.common(),
        **_remedies(facts, "告知书", reconsideration_first=False),
        "party": payload["party"],
        "content": str(payload["content"]).rstrip("。"),
        "reason": str(payload["reason"]).rstrip("。"),
        "consulted_on": consulted.effective_date if consulted else None,
        "replied_on": replied.effective_date if replied else None,
    }
    return "third_party_disclosure", context, None


def _reply(facts: _Facts) -> _Built:
    event = facts.event
    code = OUTCOME_OF_TRIGGER.get(event.trigger) or str(event.payload["outcome"])
    outcome = OUTCOME_BY_CODE[code]
    on_the_spot = event.trigger == "answer_on_the_spot"
    delivery = "on_the_spot" if on_the_spot else str(event.payload.get("delivery", ""))
    asked = _latest(facts.events, "request_reasons")
    assessed = _latest(facts.events, "reasons_received")
    supplements = [e for e in facts.events if e.trigger == "request_supplement"]
    fee_notice = _latest(facts.events, "issue_fee_notice")
    first = reconsideration_first(code, event.effective_date)
    reopens = [e for e in facts.events if e.trigger == "reopen"]
    context = {
        **facts.common(),
        "complies_with": reopens[-1].payload.get("order") if reopens else None,
        **_remedies(facts, "答复书", reconsideration_first=first),
        "outcome_code": code,
        "basis": None if outcome.basis in ("", "—") else outcome.basis,
        "also_relies_on": outcome.also_relies_on or None,
        "fee_notice_on": fee_notice.effective_date if fee_notice else None,
        **{fact.field: str(event.payload.get(fact.field, "")) for fact in DECISION_FACTS},
        **_earlier(facts.session, facts.request, event.payload.get("earlier")),
        "delivery_code": delivery,
        "delivery": dict(DELIVERIES).get(delivery, ""),
        "supplement_requested_on": supplements[-1].effective_date if supplements else None,
        # Art. 35: what the log records of the request for reasons, nothing more.
        "reasons_requested_on": asked.effective_date if asked else None,
        "reasons_finding": dict(REASONS_FINDINGS).get(str(assessed.payload.get("finding")))
        if assessed
        else None,
        "referred_to": event.payload.get("referred_to", ""),
        "outcome_label": outcome.label.split(".", 1)[-1] if "." in code else None,
        "outcome_group": outcome.group.label.split("）", 1)[-1],
    }
    elements = reply_elements(
        outcome, reconsideration_first=first, decision=event.trigger in DECISION_TRIGGERS
    )
    check_reply_elements(elements, context)
    template = "reply_on_the_spot" if on_the_spot else f"reply_{outcome.group.code}"
    return template, context, code


def _earlier(session: Session, request: Request, named: Any) -> dict[str, Any]:
    """The earlier request a 重复申请 reply cites, with its reply (Art. 36(六))."""
    none: dict[str, Any] = {
        "earlier_no": None,
        "earlier_received_on": None,
        "earlier_reply_no": "",
        "earlier_reply_on": None,
    }
    if not named:
        return none
    earlier = session.scalar(
        select(Request).where(
            Request.agency_id == request.agency_id, Request.tracking_no == str(named)
        )
    )
    if earlier is None:
        return none
    reply = session.scalar(
        select(Notice)
        .where(Notice.request_id == earlier.id, Notice.kind == "reply")
        .order_by(Notice.id.desc())
    )
    return {
        "earlier_no": earlier.tracking_no,
        "earlier_received_on": earlier.received_on,
        "earlier_reply_no": reply.number if reply else "",
        "earlier_reply_on": reply.dated_on if reply else None,
    }


def check_reply_elements(elements: Sequence[ReplyElement], context: Mapping[str, Any]) -> None:
    """Refuse a reply that would not state every element the law requires of it.

    The 复议机关 and the court are agency settings (行政复议法 Arts. 24, 27): without them
    the admin is told what to fill in, since a reply that names no 复议机关 lets the
    applicant's period run up to a year (Art. 20 para 3).
    """
    missing = [e for e in elements if any(not context.get(k) for k in e.needs)]
    if not missing:
        return
    reasons = []
    settings = [e for e in missing if e.code in ("reconsideration", "lawsuit")]
    if settings:
        reasons.append(
            "本机关尚未设置答复书应当载明的行政复议机关和管辖法院（《行政复议法》第二十四条、"
            "第二十七条，《行政诉讼法》第十八条），不能出具答复书：请管理员在“机关管理”页面"
            "或用命令 set-agency-remedies 填写"
        )
    reasons += [
        f"答复书缺少“{e.label}”（{e.source}），不能出具" for e in missing if e not in settings
    ]
    raise GuardError(reasons)


_BUILDERS: dict[str, Callable[[_Facts], _Built]] = {
    "receipt": _receipt,
    "supplement": _supplement,
    "extension": _extension,
    "consultation_third_party": _consultation("consultation_third_party"),
    "consultation_agency": _consultation("consultation_agency"),
    "fee": _fee,
    "reasons_request": _reasons_request,
    "deferral": _deferral,
    "third_party_disclosure": _third_party_disclosure,
    "reply": _reply,
}
assert set(_BUILDERS) == set(NOTICE_KIND_BY_CODE), "a notice kind without wording"
