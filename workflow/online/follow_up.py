"""After applying online: follow the request, open its notices, answer a 补正, withdraw.

Rules (docs/domain.md §11.6):

* The applicant proves who they are once per visit with the number and the 查询码
  (:func:`status`); the web layer then keeps that submission in the visitor's session, and
  every later step names the submission, never a request or notice id alone.
* The status page shows only what concerns the applicant: the steps in
  ``APPLICANT_STEPS`` with their legal dates, worded by the transition table's labels,
  and the notices addressed to them — no notes, no staff names, no letters to third
  parties or other agencies.
* Electronic service (条例 Art. 40 electronic delivery): a notice the applicant opens on
  the portal, whose service was not recorded otherwise, is served on the day it is first
  opened (``Notice.served_via = "portal"``). The remedy periods (60 days / 6 months) and
  the fee's payment period then run from that day, as from any recorded service.
* A 补正 answered online is received the day it is submitted: the portal is the agency's
  own channel and acknowledges it on screen (reading of Art. 31(3): both sides have
  confirmed). A withdrawal online takes effect the day it is made. Both are recorded by the
  portal (no user) with the submission's number on the event.
* Files may come with the 补正 answer, held to the same rules as the application's files
  (``workflow.attachments.uploads``); they are filed with the request as 补正材料, tied to
  the 收到补正材料 event and attributed to the applicant. Answer and files are recorded
  together or not at all.
* The status page lists the files the applicant sent (names, kind and day only): the
  applicant's own record of what was handed in. Staff files are never listed or served.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from models import Attachment, Event, Notice, PortalSubmission, Request, RequestFacts
from models.file_store import FileStore
from workflow.attachments.operations import file_from_applicant, store_all
from workflow.attachments.uploads import CheckedUpload, Upload, UploadLimits, check_uploads
from workflow.catalog.attachments import ATTACHMENT_KIND_BY_CODE, PORTAL_SUPPLEMENT_KIND
from workflow.catalog.notices import LETTERS_TO_OTHERS, NOTICE_KIND_BY_CODE
from workflow.catalog.outcomes import OUTCOME_BY_CODE
from workflow.catalog.states import State
from workflow.kernel.actor import Actor, local_today
from workflow.kernel.errors import NotFound, ValidationError
from workflow.kernel.payload import parse_action
from workflow.notices.operations import mark_served
from workflow.online.portal import PENDING_LABEL, WRONG_CODE, files_of, submitted_on
from workflow.requests.operations import fire, history
from workflow.requests.spec import SPEC_BY_TRIGGER, TRIGGER_LABELS

#: The steps an applicant is told about (the others are the office's internal work).
APPLICANT_STEPS: frozenset[str] = frozenset(
    {
        "register",
        "accept",
        "request_supplement",
        "receive_supplement",
        "supplement_lapsed",
        "extend",
        "consult_third_party",
        "consult_agency",
        "issue_fee_notice",
        "fee_paid",
        "fee_lapsed",
        "decide",
        "withdraw",
        "reopen",
        "reopen_undone",
    }
)
#: How the portal records itself as the one who acted (no user account).
PORTAL_ACTOR_NAME = "portal"
#: How staff pages name the applicant acting online (events, attachments they sent).
APPLICANT_ONLINE_LABEL = "申请人（网上平台）"
PORTAL_ROLES = frozenset({"registrar"})
SERVED_VIA_PORTAL = "portal"
#: Compared against when the number is unknown, so both answers cost one scrypt.
_DUMMY_HASH = generate_password_hash("not-a-real-code", method="scrypt")


@dataclass(frozen=True)
class Step:
    on: date
    label: str


@dataclass(frozen=True)
class ServedNotice:
    id: int
    label: str
    number: str
    dated_on: date
    served_on: date | None


@dataclass(frozen=True)
class SentFile:
    """A file the applicant sent, as the status page names it (never served back)."""

    name: str
    kind_label: str
    sent_on: date


@dataclass(frozen=True)
class PortalStatus:
    submission_id: int
    number: str
    submitted_on: date
    state_label: str
    tracking_no: str | None
    received_on: date | None
    reply_due: date | None
    concluded_on: date | None
    steps: tuple[Step, ...] = ()
    notices: tuple[ServedNotice, ...] = ()
    files: tuple[SentFile, ...] = ()
    #: What the applicant may still do from the page.
    can_answer_supplement: bool = False
    can_withdraw: bool = False


def check_code(session: Session, number: str, code: str) -> int:
    """The submission's id for the right number and 查询码; else ``WRONG_CODE``.

    An unknown number and a wrong code cost the same hash check and give the same answer.
    """
    row = session.scalar(
        select(PortalSubmission).where(PortalSubmission.number == number.strip().upper()[:32])
    )
    ok = check_password_hash(row.code_hash if row else _DUMMY_HASH, code.strip().upper()[:64])
    if row is None or not ok:
        raise ValidationError(WRONG_CODE, {"code": WRONG_CODE})
    return row.id


def status(session: Session, submission_id: int) -> PortalStatus:
    """What the applicant of ``submission_id`` (already checked) may see."""
    row = _submission(session, submission_id)
    req = row.request
    if req is None:
        sent = tuple(
            _sent_file(f.file_name, f.kind, f.uploaded_at) for f in files_of(session, row.id)
        )
        return PortalStatus(
            row.id, row.number, submitted_on(row), PENDING_LABEL, None, None, None, None, files=sent
        )
    facts = session.get(RequestFacts, req.id)
    state = State(req.state)
    return PortalStatus(
        row.id,
        row.number,
        submitted_on(row),
        state.label,
        req.tracking_no,
        req.received_on,
        facts.reply_due if facts else None,
        facts.concluded_on if facts else None,
        steps=tuple(_steps(history(session, req))),
        notices=tuple(_notices(session, req)),
        files=tuple(_filed(session, row)),
        can_answer_supplement=state is State.SUPPLEMENT_REQUESTED,
        can_withdraw=state in SPEC_BY_TRIGGER["withdraw"].sources,
    )


def open_notice(session: Session, submission_id: int, notice_id: int, now: datetime) -> Notice:
    """The applicant's notice, served today if its service was not recorded before."""
    row = _submission(session, submission_id)
    notice = session.get(Notice, notice_id)
    if (
        notice is None
        or row.request_id is None
        or notice.request_id != row.request_id
        or notice.kind in LETTERS_TO_OTHERS
    ):
        raise NotFound("文书不存在")
    if notice.served_on is None:
        mark_served(
            session, notice, local_today(now), now, served_by_id=None, served_via=SERVED_VIA_PORTAL
        )
    return notice


