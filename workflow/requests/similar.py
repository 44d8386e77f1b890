"""Likely duplicate registrations: same applicant, similar subject, last 12 months; and
the same information asked for by several applicants (条例 Art. 44).

A warning, never a refusal: a repeated request is legal (it may be answered as
重复申请, Art. 36(6)), but registering the same letter twice by mistake is a common
front-desk error the clerk should see before saving. The clerk may link the new request
to the earlier one when saving (``workflow.requests.office_operations.register_request``).

Similarity: the subjects' ``difflib`` ratio; where the ID number is the same, a reworded
subject (the same words in another order) is caught by the overlap of character pairs
too, since it is then surely the same person (docs/domain.md §15).

Art. 44 candidates (``publication_candidates``): the agency's requests of a period grouped
by alike subject (either measure ≥ ``ART44_SIMILAR``), each group counted in *different
applicants* (``applicant_groups``: the same ID number, or the same name and phone, is one
applicant); a group of at least ``ART44_APPLICANTS`` applicants is a candidate for 主动公开
(docs/domain.md §15, "Art. 44").
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
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
#: 条例 Art. 44 ("多个申请人就相同政府信息向同一行政机关提出"): from how many different
#: applicants of one agency the information is listed as a candidate for 主动公开. The law
#: says only "多个"; 3 is the reading chosen (2 is often one family or one firm's staff).
#: The list page may lower it to 2 or raise it (``ART44_MIN``..``ART44_MAX``).
ART44_APPLICANTS = 3
ART44_MIN, ART44_MAX = 2, 50
#: Most requests one candidate list reads (an agency's year is far below it).
ART44_READ_LIMIT = 20000


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
    return _same_information_rows(session, request, limit=LIMIT)


def _same_information_rows(session: Session, request: Request, *, limit: int) -> list[Request]:
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
        .limit(max(300, limit))
    )
    return [r for r in candidates if alike_information(r.subject, request.subject)][:limit]


def alike_information(a: str, b: str) -> bool:
    """Whether two subjects ask for the same information (Art. 44): either measure."""
    return max(similarity(a, b), reworded_similarity(a, b)) >= ART44_SIMILAR


def _applicant_keys(item: Any) -> list[tuple[str, ...]]:
    """What identifies an applicant: the ID number; the name with the phone; the name
    alone only where neither is known (then namesakes count once: never more candidates
    than there are)."""
    name = " ".join(str(item.applicant_name or "").split())
    id_number = str(item.id_number or "").strip().upper()
    phone = "".join(c for c in str(item.phone or "") if c.isdigit())
    keys: list[tuple[str, ...]] = []
    if id_number:
        keys.append(("id", id_number))
    if phone:
        keys.append(("phone", name, phone))
    return keys or [("name", name)]


def applicant_groups(items: Sequence[Any]) -> list[int]:
    """Per item, the number of the applicant it belongs to: items sharing an ID number, or
    a name and a phone, are one applicant (transitively: A~B by ID and B~C by phone make
    one). Pure; union–find over the keys."""
    parent = list(range(len(items)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[tuple[str, ...], int] = {}
    for i, item in enumerate(items):
        for key in _applicant_keys(item):
            if key in owner:
                parent[root(i)] = root(owner[key])
            else:
                owner[key] = i
    return [root(i) for i in range(len(items))]


def count_applicants(items: Sequence[Any]) -> int:
    """How many different applicants ``items`` come from (``applicant_groups``)."""
    return len(set(applicant_groups(items)))


@dataclass(frozen=True)
class InformationGroup:
    """Requests asking for alike information, oldest first; ``subject`` is the first's."""

    requests: tuple[Any, ...]
    applicants: int

    @property
    def subject(self) -> str:
        return str(self.requests[0].subject)

    @property
    def first_on(self) -> date:
        return self.requests[0].received_on

    @property
    def last_on(self) -> date:
        return self.requests[-1].received_on


def group_information(items: Iterable[Any], min_applicants: int) -> list[InformationGroup]:
    """Group ``items`` (oldest first) by alike subject and keep the groups of at least
    ``min_applicants`` different applicants, the most asked first. Pure.

    Each group is led by its oldest request; a request joins the first group whose leader's
    subject it is alike (``alike_information``). Only the groups sharing at least two
    character pairs with it are compared (an inverted index), so a year of an agency's
    requests is grouped without comparing every pair."""
    leaders: list[str] = []
    members: list[list[Any]] = []
    index: dict[str, set[int]] = defaultdict(set)
    for item in items:
        subject = str(item.subject or "").strip()
        pairs = set(_pairs(subject))
        shared: Counter[int] = Counter(g for p in pairs for g in index.get(p, ()))
        near = sorted(g for g, n in shared.items() if n >= min(2, len(pairs)))
        found = next((g for g in near if alike_information(leaders[g], subject)), None)
        if found is None:
            found = len(leaders)
            leaders.append(subject)
            members.append([])
            for p in pairs:
                index[p].add(found)
        members[found].append(item)
    groups = [InformationGroup(tuple(m), count_applicants(m)) for m in members]
    kept = [g for g in groups if g.applicants >= min_applicants]
    return sorted(kept, key=lambda g: (-g.applicants, -len(g.requests), g.first_on))


def publication_candidates(
    session: Session,
    agency_id: int,
    start: date,
    end: date,
    min_applicants: int = ART44_APPLICANTS,
) -> list[InformationGroup]:
    """The agency's information asked for by at least ``min_applicants`` different
    applicants among the requests received from ``start`` to ``end`` (voided ones not
    counted): candidates for 主动公开 (条例 Art. 44)."""
    rows = session.scalars(
        select(Request)
        .where(
            Request.agency_id == agency_id,
            Request.received_on >= start,
            Request.received_on <= end,
            Request.state != "voided",
        )
        .order_by(Request.received_on, Request.id)
        .limit(ART44_READ_LIMIT)
    )
    return group_information(rows, min_applicants)


def information_applicants(session: Session, request: Request) -> int:
    """How many different applicants (this one included) asked the agency for information
    alike this request's in the 12 months around it: the request page's Art. 44 flag."""
    others = _same_information_rows(session, request, limit=2000)
    return count_applicants([request, *others])
