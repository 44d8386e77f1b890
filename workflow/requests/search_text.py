"""Chinese full-text search: the words a request is found by, and the words of a query.

Chinese has no spaces, so a substring search cannot use an index and a trigram index
cannot find two-character words (征收, 拆迁, 低保). Instead the subject, the applicant's
name and the notes (备注) of a request's events are segmented into words with jieba
(dictionary only, ``HMM=False``: the same characters segment the same way in a document
and in a query, whatever surrounds them) and stored, space-separated, in the projection's
``search_text`` (``models.RequestFacts``). The database indexes that column word by word
(SQLite FTS5, PostgreSQL ``tsvector`` with the ``simple`` configuration), so a search is
an index lookup of whole words (docs/domain.md §20).

The document holds the words in reading order, then the shorter dictionary words inside
long ones (jieba's search mode: 国有土地 also gives 国有, 土地), then every two-character
piece of the applicant's name (a name is not in the dictionary: 张三丰 is found by 张三
and 三丰). A query is segmented the same way; every word must occur. Characters that
jieba leaves alone (not in its dictionary) are single-character words in both, and a run
of them in a query must occur as that run (a phrase), so 某某 does not match every 某,
or as one word (the name pieces: 张三 is cut into 张 and 三 but indexed whole).

This module is pure (no database); ``workflow.requests.search`` builds the SQL.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import jieba

#: Bumped whenever the rules below change what a document holds, so that
#: ``stats-verify --repair`` (which compares every row's text) knows to rewrite it.
SEGMENTER = f"jieba {jieba.__version__}, dictionary only"

#: The payload fields whose free text is searched along with the subject.
NOTE_FIELDS = ("note",)

_lock = threading.Lock()
_ready = False


class _HasPayload(Protocol):
    payload: Mapping[str, Any]


def prepare() -> None:
    """Load jieba's dictionary now (about 1 s and 60 MB, once per process, quietly): before
    forking replay processes, so they inherit it instead of each loading it again."""
    _initialise()


def _initialise() -> None:
    global _ready
    if _ready:
        return
    with _lock:
        if not _ready:
            jieba.setLogLevel(logging.WARNING)
            jieba.initialize()
            _ready = True


def _word(token: str) -> str:
    """A token as the index stores it: letters and digits only, lower case ('' = none)."""
    return "".join(ch for ch in token if ch.isalnum()).lower()


def words(text: str) -> list[str]:
    """``text`` cut into words in reading order (punctuation and spaces dropped)."""
    return list(_cut(text))


def _inner_words(text: str) -> list[str]:
    """The dictionary words inside the longer words of ``text`` (search mode)."""
    return list(_cut_for_search(text))


# Segmenting is a pure function of the text (the dictionary is fixed once loaded), and
# jieba cuts a text block by block — runs of han characters, letters and digits, split
# at punctuation and spaces (its own ``re_han_default``) — each block on its own. So the
# words of a text are the words of its blocks, and blocks recur by the thousand in a
# ledger or a year (本区2025年度部门预算及 …) even when whole subjects never do: each
# block's words are remembered. Same words, in the same order, as cutting the whole text.
_BLOCKS = getattr(jieba, "re_han_default", None)


def _blocks(text: str) -> list[str]:
    if _BLOCKS is None:  # a jieba without the block pattern: cut the text whole
        return [text]
    return [block for block in _BLOCKS.split(text) if block]


def _cut(text: str) -> tuple[str, ...]:
    return tuple(w for block in _blocks(text) for w in _cut_block(block))


def _cut_for_search(text: str) -> tuple[str, ...]:
    return tuple(w for block in _blocks(text) for w in _cut_block_for_search(block))


@lru_cache(maxsize=65536)
def _cut_block(block: str) -> tuple[str, ...]:
    _initialise()
    return tuple(w for w in (_word(t) for t in jieba.cut(block, HMM=False)) if w)


@lru_cache(maxsize=65536)
def _cut_block_for_search(block: str) -> tuple[str, ...]:
    _initialise()
    return tuple(w for w in (_word(t) for t in jieba.cut_for_search(block, HMM=False)) if w)


def _name_pieces(name: str) -> list[str]:
    chars = _word(name)
    return [chars[i : i + 2] for i in range(len(chars) - 1)]


def notes_of(events: Iterable[_HasPayload]) -> list[str]:
    """The free-text notes (备注) recorded on a request's events, in order."""
    out = []
    for event in events:
        for field in NOTE_FIELDS:
            value = event.payload.get(field)
            if isinstance(value, str) and value.strip():
                out.append(value)
    return out


def document(subject: str, applicant_name: str, notes: Sequence[str] = ()) -> str:
    """The ``search_text`` of a request: its words, then the inner words and name pieces."""
    texts = [subject, applicant_name, *notes]
    ordered: list[str] = []
    for text in texts:
        ordered.extend(words(text))
    seen = set(ordered)
    extra: list[str] = []
    for piece in [w for t in texts for w in _inner_words(t)] + _name_pieces(applicant_name):
        if piece not in seen:
            seen.add(piece)
            extra.append(piece)
    return " ".join(ordered + extra)


@dataclass(frozen=True)
class Query:
    """A search as the index answers it: every group must occur; a group of several
    words is a phrase (single characters jieba did not join, which must stay adjacent)."""

    groups: tuple[tuple[str, ...], ...]

    def __bool__(self) -> bool:
        return bool(self.groups)

    def fts5(self) -> str:
        """The SQLite FTS5 MATCH expression (each word quoted, so no operator injection);
        a phrase also matches as one word (a name piece: 张三 is indexed whole)."""

        def one(group: tuple[str, ...]) -> str:
            if len(group) == 1:
                return f'"{group[0]}"'
            return f'("{" ".join(group)}" OR "{"".join(group)}")'

        return " AND ".join(one(g) for g in self.groups)

    def tsquery(self) -> str:
        """The PostgreSQL ``to_tsquery('simple', …)`` text, the same rules (words are
        letters and digits only, so quoting them is enough)."""

        def one(group: tuple[str, ...]) -> str:
            if len(group) == 1:
                return f"'{group[0]}'"
            return "(" + " <-> ".join(f"'{w}'" for w in group) + f" | '{''.join(group)}')"

        return " & ".join(one(g) for g in self.groups)


def parse_query(q: str) -> Query:
    """The query's words, single characters in a row joined into phrases."""
    groups: list[tuple[str, ...]] = []
    run: list[str] = []
    for w in words(q):
        if len(w) == 1 and not w.isascii():
            run.append(w)
            continue
        if run:
            groups.append(tuple(run))
            run = []
        groups.append((w,))
    if run:
        groups.append(tuple(run))
    unique = tuple(dict.fromkeys(groups))
    return Query(unique)
