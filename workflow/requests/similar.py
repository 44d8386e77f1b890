"""Likely duplicate registrations: same applicant, similar subject, last 12 months.

A warning, never a refusal: a repeated request is legal (it may be answered as
重复申请, Art. 36(6)), but registering the same letter twice by mistake is a common
front-desk error the clerk should see before saving.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from difflib import SequenceMatcher
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models import Request

#: How far back a registration counts as a possible duplicate.
WINDOW = timedelta(days=365)
#: Subject similarity (0–1, difflib ratio) from which two requests look alike.
SIMILAR = 0.6
LIMIT = 5


def similarity(a: str, b: str) -> float:
    return SequenceMatcher(None, a.strip(), b.strip()).ratio()


def likely_duplicates(
    session: Session, agency_id: int, raw: Mapping[str, Any], today: date
) -> list[Request]:
    """Earlier requests of the same applicant (name or ID number) with a similar subject."""
    name = str(raw.get("applicant_name") or "").strip()
    id_number = str(raw.get("id_number") or "").strip().upper()
    subject = str(raw.get("subject") or "").strip()
    if not subject or not (name or id_number):
        return []
    same_person = [Request.applicant_name == name] if name else []
    if id_number:
        same_person.append(Request.id_number == id_number)
    candidates = session.scalars(
        select(Request)
        .where(
            Request.agency_id == agency_id,
            Request.received_on >= today - WINDOW,
            Request.state != "voided",
            or_(*same_person),
        )
        .order_by(Request.received_on.desc())
        .limit(200)
    )
    return [r for r in candidates if similarity(r.subject, subject) >= SIMILAR][:LIMIT]
