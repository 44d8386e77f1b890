"""Filing and reading attachments (issue 15 item 5); docs/domain.md §16.

``attach`` is the one operation: it checks who files what (caseworkers of the request's
own agency), the kind (the catalogue), the event it belongs to (one of this request's),
the size (the deployment's limit) and the type, found from the content and never from the
name; then puts the bytes into the file store (once per content) and records the row,
which is the audit trail: who filed which file, when, as what. Nothing is ever deleted.

The bytes are put before the row is flushed. If the transaction then fails, the store
holds a file no row names: harmless (it is content-addressed, so the next upload of the
same file reuses it), and cheaper than a row naming a file that never arrived.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Attachment, Event, Notice, PortalFile, Request
from models.file_store import FileStore
from workflow.attachments.uploads import CheckedUpload, content_problem, safe_file_name
from workflow.catalog.attachments import ATTACHMENT_KIND_BY_CODE, FILE_TYPE_BY_CODE
from workflow.catalog.states import State
from workflow.kernel.actor import Actor, naive_utc
from workflow.kernel.errors import GuardError, PermissionDenied, ValidationError

#: Who may file an attachment: whoever handles requests (registers, handles, approves).
ATTACH_ROLES: frozenset[str] = frozenset({"registrar", "handler", "approver"})
MAX_NOTE = 200


def attach(
    session: Session,
    actor: Actor,
    now: datetime,
    request: Request,
    raw: Mapping[str, str],
    file_name: str,
    data: bytes,
    store: FileStore,
    *,
    max_bytes: int,
) -> Attachment:
    """File ``data`` with ``request`` as ``raw["kind"]`` (optionally ``raw["event_id"]``,
    ``raw["note"]``). Refusals are in Chinese, per field."""
    if not actor.roles & ATTACH_ROLES:
        raise PermissionDenied("只有登记员、承办人或审核人可以上传附件")
    if actor.agency_id != request.agency_id:
        raise PermissionDenied("只能为本机关的申请上传附件，上级机关只能查阅")
    if request.state == State.VOIDED.value:
        raise GuardError(["已作废的申请不能再上传附件"])
    errors: dict[str, str] = {}
    kind = ATTACHMENT_KIND_BY_CODE.get(raw.get("kind", "").strip())
    if kind is None:
        errors["kind"] = "请选择附件类别"
    event_id = None
    event_text = raw.get("event_id", "").strip()
    if event_text:
        found = (
            session.scalar(
                select(Event.id).where(Event.id == int(event_text), Event.request_id == request.id)
            )
            if event_text.isascii() and event_text.isdigit() and len(event_text) < 10
            else None
        )
        if found is None:
            errors["event_id"] = "所选办理步骤不属于本申请"
        event_id = found
    note = " ".join(raw.get("note", "").split())
    if len(note) > MAX_NOTE:
        errors["note"] = f"说明不能超过{MAX_NOTE}个字"
    file_type, problem = content_problem(data, max_bytes)
    if problem is not None:
        errors["file"] = "请选择要上传的文件（文件不能为空）" if not data else problem
    if errors or kind is None or file_type is None:
        raise ValidationError("附件没有上传，请更正标出的内容", errors)
    sha256 = store.put(data)
    row = Attachment(
        request_id=request.id,
        event_id=event_id,
        kind=kind.code,
        file_name=safe_file_name(file_name, file_type.extension),
        file_type=file_type.code,
        size=len(data),
        sha256=sha256,
        note=note,
        uploaded_by_id=actor.user_id,
        uploaded_at=naive_utc(now),
    )
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class StoredFile:
    """A checked file whose bytes are in the store: what an attachment row records."""

    kind: str
    file_name: str
    file_type: str
    size: int
    sha256: str


def store_all(store: FileStore, uploads: Sequence[CheckedUpload]) -> list[StoredFile]:
    """Put every checked upload into the store (before any row names it)."""
    return [
        StoredFile(u.kind, u.name, u.file_type.code, len(u.data), store.put(u.data))
        for u in uploads
    ]


def file_from_applicant(
    session: Session,
    request: Request,
    stored: StoredFile,
    uploaded_at: datetime,
    *,
    submission_id: int,
    event_id: int | None = None,
) -> Attachment:
    """File what the applicant sent online with ``request``: no staff user filed it, the
    online submission names who sent it (``Attachment.submission_id``). ``uploaded_at``
    is when the applicant sent it (UTC), not when staff confirmed the application."""
    row = Attachment(
        request_id=request.id,
        event_id=event_id,
        kind=stored.kind,
        file_name=stored.file_name,
        file_type=stored.file_type,
        size=stored.size,
        sha256=stored.sha256,
        note="",
        uploaded_by_id=None,
        uploaded_at=naive_utc(uploaded_at),
        submission_id=submission_id,
    )
    session.add(row)
    return row


def attachments_of(session: Session, request: Request) -> list[Attachment]:
    """The request's attachments in the order they were filed."""
    return list(
        session.scalars(
            select(Attachment).where(Attachment.request_id == request.id).order_by(Attachment.id)
        )
    )


def content_type_of(attachment: Attachment) -> str:
    """The type it is served as: the one found from its content at upload."""
    return FILE_TYPE_BY_CODE[attachment.file_type].content_type


def referenced_hashes(session: Session) -> tuple[set[str], set[str]]:
    """The files the database names, for backups: (attachments and files sent on the
    portal, whose only copy is the
    file store; issued notices, whose legal original is in the database and a copy in the
    store)."""
    attached = set(session.scalars(select(Attachment.sha256).distinct()))
    # Files sent on the portal before staff confirmed the application: no attachment yet.
    attached |= set(session.scalars(select(PortalFile.sha256).distinct()))
    return attached, set(session.scalars(select(Notice.content_hash).distinct())) - attached
