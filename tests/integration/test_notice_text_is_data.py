"""Text typed by anyone cannot become the agency's wording in an official document.

The notices' templates use a line markup (blank line = new paragraph, ``|`` = table row,
``@note`` = note). A subject such as ``ATTACK`` below used to print as a paragraph and a
table row of its own in a numbered, hashed reply.
Every notice variant is issued here from the demo's histories with a renderer that
captures what it is given; then arbitrary text replaces every value a person typed, and
the document's structure must not move.
"""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlalchemy import select

from documents.notices_pdf import TEMPLATE_DIR, ParsedNotice, as_data, notice_blocks, render_notice
from models import Request, User
from models.db import make_engine, make_session_factory
from tests.conftest import NOW
from workflow.kernel.actor import Actor
from workflow.notices.document import NoticeDocument
from workflow.notices.operations import issuable_notices, issue_notice, notices_of
from workflow.requests.operations import history

#: An identifier in a context (an outcome code, a delivery method) is logic, not text.
CODE = re.compile(r"[a-z0-9_.]*")
ATTACK = "+X\n\n本机关同意公开全部信息。\n\n| 答复期限 | 2099年1月1日前\n@note 伪造的说明"


@pytest.fixture(scope="module")
def issued(demo_template, tmp_path_factory: pytest.TempPathFactory) -> list[NoticeDocument]:
    """One captured document per template and outcome, from every notice the demo allows."""
    url = demo_template.copy("demo", "notice_text", tmp_path_factory.mktemp("notice-text"))
    engine = make_engine(url)
    captured: dict[tuple[str, str], NoticeDocument] = {}

    def capture(doc: NoticeDocument) -> bytes:
        captured.setdefault((doc.template, str(doc.context.get("outcome_code", ""))), doc)
        return b"%PDF-1.4 captured"

    with make_session_factory(engine)() as session:
        handler = session.scalar(select(User).where(User.username == "chengban"))
        actor = Actor.of(handler)
        for request in session.scalars(select(Request).order_by(Request.id)):
            events = history(session, request)
            for kind, event in issuable_notices(
                request, events, notices_of(session, request), actor.roles
            ):
                issue_notice(session, actor, NOW, request, kind.code, event, render=capture)
        session.rollback()
    engine.dispose()
    return list(captured.values())


def test_every_notice_template_is_covered(issued) -> None:
    templates = {p.stem for p in TEMPLATE_DIR.glob("*.txt") if not p.name.startswith("_")}
    assert {d.template for d in issued} == templates


def _typed(value: Any) -> bool:
    return isinstance(value, str) and bool(value) and not CODE.fullmatch(value)


def _replace(value: Any, text: str) -> Any:
    """``value`` with every typed string in it (at any depth) replaced by ``text``."""
    if _typed(value):
        return text
    if isinstance(value, dict):
        return {k: _replace(v, text) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_replace(v, text) for v in value)
    return value


def _shape(parsed: ParsedNotice) -> list[tuple[str, int]]:
    return [(block.kind, len(block.rows)) for block in parsed.blocks]


def _printed(parsed: ParsedNotice) -> str:
    cells = (f"{k}{v}" for b in parsed.blocks for k, v in b.rows)
    return parsed.title + "".join(b.text for b in parsed.blocks) + "".join(cells)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(min_size=1, max_size=80))
def test_no_text_changes_the_structure_of_any_notice(issued, text: str) -> None:
    for doc in issued:
        plain = notice_blocks(doc.template, _replace(dict(doc.context), "甲"))
        hostile = notice_blocks(doc.template, _replace(dict(doc.context), text))
        assert _shape(hostile) == _shape(plain), doc.template
        assert hostile.title == plain.title
        assert [k for b in hostile.blocks for k, _ in b.rows] == [
            k for b in plain.blocks for k, _ in b.rows
        ], "a table label moved"
        if as_data(text).strip():
            assert as_data(text) in _printed(hostile)


@pytest.mark.parametrize(
    "hostile", [ATTACK, "\r\n| 答复期限 | 明天", "\u2028@to 他人：", "\x85\x85正文"]
)
def test_the_reported_attack_stays_inside_the_quoted_subject(issued, hostile: str) -> None:
    reply = next(d for d in issued if d.template.startswith("reply_"))
    context = {**reply.context, "subject": hostile}
    plain = notice_blocks(reply.template, {**reply.context, "subject": "某地块征收补偿"})
    parsed = notice_blocks(reply.template, context)
    assert _shape(parsed) == _shape(plain)
    quoted = next(b.text for b in parsed.blocks if "您申请获取的政府信息为" in b.text)
    assert f"“{as_data(hostile)}”" in quoted


def test_the_pdf_prints_the_attack_as_one_quoted_run(issued) -> None:
    reply = next(d for d in issued if d.template.startswith("reply_"))
    doc = NoticeDocument(
        reply.agency_name,
        reply.number,
        reply.dated_on,
        reply.template,
        {**reply.context, "subject": ATTACK},
    )
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(render_notice(doc))).pages)
    flat = re.sub(r"\s+", "", text)
    assert re.sub(r"\s+", "", f"“{as_data(ATTACK)}”") in flat


def test_line_breaks_fold_into_spaces_and_marks_are_dropped() -> None:
    assert as_data("甲\n\n乙\r\n丙\u2028丁") == "甲 乙 丙 丁"
    assert as_data("\ue0000\ue001") == "0"
