"""Requests transferred from the 12345 hotline or a government-service platform.

The source system retries until it hears back, so receiving the same transfer twice
must not register two requests: a transfer is keyed by (agency, source system, source
reference), and a transfer already received answers with the request registered the
first time. The receipt date follows the transfer channels' rule (docs/domain.md §11.5):
the day the transfer reaches the agency, unless the caller states it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Agency, Request, RequestTransfer
from workflow.catalog.channels import CHANNEL_BY_CODE, TRANSFER_CHANNELS
from workflow.kernel.actor import Actor
from workflow.kernel.errors import PermissionDenied, ValidationError
from workflow.kernel.payload import clean_text
from workflow.requests.operations import register

MAX_SOURCE = 32
MAX_REFERENCE = 128
#: The transfer's own fields, beside the registration fields.
TRANSFER_KEYS = ("source", "reference")


@dataclass(frozen=True)
class TransferKey:
    source: str
    reference: str


def parse_transfer_key(raw: Mapping[str, Any]) -> TransferKey:
    """The source system and its reference, cleaned; both are required."""
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    for name, label, limit in (
        ("source", "来源系统", MAX_SOURCE),
        ("reference", "来源系统编号", MAX_REFERENCE),
    ):
        try:
            values[name] = clean_text(raw.get(name) or "", limit)
        except ValueError as exc:
            errors[name] = f"{label}：{exc}"
            continue
        if not values[name]:
            errors[name] = f"请填写{label}"
    channel = raw.get("channel")
    if channel not in TRANSFER_CHANNELS:
        names = "、".join(CHANNEL_BY_CODE[c].label for c in TRANSFER_CHANNELS)
        errors["channel"] = f"转办申请的提交方式应为：{names}"
    if errors:
        raise ValidationError("请更正标出的内容", errors)
    return TransferKey(values["source"], values["reference"])


def find_transfer(session: Session, agency_id: int, key: TransferKey) -> Request | None:
    return session.scalar(
        select(Request)
        .join(RequestTransfer, RequestTransfer.request_id == Request.id)
        .where(
            RequestTransfer.agency_id == agency_id,
            RequestTransfer.source == key.source,
            RequestTransfer.reference == key.reference,
        )
    )


def receive_transfer(
    session: Session,
    actor: Actor,
    now: datetime,
    raw: Mapping[str, Any],
    *,
    agency: Agency,
) -> tuple[Request, bool]:
    """Register the transferred request, or find the one already registered for it.

    Returns the request and whether it was created now. Two identical transfers racing
    both get past the lookup; the unique key then refuses the second at commit, and the
    caller looks the first one up (:func:`find_transfer`).
    """
    if agency.id != actor.agency_id:
        raise PermissionDenied("只能为本机关登记申请")
    key = parse_transfer_key(raw)
    found = find_transfer(session, agency.id, key)
    if found is not None:
        return found, False
    intake = {k: v for k, v in raw.items() if k not in TRANSFER_KEYS}
    request = register(session, actor, now, intake, agency=agency)
    session.add(
        RequestTransfer(
            request=request, agency_id=agency.id, source=key.source, reference=key.reference
        )
    )
    session.flush()
    return request, True
