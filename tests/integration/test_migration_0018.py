"""Migration 0018 on a database with replies: the reply facts are marked from the events
in frozen SQL, and ``init``'s recount (``refresh_reply_days``) fills the working days."""

from __future__ import annotations

from alembic import command
from sqlalchemy import select

from models import RequestFacts
from models.db import make_session_factory
from models.migrate import alembic_config, upgrade
from tests.conftest import make_user
from tests.integration.supervision_world import build_province
from workflow.requests.clocks import refresh_reply_days
from workflow.store.calendar import load_calendar


def _migrate(engine, direction, revision: str) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        direction(cfg, revision)


def _facts(session) -> dict[int, tuple[int | None, bool]]:
    session.expire_all()
    rows = session.execute(
        select(RequestFacts.request_id, RequestFacts.reply_days, RequestFacts.replied_late)
    )
    return {rid: (days, bool(late)) for rid, days, late in rows}


def test_0018_backfills_the_reply_facts(engine, session, agency) -> None:
    supervisor = make_user(session, agency, "supervisor", "viewer")
    province = build_province(session, agency, supervisor)
    written = _facts(session)  # as the live code projects them
    ids = {key: req.id for key, req in province.requests.items()}
    session.close()
    _migrate(engine, command.downgrade, "0011")
    upgrade(engine)
    with make_session_factory(engine)() as fresh:
        marked = _facts(fresh)
        assert marked[ids["r2"]] == (-1, True)  # a late reply, days not yet counted
        assert marked[ids["r1"]] == (-1, False)
        assert marked[ids["r4"]] == (None, False)  # withdrawn: no reply
        assert marked[ids["r3"]] == (None, False)  # open
        assert refresh_reply_days(fresh, load_calendar(fresh)) == sum(
            1 for days, _ in marked.values() if days == -1
        )
        fresh.commit()
        assert _facts(fresh) == written
