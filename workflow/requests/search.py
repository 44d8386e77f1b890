"""Full-text search in SQL: the word index of each database, exact identifiers, checks.

The words come from ``workflow.requests.search_text`` and live in the projection's
``search_text`` column, written with every event (``operations.project``) and by the bulk
path (``ledger.memory_replay``). SQLite answers a query from the FTS5 table
``request_search`` (migration 0019 keeps it in step with triggers), PostgreSQL from the
GIN index on ``to_tsvector('simple', search_text)``. Tracking number, ID number, phone
and ledger reference are compared whole, each on its own b-tree index. Nothing is
windowed: every match of the list's other filters is reachable, page after page.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from models import SEARCH_INDEX_TABLE, Notice, Request, RequestFacts
from models.pii import keys as pii_keys
from models.pii import same
from workflow.requests.operations import histories
from workflow.requests.search_text import Query, document, notes_of, parse_query

FTS_TABLE = SEARCH_INDEX_TABLE
#: Digits that make a phone number's prefix worth looking up (an area code and more).
PHONE_PREFIX = 7
#: Characters only a notice number (文书号) has: the search then also looks at notices.
NOTICE_NUMBER_MARKS = ("〔", "〕", "第", "号")


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _text_ids(session: Session, query: Query) -> Select[tuple[int]]:
    """Ids of the requests whose words contain every group of ``query``."""
    if _dialect(session) == "sqlite":
        return (
            select(literal_column("rowid"))
            .select_from(text(FTS_TABLE))
            .where(literal_column(FTS_TABLE).op("MATCH")(query.fts5()))
        )
    vector = func.to_tsvector(literal_column("'simple'::regconfig"), RequestFacts.search_text)
    tsquery = func.to_tsquery(literal_column("'simple'::regconfig"), query.tsquery())
    return select(RequestFacts.request_id).where(vector.op("@@")(tsquery))


def matches(
    session: Session, q: str, agency_ids: Iterable[int] | None = None
) -> ColumnElement[bool]:
    """The list's search: ``q`` as words of the subject, applicant or notes, or ``q`` as
    a whole tracking number, ID number, phone number or ledger reference, the start of a
    phone number, or part of a notice's number.

    One ``id IN (… UNION ALL …)``: each branch is an index lookup (the word index, or
    the identifier's b-tree), so the database never evaluates an OR row by row over the
    visible requests (that cost 89 ms for a word found nowhere at 10k requests)."""
    exact = q.strip()
    branches: list[Select[tuple[int]]] = [
        select(Request.id).where(condition)
        for condition in (
            Request.tracking_no == exact,
            # The check character X in either case; the keyed hash when encrypted.
            same(Request.id_number, exact.upper()),
            same(Request.phone, exact),
            Request.external_ref == exact,
        )
    ]
    if exact.isdigit() and len(exact) >= PHONE_PREFIX and pii_keys() is None:
        # The start of a phone number, as an applicant reads it out (the b-tree's range);
        # not while phone numbers are encrypted: ciphertext has no prefix to search.
        branches.append(select(Request.id).where(Request.phone.startswith(exact)))
    if any(mark in exact for mark in NOTICE_NUMBER_MARKS):
        # A notice's number or part of it (文书号 “〔2026〕第12号”, issue 15 item 6).
        pattern = "%" + exact.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        branches.append(select(Notice.request_id).where(Notice.number.like(pattern, escape="\\")))
    query = parse_query(q)
    if query and _dense_in_scope(session, query, agency_ids):
        # A word in many of the newest requests the reader sees (征收 in a fifth of them):
        # walk the list's order and read each row's stored words, stopping at the page's
        # end. Collecting its matches from the index first (200,000 ids for the province
        # at 1M) cost 60 ms on SQLite and 1.4 s on PostgreSQL a statement; this costs
        # 1–20 ms, the same rows in the same order (bench/RESULTS.md).
        return or_(Request.id.in_(union_all(*branches)), _row_has_words(query))
    if query:
        words = _text_ids(session, query)
        if agency_ids is not None and _dialect(session) != "sqlite":
            # The reader's agencies inside the word branch: without them the GIN bitmap
            # returns the matches of every agency, and PostgreSQL (estimating the union
            # at 200 rows) looks each up by primary key to drop the invisible ones — a
            # common word cost a department 1.1 s at 100k (bench/RESULTS.md).
            words = words.where(RequestFacts.agency_id.in_(list(agency_ids)))
        branches.append(words)
    if query and _common_on_sqlite(session, query):
        # Looking the matches up by id, SQLite sorts every one of them for the page's
        # order (~2,000 matches of the province at 10k: 164 ms, linear). ``id + 0``
        # cannot use the primary key, so it walks the list's order index and checks each
        # row against the matches instead, stopping at the page's end (64 ms, flat in
        # the size: bench/RESULTS.md).
        return (Request.id + 0).in_(union_all(*branches))
    return Request.id.in_(union_all(*branches))


#: A word with at least this many matches is "common" (SQLite: see ``matches``).
COMMON_MATCHES = 1000
#: The dense-word probe: how many of the reader's newest requests it reads, and how many
#: of them must hold the words (5 %) for the row-by-row plan of ``matches`` to pay.
PROBE_ROWS = 1000
DENSE_HITS = 50


def _holds_words(query: Query) -> ColumnElement[bool]:
    """The stored words (``search_text``) hold every group of ``query``: the condition the
    word index answers (a group of several words as a phrase, or as one word), read off
    the row — its words are letters and digits, one space apart."""
    padded = literal(" ") + RequestFacts.search_text + literal(" ")

    def holds(group: tuple[str, ...]) -> ColumnElement[bool]:
        forms = sorted({" ".join(group), "".join(group)})
        return or_(*(padded.contains(f" {form} ", autoescape=True) for form in forms))

    return and_(*(holds(g) for g in query.groups))


def _row_has_words(query: Query) -> ColumnElement[bool]:
    """:func:`_holds_words` of the outer request's projection row, looked up row by row: a
    correlated count, because PostgreSQL turns an EXISTS into a hash of *every* matching
    row (a full scan: 0.5 s at 1M), which is what this plan is there to avoid."""
    found = (
        select(func.count())
        .where(RequestFacts.request_id == Request.id, _holds_words(query))
        .scalar_subquery()
    )
    return found > 0


def _dense_in_scope(session: Session, query: Query, agency_ids: Iterable[int] | None) -> bool:
    """Whether ``query``'s words are in at least DENSE_HITS of the PROBE_ROWS newest
    requests the reader sees: the rows the list walks first, so what the walk will meet."""
    scope = select(Request.id)
    if agency_ids is not None:
        scope = scope.where(Request.agency_id.in_(list(agency_ids)))
    newest = (
        scope.order_by(Request.received_on.desc(), Request.id.desc()).limit(PROBE_ROWS).subquery()
    )
    probe = (
        select(newest.c.id)
        .join(RequestFacts, RequestFacts.request_id == newest.c.id)
        .where(_holds_words(query))
        .limit(DENSE_HITS)
        .subquery()
    )
    return (session.scalar(select(func.count()).select_from(probe)) or 0) >= DENSE_HITS


def _common_on_sqlite(session: Session, query: Query) -> bool:
    """Whether ``query`` matches at least ``COMMON_MATCHES`` requests (SQLite only:
    PostgreSQL's planner estimates a word's frequency from its own statistics)."""
    if _dialect(session) != "sqlite":
        return False
    probe = _text_ids(session, query).limit(COMMON_MATCHES).subquery()
    found = session.scalar(select(func.count()).select_from(probe)) or 0
    return found >= COMMON_MATCHES


@dataclass(frozen=True)
class IndexProblem:
    """A request whose stored words or word index disagree with its rows."""

    request_id: int | None
    what: str


def index_problems(session: Session) -> list[IndexProblem]:
    """What is wrong with the word index itself (the stored words are checked with the
    rest of the projection by ``statistics.queries.verify_projection``).

    SQLite: FTS5's own ``integrity-check`` compares the index with ``search_text`` row
    for row, and the index must hold one document per projection row. PostgreSQL's GIN
    index is maintained by the database in the same transaction as the row.
    """
    if _dialect(session) != "sqlite":
        return []
    problems: list[IndexProblem] = []
    try:
        session.execute(
            text(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('integrity-check', 1)")
        )
    except DatabaseError as exc:
        problems.append(IndexProblem(None, f"全文索引与申请不一致：{exc}"))
    docs = session.scalar(text(f"SELECT count(*) FROM {FTS_TABLE}_docsize")) or 0
    rows = session.scalar(select(func.count()).select_from(RequestFacts)) or 0
    if docs != rows:
        problems.append(IndexProblem(None, f"全文索引有 {docs} 条，统计投影有 {rows} 行"))
    return problems


def rebuild_index(session: Session) -> None:
    """Rebuild SQLite's word index from ``search_text`` (nothing to do on PostgreSQL)."""
    if _dialect(session) == "sqlite":
        session.execute(text(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')"))


def fill_missing(session: Session, batch: int = 1000) -> int:
    """Write ``search_text`` for projection rows that have none (rows older than
    migration 0019, which cannot run the live segmenter): ``python app.py init``."""
    filled, last = 0, 0
    while True:
        pairs = session.execute(
            select(Request, RequestFacts)
            .join(RequestFacts, RequestFacts.request_id == Request.id)
            .where(RequestFacts.search_text == "", Request.id > last)
            .order_by(Request.id)
            .limit(batch)
        ).all()
        if not pairs:
            return filled
        events = histories(session, [r.id for r, _ in pairs])
        for request, row in pairs:
            row.search_text = document(
                request.subject, request.applicant_name, notes_of(events.get(request.id, []))
            )
        session.flush()
        filled += len(pairs)
        last = pairs[-1][0].id
