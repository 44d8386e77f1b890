"""Likely duplicate registrations: same applicant, similar subject, last 12 months; and
the same information asked for by several applicants (条例 Art. 44).

A warning, never a refusal: a repeated request is legal (it may be answered as
重复申请, Art. 36(6)), but registering the same letter twice by mistake is a common
front-desk error the clerk should see before saving. The clerk may link the new request
to the earlier one when saving (``workflow.requests.office_operations.register_request``).

Similarity: the subjects' ``difflib`` ratio; where the ID number is the same, a reworded
subject (the same words in another order) is caught by the overlap of character pairs
too, since it is then surely the same person (docs/domain.md §15).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import date, timedelta
from difflib import SequenceMatcher
from itertools import pairwise
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from models import Request
from models.pii import same

#: How far back a registration counts as a possible duplicate.
WINDOW = timedelta(days=365)
#: Subject similarity (0–1, difflib ratio) from which two requests look alike.
SIMILAR = 0.6
LIMIT = 5
#: From this likeness (either measure) two applicants ask for the same information.
ART44_SIMILAR = 0.6


def similarity(a: str, b: str) -> float:
    return SequenceMatcher(None, a.strip(), b.strip()).ratio()


def _pairs(text: str) -> Counter[str]:
    chars = [c for c in text if c.isalnum()]
    return Counter(a + b for a, b in pairwise(chars))


def reworded_similarity(a: str, b: str) -> float:
    """Order-free likeness (Dice coefficient over character pairs, punctuation ignored):
    "某路段2019年改造预算" and "2019年某路段的改造预算" score high, unlike the ratio."""
    left, right = _pairs(a), _pairs(b)
    total = sum(left.values()) + sum(right.values())
    return 2 * sum((left & right).values()) / total if total else 0.0


def _alike(candidate: Request, subject: str, id_number: str) -> bool:
    if similarity(candidate.subject, subject) >= SIMILAR:
        return True
    same_id = bool(id_number) and candidate.id_number.upper() == id_number
    return same_id and reworded_similarity(candidate.subject, subject) >= SIMILAR


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
        same_person.append(same(Request.id_number, id_number))
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
    return [r for r in candidates if _alike(r, subject, id_number)][:LIMIT]


def _same_applicant(request: Request) -> ColumnElement[bool]:
    """The same applicant: the ID number where there is one, else the exact name."""
    if request.id_number:
        return same(Request.id_number, request.id_number)
    return (Request.applicant_name == request.applicant_name) & (Request.id_number == "")


def earlier_requests(session: Session, request: Request) -> list[Request]:
    """This applicant's earlier requests at the agency that were answered (concluded),
    newest first: what a 重复申请 reply may cite (Art. 36(六))."""
    return list(
        session.scalars(
            select(Request)
            .where(
                Request.agency_id == request.agency_id,
                Request.id != request.id,
                Request.received_on <= request.received_on,
                Request.state == "concluded",
                _same_applicant(request),
            )
            .order_by(Request.received_on.desc(), Request.id.desc())
            .limit(50)
        )
    )


def same_information(session: Session, request: Request) -> list[Request]:
    """Other applicants' requests of the last 12 months for similar information: a
    candidate for 主动公开 (条例 Art. 44, "多个申请人就相同政府信息向同一行政机关提出")."""
    candidates = session.scalars(
        select(Request)
        .where(
            Request.agency_id == request.agency_id,
            Request.id != request.id,
            Request.received_on >= request.received_on - WINDOW,
            Request.received_on <= request.received_on + WINDOW,
            Request.state != "voided",
            ~_same_applicant(request),
        )
        .order_by(Request.received_on.desc())
        .limit(300)
    )
    return [
        r
        for r in candidates
        if max(
            similarity(r.subject, request.subject), reworded_similarity(r.subject, request.subject)
        )
        >= ART44_SIMILAR
    ][:LIMIT]
