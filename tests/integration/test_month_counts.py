"""The month counts behind the workbench's charts (``month_counts``, issue 19 item 4): each
writer of the projection keeps them equal to a recount of ``request_facts``; the workbench
draws them; ``stats-verify`` finds a count changed behind the application's back and
``--repair`` restores it; migration 0029 fills them on an existing database. (The bulk
path writes the same rows as the operations: ``test_bench_generator``, ``test_ledger_bulk``;
random histories keep them equal: ``test_statistics_db``.)"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from alembic import command
from sqlalchemy import update

from models import MonthCount
from models.db import make_session_factory
from models.migrate import alembic_config, upgrade
from tests.conftest import NOW
from tests.integration.test_challenges import concluded_request
from tests.integration.test_cli import cli
from tests.integration.test_pages import client_for
from workflow.kernel.actor import Actor, local_today
from workflow.requests import operations as ops
from workflow.statistics.month_counts import RECEIVED, recount, stale_counts, stored


def _counts(session) -> dict[tuple[date, str], int]:
    session.expire_all()
    return {(month, outcome): n for (_agency, month, outcome), n in stored(session).items()}


def test_counts_follow_a_request_through_decision_reopening_and_void(
    session, agency, users
) -> None:
    req = concluded_request(
        session, agency, users, "unavailable.not_held", "2026-06-01", "2026-07-02"
    )
    june, july, august = date(2026, 6, 1), date(2026, 7, 1), date(2026, 8, 1)
    assert _counts(session) == {(june, RECEIVED): 1, (july, "unavailable.not_held"): 1}

    approver, handler = Actor.of(users["approver"]), Actor.of(users["handler"])
    ops.fire(
        session, req, "reopen", approver, NOW, {"effective_date": "2026-08-03", "order": "判决"}
    )
    ops.fire(
        session,
        req,
        "decide",
        handler,
        NOW,
        {"effective_date": "2026-08-10", "outcome": "disclosed", "delivery": "post"},
    )
    session.commit()
    # The statistics count a request's first conclusion (docs/domain.md §6): a new reply
    # after a reopening changes neither month nor outcome.
    assert _counts(session) == {(june, RECEIVED): 1, (july, "unavailable.not_held"): 1}
    assert (august, "disclosed") not in _counts(session)

    other = concluded_request(session, agency, users, "disclosed", "2026-06-15", "2026-06-30")
    assert _counts(session)[(june, RECEIVED)] == 2
    ops.fire(
        session,
        other,
        "void",
        approver,
        NOW,
        {"effective_date": "2026-07-01", "reason": "重复登记"},
    )
    session.commit()
    # A voided request counts nowhere, and a count brought to zero leaves no row.
    assert _counts(session) == {(june, RECEIVED): 1, (july, "unavailable.not_held"): 1}
    assert stale_counts(session) == []


def test_the_workbench_draws_the_year_from_the_counts(app, session, agency, users) -> None:
    today = local_today(datetime.now(UTC))
    received, decided = date(today.year, 1, 5), date(today.year, 1, 20)
    for outcome in ("disclosed", "disclosed", "unavailable.not_held"):
        concluded_request(
            session, agency, users, outcome, received.isoformat(), decided.isoformat()
        )
    page = client_for(app, "approver").get("/dashboard").text
    months = page.split("年各月收到申请数", 1)[1].split("</svg>", 1)[0]
    values = [int(v) for v in re.findall(r'font-size="11">(\d+)</text>', months)]
    assert values[0] == 3 and sum(values) == 3
    outcomes = page.split("年办理结果构成", 1)[1].split("</svg>", 1)[0]
    assert "予以公开：2 件" in outcomes
    assert "无法提供：1 件" in outcomes


def test_stats_verify_finds_a_changed_count_and_repair_restores_it(
    db_url, session, agency, users
) -> None:
    concluded_request(session, agency, users, "disclosed", "2026-03-02", "2026-03-20")
    session.execute(update(MonthCount).where(MonthCount.outcome == RECEIVED).values(n=7))
    session.commit()

    found = cli(db_url, "stats-verify")
    assert found.returncode != 0
    assert "工作台的按月统计数 1 处与统计投影不一致" in found.stdout
    assert f"{agency.code} 2026-03 收到：记为 7，应为 1" in found.stdout

    repaired = cli(db_url, "stats-verify", "--repair")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "已按统计投影重建" in repaired.stdout
    assert stale_counts(session) == [] and _counts(session)[(date(2026, 3, 1), RECEIVED)] == 1
    assert cli(db_url, "stats-verify").returncode == 0


def test_0029_fills_the_counts_from_the_projection(engine, session, agency, users) -> None:
    concluded_request(session, agency, users, "disclosed", "2026-03-02", "2026-03-20")
    concluded_request(session, agency, users, "unavailable.not_held", "2026-03-09", "2026-04-01")
    expected = recount(session)
    assert sum(expected.values()) == 4
    session.close()

    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0028")
    upgrade(engine)
    with make_session_factory(engine)() as fresh:
        assert stored(fresh) == expected  # filled in frozen SQL, as the writers count
