"""The applicant portal: apply online, staff confirm receipt, follow it with a 查询码.

Rules (docs/domain.md §11.5 §12):

* The application carries the registration form's fields and passes the same checks
  (``workflow.requests.intake.parse_intake``), plus what an application must hold to be handled
  without a clerk asking (Art. 29: a contact), and the electronic delivery rule: a reply
  wanted by e-mail needs an e-mail address.
* It is received when both sides confirm it (Art. 31(3)): until a clerk confirms it, it
  is a submission in the agency's "待确认收到" queue, not a request; confirming registers
  it with channel ``portal`` and the confirmation day (or the day the clerk states, not
  before submission) as its receipt date, from which every deadline runs.
* The applicant gets a submission number and a random 查询码 once; only the code's scrypt
  hash is kept. Following the application with them is ``workflow.online.follow_up``.
* Files may come with it (the application scan, an ID copy, other material), held to the
  staff uploads' rules plus a count and a total per submission
  (``workflow.attachments.uploads``). The application and its files are checked together
  and kept together or not at all. They are kept with the submission (``PortalFile``)
  and filed with the request, as sent by the applicant, when staff confirm receipt.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from models import Agency, PortalFile, PortalSubmission, Request
from models.file_store import FileStore
from workflow.attachments.operations import StoredFile, file_from_applicant, store_all
from workflow.attachments.uploads import CheckedUpload, Upload, UploadLimits, check_uploads
from workflow.catalog.attachments import PORTAL_APPLICATION_KINDS
from workflow.kernel.actor import Actor, local_today, naive_utc
from workflow.kernel.errors import ConflictError, NotFound, ValidationError
from workflow.kernel.payload import parse_date
from workflow.requests.intake import INTAKE_FIELDS, parse_intake
from workflow.requests.operations import register

PORTAL_CHANNEL = "portal"
#: The application form's file inputs (each may carry several files) and their kinds.
APPLICATION_FILE_FIELDS: tuple[tuple[str, str], ...] = tuple(
    (f"files_{kind}", kind) for kind in PORTAL_APPLICATION_KINDS
)
#: The 补正 answer's file input (its files are 补正材料).
SUPPLEMENT_FILE_FIELD = "files"
#: What the applicant fills in: the registration fields except how and when it arrived.
PORTAL_FIELDS = tuple(
    f for f in INTAKE_FIELDS if f.name not in ("channel", "submitted_on", "received_on")
)
#: 查询码 alphabet: no 0/O, 1/I/L, so it can be read out over the phone.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10
NUMBER_DIGITS = 12
WRONG_CODE = "编号或查询码不正确"
PENDING_LABEL = "待确认收到"


@dataclass(frozen=True)
class Submitted:
    submission: PortalSubmission
    #: The 查询码: shown once, never stored.
    code: str


def _contact_and_delivery(values: Mapping[str, Any], errors: dict[str, str]) -> None:
    if not any(values.get(k) for k in ("phone", "email", "address")):
        errors["phone"] = (
            "请至少填写一种联系方式（联系电话、电子邮箱或通信地址）（《条例》第二十九条）"
        )
    if values.get("delivery_wanted") == "email" and not values.get("email"):
        errors["email"] = "选择电子邮件送达的，请填写电子邮箱"
    if values.get("delivery_wanted") == "post" and not values.get("address"):
        errors["address"] = "选择邮寄送达的，请填写通信地址"


def submit(
    session: Session,
    agency: Agency,
    raw: Mapping[str, Any],
    now: datetime,
    files: Sequence[Upload] = (),
    store: FileStore | None = None,
    limits: UploadLimits | None = None,
) -> Submitted:
    """Validate an online application with its files and keep both for confirmation;
    flush, never commit. Nothing is stored while anything is refused."""
    today = local_today(now)
    fields = {f.name: raw.get(f.name, "") for f in PORTAL_FIELDS}
    errors: dict[str, str] = {}
    try:
        intake = parse_intake({**fields, "channel": PORTAL_CHANNEL, "submitted_on": today}, today)
    except ValidationError as err:
        errors.update(err.field_errors)
        values: dict[str, Any] = {}
    else:
        values = {k: v for k, v in intake.values.items() if k not in ("channel", "submitted_on")}
        values.pop("received_on", None)
    _contact_and_delivery(values or fields, errors)
    checked: list[CheckedUpload] = []
    if files:
        if limits is None or store is None:
            raise ValueError("files sent without the limits and the store to keep them")
        if any(f.kind not in PORTAL_APPLICATION_KINDS for f in files):
            raise ValueError("an application's files are of the portal's kinds only")
        checked, file_errors = check_uploads(files, limits)
        errors.update(file_errors)
    if errors:
        raise ValidationError("请更正标出的内容", errors)
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    number = "WS" + "".join(secrets.choice("0123456789") for _ in range(NUMBER_DIGITS))
    row = PortalSubmission(
        agency_id=agency.id,
        number=number,
        code_hash=generate_password_hash(code, method="scrypt"),
        values=values,
        submitted_at=naive_utc(now),
    )
    session.add(row)
    session.flush()
    for stored in store_all(store, checked) if store is not None else ():
        session.add(
            PortalFile(
                submission_id=row.id,
                kind=stored.kind,
                file_name=stored.file_name,
                file_type=stored.file_type,
                size=stored.size,
                sha256=stored.sha256,
                uploaded_at=naive_utc(now),
            )
        )
    session.flush()
    return Submitted(row, code)


def files_of(session: Session, submission_id: int) -> list[PortalFile]:
    """The files sent with the application, in the order they were sent."""
    return list(
        session.scalars(
            select(PortalFile)
            .where(PortalFile.submission_id == submission_id)
            .order_by(PortalFile.id)
        )
    )


def pending(session: Session, agency_id: int) -> list[PortalSubmission]:
    """The agency's "待确认收到" queue, oldest first."""
    return list(
        session.scalars(
            select(PortalSubmission)
            .where(PortalSubmission.agency_id == agency_id, PortalSubmission.request_id.is_(None))
            .order_by(PortalSubmission.submitted_at, PortalSubmission.id)
        )
    )


def submitted_on(row: PortalSubmission) -> date:
    return local_today(row.submitted_at.replace(tzinfo=UTC))


def confirm(
    session: Session, actor: Actor, now: datetime, submission_id: int, received_on: str | date
) -> Request:
    """Confirm receipt: register the request, received on ``received_on`` (Art. 31(3)),
    and file the files sent with the application with it, as the applicant's."""
    row = session.get(PortalSubmission, submission_id)
    if row is None or row.agency_id != actor.agency_id:
        raise NotFound("网上申请不存在，或不属于本机关")
    if row.request_id is not None:
        raise ConflictError("该网上申请已确认收到")
    try:
        received = parse_date(received_on)
    except ValueError as exc:
        raise ValidationError("请更正标出的内容", {"received_on": str(exc)}) from None
    raw = {
        **row.values,
        "channel": PORTAL_CHANNEL,
        "submitted_on": submitted_on(row),
        "received_on": received,
    }
    request = register(session, actor, now, raw, agency=row.agency)
    row.request = request
    for sent in files_of(session, row.id):
        stored = StoredFile(sent.kind, sent.file_name, sent.file_type, sent.size, sent.sha256)
        file_from_applicant(session, request, stored, sent.uploaded_at, submission_id=row.id)
    row.confirmed_at = naive_utc(now)
    row.confirmed_by_id = actor.user_id
    session.flush()
    return request