def answer_supplement(
    session: Session,
    submission_id: int,
    text: str,
    now: datetime,
    files: Sequence[Upload] = (),
    store: FileStore | None = None,
    limits: UploadLimits | None = None,
) -> Event:
    """The applicant's 补正 submitted online, in words and/or files: received today (see
    the module's rules). Nothing is recorded or kept while anything is refused."""
    checked: list[CheckedUpload] = []
    if any(f.name or f.data for f in files):
        if limits is None or store is None:
            raise ValueError("files sent without the limits and the store to keep them")
        as_supplement = [replace(f, kind=PORTAL_SUPPLEMENT_KIND) for f in files]
        checked, errors = check_uploads(as_supplement, limits)
        if errors:
            raise ValidationError("补正材料有误，请更正标出的内容", errors)
    if not text.strip() and not checked:
        message = "请填写补正内容或上传补正材料"
        raise ValidationError(message, {"note": message})
    note = text if text.strip() else f"申请人通过网上平台提交补正材料{len(checked)}份"
    event = _act(session, submission_id, "receive_supplement", {"note": note}, now)
    row, req = _request_of(session, submission_id)
    for stored in store_all(store, checked) if store is not None else ():
        file_from_applicant(session, req, stored, now, submission_id=row.id, event_id=event.id)
    session.flush()
    return event


def withdraw(session: Session, submission_id: int, reason: str, now: datetime) -> Event:
    """The applicant withdraws the request online, today."""
    words = reason.strip() or "申请人通过网上平台撤回申请"
    return _act(session, submission_id, "withdraw", {"reason": words}, now)


# --------------------------------------------------------------------------- helpers


def _submission(session: Session, submission_id: int) -> PortalSubmission:
    row = session.get(PortalSubmission, submission_id)
    if row is None:
        raise NotFound("网上申请不存在")
    return row


def _request_of(session: Session, submission_id: int) -> tuple[PortalSubmission, Request]:
    row = _submission(session, submission_id)
    if row.request is None:
        raise ValidationError("该申请尚待机关确认收到，暂不能办理此事项", {})
    return row, row.request


def _act(
    session: Session, submission_id: int, trigger: str, fields: dict[str, str], now: datetime
) -> Event:
    row, req = _request_of(session, submission_id)
    parsed = parse_action(
        SPEC_BY_TRIGGER[trigger], {"effective_date": local_today(now).isoformat(), **fields}
    )
    action = replace(parsed, payload={**parsed.payload, "portal": row.number})
    actor = Actor(None, PORTAL_ACTOR_NAME, req.agency_id, PORTAL_ROLES)
    return fire(session, req, trigger, actor, now, action)


def _steps(events: Sequence[Event]) -> list[Step]:
    steps = []
    for event in events:
        if event.trigger not in APPLICANT_STEPS:
            continue
        label = TRIGGER_LABELS[event.trigger]
        outcome = OUTCOME_BY_CODE.get(str(event.payload.get("outcome", "")))
        if event.trigger == "decide" and outcome is not None:
            label = f"{label}：{outcome.short}"
        steps.append(Step(event.effective_date, label))
    return steps


def _sent_file(name: str, kind: str, uploaded_at: datetime) -> SentFile:
    return SentFile(name, ATTACHMENT_KIND_BY_CODE[kind].label, local_today(uploaded_at))


def _filed(session: Session, row: PortalSubmission) -> list[SentFile]:
    """What the applicant sent, once filed with the request (application and 补正 files)."""
    rows = session.scalars(
        select(Attachment).where(Attachment.submission_id == row.id).order_by(Attachment.id)
    )
    return [_sent_file(a.file_name, a.kind, a.uploaded_at) for a in rows]


def _notices(session: Session, req: Request) -> list[ServedNotice]:
    rows = session.scalars(
        select(Notice)
        .where(Notice.request_id == req.id, Notice.kind.not_in(LETTERS_TO_OTHERS))
        .order_by(Notice.dated_on, Notice.id)
    )
    return [
        ServedNotice(n.id, NOTICE_KIND_BY_CODE[n.kind].label, n.number, n.dated_on, n.served_on)
        for n in rows
    ]
