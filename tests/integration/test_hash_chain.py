"""The hash chain makes tampering with the record visible (issue 18, item 3).

Each attack is what someone holding the database could do with raw SQL and the triggers
lifted: edit a decision and its projection row to match, remove an event and renumber
the rest, swap two events, rewrite an applicant's request, change published numbers.
``verify-log`` must name each, though the older structural checks see nothing wrong.
"""

from __future__ import annotations

import json

import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from models import ChallengeEvent, Event, Request
from models.migrate import upgrade
from tests.conftest import NOW
from tests.integration.test_log_check import corrupt, logged  # noqa: F401 - fixture
from tests.integration.test_migration_0009 import _migrate
from tests.integration.world import decided_request
from workflow.admin.log_check import verify_log
from workflow.annual_report.publishing import publish
from workflow.kernel import chain
from workflow.kernel.actor import Actor
from workflow.statistics.scope import Scope


def kinds(session) -> set[str]:
    session.expire_all()
    return {p.kind for p in verify_log(session)}


def test_every_write_path_links_its_events(session, logged) -> None:  # noqa: F811
    events = session.scalars(select(Event).order_by(Event.request_id, Event.seq)).all()
    assert events and all(e.hash and e.hash.startswith("sha256:") for e in events)
    decided = session.get(Request, logged["decided"])
    assert decided is not None
    mine = [e for e in events if e.request_id == decided.id]
    assert decided.log_hash == mine[-1].hash
    cases = session.scalars(select(ChallengeEvent)).all()
    assert cases and all(e.hash for e in cases)
    assert verify_log(session) == []


def test_an_edited_decision_with_its_projection_changed_to_match(engine, session, logged) -> None:  # noqa: F811
    """The V5 attack: the decision's outcome and the statistics row rewritten together."""
    r = logged["decided"]
    row = session.execute(
        text("SELECT payload FROM events WHERE request_id = :r AND \"trigger\" = 'decide'"),
        {"r": r},
    ).scalar()
    payload = json.loads(row) if isinstance(row, str) else dict(row)
    assert payload["outcome"] != "unavailable.not_held"
    payload["outcome"] = "unavailable.not_held"
    session.rollback()
    corrupt(
        engine,
        "UPDATE events SET payload = :p WHERE request_id = :r AND \"trigger\" = 'decide'",
        "UPDATE request_facts SET outcome = 'unavailable.not_held' WHERE request_id = :r",
        p=json.dumps(payload),
        r=r,
    )
    problems = verify_log(session)
    assert {p.kind for p in problems} == {"hash"}, problems
    assert any("决定" in p.detail or "decide" in p.detail for p in problems), problems


def test_a_removed_event_with_the_rest_renumbered(engine, session, logged) -> None:  # noqa: F811
    """Accept removed, decide renumbered 2 and re-chained in from_state: structurally whole."""
    r = logged["decided"]
    corrupt(
        engine,
        "DELETE FROM events WHERE request_id = :r AND seq = 2",
        "UPDATE events SET seq = 2, from_state = 'registered' WHERE request_id = :r AND seq = 3",
        "UPDATE requests SET last_seq = 2 WHERE id = :r",
        r=r,
    )
    assert "hash" in kinds(session)


def test_two_events_swapped(engine, session, logged) -> None:  # noqa: F811
    r = logged["decided"]
    corrupt(
        engine,
        "UPDATE events SET seq = 99 WHERE request_id = :r AND seq = 1",
        "UPDATE events SET seq = 1 WHERE request_id = :r AND seq = 2",
        "UPDATE events SET seq = 2 WHERE request_id = :r AND seq = 99",
        r=r,
    )
    assert "hash" in kinds(session)


def test_a_removed_tail_shows_at_the_head(engine, session, logged) -> None:  # noqa: F811
    r = logged["decided"]
    corrupt(
        engine,
        "DELETE FROM events WHERE request_id = :r AND seq = 3",
        "UPDATE requests SET last_seq = 2, state = 'in_review' WHERE id = :r",
        r=r,
    )
    problems = verify_log(session)
    assert any(p.kind == "hash" and "链头" in p.detail for p in problems), problems


def test_an_applicants_request_rewritten(engine, session, logged) -> None:  # noqa: F811
    corrupt(engine, "UPDATE requests SET subject = '别的内容' WHERE id = :r", r=logged["open"])
    problems = verify_log(session)
    assert [p.kind for p in problems] == ["content"], problems
    assert "subject" in problems[0].detail


def test_published_numbers_and_their_chain(engine, session, agency, users) -> None:
    old = NOW.replace(year=NOW.year + 1)
    decided_request(session, agency, users["registrar"], users["handler"])
    scope = Scope.of(agency, with_subordinates=False)
    first = publish(session, Actor.of(users["approver"]), old, scope, NOW.year)
    second = publish(session, Actor.of(users["approver"]), old, scope, NOW.year - 1)
    session.commit()
    assert first.chain_hash and second.chain_hash
    assert verify_log(session) == []
    session.rollback()
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE published_reports DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER published_reports_no_update"))
        conn.execute(
            text("UPDATE published_reports SET year = year - 5 WHERE id = :i"), {"i": first.id}
        )
    problems = verify_log(session)
    assert [p.kind for p in problems] == ["report"], problems
    assert f"id {first.id}" in problems[0].subject


def test_sm3_where_configured(monkeypatch, session, agency, users) -> None:
    if not chain.available(chain.SM3):
        pytest.skip("no SM3 on this platform")
    monkeypatch.setenv("GONGKAI_LOG_HASH", "sm3")
    request = decided_request(session, agency, users["registrar"], users["handler"])
    session.commit()
    links = session.scalars(select(Event.hash).where(Event.request_id == request.id)).all()
    assert links and all(link and link.startswith("sm3:") for link in links)
    # SM3 of "abc" from GB/T 32905-2016, appendix A.
    assert chain.digest(chain.SM3, b"abc") == (
        "sm3:66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    )
    assert verify_log(session) == []


def test_migration_links_existing_rows_as_the_live_code_does(engine, session, logged) -> None:  # noqa: F811
    before = session.execute(select(Event.id, Event.hash).order_by(Event.id)).all()
    heads = session.execute(select(Request.id, Request.log_hash).order_by(Request.id)).all()
    session.close()
    _migrate(engine, command.downgrade, "0011")
    upgrade(engine)
    session.expire_all()
    assert session.execute(select(Event.id, Event.hash).order_by(Event.id)).all() == before
    assert session.execute(select(Request.id, Request.log_hash).order_by(Request.id)).all() == heads
    assert verify_log(session) == []
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("UPDATE events SET seq = seq + 100"))
