"""Corrections (更正发布) are in the hash chain of what an agency published (issue 18, item 3).

The attacks are raw SQL with the append-only triggers lifted: a correction's reason or
numbers rewritten, a correction removed (the newest, and one in the middle), and the
newest publication removed. ``verify-log`` must name each; before, a correction row was
covered by nothing but its own content hash, which an editor recomputes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from alembic import command
from sqlalchemy import Engine, select, text

from documents.report_pdf import rendered_report
from models import Agency, ReportCorrection
from models.event import AppendOnlyError
from models.migrate import upgrade
from tests.conftest import NOW
from tests.integration.test_migration_0009 import _migrate
from tests.integration.world import decided_request
from workflow.admin.log_check import verify_log
from workflow.annual_report.publishing import canonical_hash, correction_link, publish, republish
from workflow.kernel.actor import Actor
from workflow.statistics.scope import Scope

LATER = NOW.replace(year=NOW.year + 1)
TABLES = ("report_corrections", "published_reports")


@contextmanager
def unprotected(engine: Engine) -> Iterator[None]:
    """The append-only triggers of the two report tables down, then put back as they were."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            saved = [
                (name, sql)
                for name, sql in conn.execute(
                    text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
                )
                if name.startswith(TABLES)
            ]
            for name, _sql in saved:
                conn.execute(text(f"DROP TRIGGER {name}"))
        else:
            saved = conn.execute(
                text(
                    "SELECT tgname, pg_get_triggerdef(oid), tgrelid::regclass::text "
                    "FROM pg_trigger WHERE NOT tgisinternal AND tgrelid IN "
                    "('report_corrections'::regclass, 'published_reports'::regclass)"
                )
            ).all()
            for name, _sql, table in saved:
                conn.execute(text(f"DROP TRIGGER {name} ON {table}"))
    assert saved, "expected the append-only triggers to exist"
    try:
        yield
    finally:
        with engine.begin() as conn:
            for _name, sql, *_ in saved:
                conn.execute(text(sql))


def corrupt(engine: Engine, statement: str, **params: object) -> None:
    with unprotected(engine), engine.begin() as conn:
        conn.execute(text(statement), params)


@pytest.fixture
def corrected(session, agency, users) -> dict[str, int]:
    """A year published and corrected twice (each after a new decided request), and a
    second year published after the corrections."""
    approver = Actor.of(users["approver"])
    scope = Scope.of(agency, with_subordinates=False)
    decided_request(session, agency, users["registrar"], users["handler"])
    original = publish(session, approver, LATER, scope, NOW.year)
    session.commit()
    rows = []
    for reason in ("补录一件漏登的申请", "再补录一件漏登的申请"):
        decided_request(session, agency, users["registrar"], users["handler"])
        rows.append(
            republish(session, approver, LATER, scope, NOW.year, reason, render=rendered_report)
        )
        session.commit()
    publish(session, approver, LATER, scope, NOW.year - 1)
    session.commit()
    assert verify_log(session) == []
    ids = {"report": original.id, "first": rows[0].id, "second": rows[1].id}
    session.rollback()
    return ids


def problems(session) -> list[str]:
    session.expire_all()
    found = verify_log(session)
    assert {p.kind for p in found} <= {"report"}, found
    return [f"{p.subject} {p.detail}" for p in found]


def test_every_correction_is_linked_after_the_version_it_replaces(session, corrected) -> None:
    first = session.get(ReportCorrection, corrected["first"])
    second = session.get(ReportCorrection, corrected["second"])
    assert first.chain_hash and second.chain_hash
    assert correction_link("sha256", None, first.published_report.chain_hash, first) == (
        first.chain_hash
    )
    assert correction_link("sha256", first.chain_hash, first.chain_hash, second) == (
        second.chain_hash
    )
    agency = session.get(Agency, first.published_report.agency_id)
    assert agency.correction_head == second.chain_hash


def test_an_edited_correction_reason(engine, session, corrected) -> None:
    corrupt(
        engine,
        "UPDATE report_corrections SET reason = '上级要求修改数字' WHERE id = :i",
        i=corrected["first"],
    )
    found = problems(session)
    assert found and all("第1次更正" in line for line in found), found


def test_edited_numbers_with_their_content_hash_recomputed(engine, session, corrected) -> None:
    """The editor recomputes the content hash too: the chain link still shows it."""
    row = session.get(ReportCorrection, corrected["second"])
    numbers = {**row.numbers, "forged": 1}
    forged_hash = canonical_hash(numbers)
    session.rollback()
    corrupt(
        engine,
        "UPDATE report_corrections SET numbers = :n, content_hash = :h WHERE id = :i",
        n=json.dumps(numbers, ensure_ascii=False),
        h=forged_hash,
        i=corrected["second"],
    )
    found = problems(session)
    assert any("第2次更正" in line and "链接摘要不符" in line for line in found), found


def test_the_newest_correction_removed(engine, session, corrected) -> None:
    corrupt(engine, "DELETE FROM report_corrections WHERE id = :i", i=corrected["second"])
    found = problems(session)
    assert any("最新的更正被删除" in line for line in found), found


def test_a_middle_correction_removed(engine, session, corrected) -> None:
    corrupt(engine, "DELETE FROM report_corrections WHERE id = :i", i=corrected["first"])
    found = problems(session)
    assert any("第2次更正" in line and "不连续" in line for line in found), found
    assert any("第2次更正" in line and "链接摘要不符" in line for line in found), found


def test_the_newest_publication_removed(engine, session, corrected) -> None:
    newest = session.scalar(text("SELECT max(id) FROM published_reports"))
    session.rollback()
    corrupt(engine, "DELETE FROM published_reports WHERE id = :i", i=newest)
    found = problems(session)
    assert any("最新的发布被删除" in line for line in found), found


def test_the_app_cannot_change_a_correction(session, corrected) -> None:
    row = session.get(ReportCorrection, corrected["first"])
    row.reason = "改掉原因"
    with pytest.raises(AppendOnlyError):
        session.flush()
    session.rollback()


def test_migration_links_existing_corrections_as_the_live_code_does(
    engine, session, corrected
) -> None:
    links = session.execute(
        select(ReportCorrection.id, ReportCorrection.chain_hash).order_by(ReportCorrection.id)
    ).all()
    heads = session.execute(
        select(Agency.id, Agency.report_head, Agency.correction_head).order_by(Agency.id)
    ).all()
    session.close()
    _migrate(engine, command.downgrade, "0019")
    upgrade(engine)
    session.expire_all()
    assert (
        session.execute(
            select(ReportCorrection.id, ReportCorrection.chain_hash).order_by(ReportCorrection.id)
        ).all()
        == links
    )
    assert (
        session.execute(
            select(Agency.id, Agency.report_head, Agency.correction_head).order_by(Agency.id)
        ).all()
        == heads
    )
    assert verify_log(session) == []
