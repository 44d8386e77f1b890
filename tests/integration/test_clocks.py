"""The stored reply clock: the workbench and the "overdue" filter select by it in SQL.

Every expectation is computed the slow way — each request's deadlines replayed from its
events (``workflow.requests.deadlines.compute_deadlines``) — and compared with what the pages and
the projection say, on the demo data and after calendar changes.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from alembic import command
from click.testing import CliRunner
from sqlalchemy import select, update

from commands.admin import init
from models import Agency, CalendarOverride, Request, RequestFacts
from models.db import make_session_factory
from models.migrate import alembic_config
from views import dashboard
from workflow.admin import operations as admin_ops
from workflow.catalog.states import OPEN_STATES
from workflow.kernel.actor import Actor, local_today
from workflow.requests import operations as ops
from workflow.requests.clocks import refresh_open_clocks
from workflow.statistics.queries import verify_projection
from workflow.statistics.scope import Scope
from workflow.store.calendar import load_calendar

PAUSED = {"third_party_consultation", "agency_consultation", "awaiting_fee"}
OPEN = {s.value for s in OPEN_STATES}
TRACKING = re.compile(r">(\d{4}-\d{4})</a>")


def _today() -> date:
    return local_today(datetime.now(UTC))


def _full(session, today: date) -> dict[str, object]:
    """Tracking number → deadlines of every open request, replayed from its events."""
    calendar = load_calendar(session)
    found = {}
    for req in session.scalars(
        select(Request).where(Request.state.in_([s.value for s in OPEN_STATES]))
    ):
        found[req.tracking_no] = ops.deadlines_of(req, ops.history(session, req), calendar, today)
    return found


def _section(page: str, heading: str, following: str) -> list[str]:
    part = page.split(heading, 1)[1].split(following, 1)[0]
    return TRACKING.findall(part)


@pytest.fixture
def demo(request, session):
    """The session, on the demo data: the test is marked ``demo``."""
    assert request.node.get_closest_marker("demo"), "a test using `demo` is marked demo"
    return session


def _client(app, user: str = "chengban"):
    client = app.test_client()
    client.post("/login", data={"username": user, "password": "gongkai-demo"})
    return client


@pytest.mark.demo
def test_every_stored_clock_agrees_with_the_events(demo) -> None:
    """A stored date is the computed deadline; only a running fee pause (which slides
    daily) has none; ``paused`` is a pause still waiting for the other side."""
    today = _today()
    checked = 0
    for req in demo.scalars(select(Request)):
        full = ops.deadlines_of(req, ops.history(demo, req), load_calendar(demo), today)
        row = demo.get(RequestFacts, req.id)
        open_clock = full.days_left(today) is not None
        if row.reply_due is not None:
            assert open_clock and row.reply_due == full.reply_due, req.tracking_no
        elif open_clock:
            assert row.paused and full.fee_due is not None, req.tracking_no
        assert row.paused == (req.state in PAUSED), req.tracking_no
        # The other side's deadline: consulted party, fee payer, or the applicant's 补正.
        other = full.consultation_due or full.fee_due
        if req.state == "supplement_requested":
            other = full.applicant_supplement_due
        assert row.pause_due == (other if req.state in OPEN else None), req.tracking_no
        checked += row.reply_due is not None and not row.paused
    assert checked > 20  # the demo has running clocks in every urgency
    root = demo.scalar(select(Agency).where(Agency.parent_id.is_(None)))
    assert verify_projection(demo, Scope.of(root, with_subordinates=True)) == []


@pytest.mark.demo
def test_workbench_lists_exactly_the_overdue_and_due_soon(app, demo, monkeypatch) -> None:
    today = _today()
    full = _full(demo, today)
    # Every clock but a running fee pause (it slides daily) is selected by its stored date;
    # a consultation counts with the date a silent party leaves.
    running = {t: d.days_left(today) for t, d in full.items() if d.fee_due is None}
    overdue = sorted((left, t) for t, left in running.items() if left is not None and left < 0)
    soon = sorted((left, t) for t, left in running.items() if left is not None and 0 <= left <= 5)
    assert overdue and soon, "the demo should have both"
    monkeypatch.setattr(dashboard, "SHOWN", 3)
    page = _client(app).get("/dashboard").text
    shown_overdue = _section(page, "已逾期", "个工作日内到期")
    shown_soon = _section(page, "个工作日内到期", "我承办的在办申请")
    # The most urgent first; ties on the same due date may come in either order.
    assert [running[t] for t in shown_overdue] == [left for left, _ in overdue[:3]]
    assert [running[t] for t in shown_soon] == [left for left, _ in soon[:3]]
    assert f'<span class="count overdue">{len(overdue)}</span>' in page
    assert f'<span class="count due-soon">{len(soon)}</span>' in page
    if len(overdue) > 3:
        assert "在申请列表中查看全部逾期申请" in page


@pytest.mark.demo
def test_overdue_filter_includes_a_clock_paused_too_late(app, demo) -> None:
    """A consultation started after the deadline does not make the request punctual."""
    today = _today()
    user = demo.scalar(select(ops.User).where(ops.User.username == "chengban"))
    actor = Actor.of(user)
    now = datetime.now(UTC)
    late = ops.register(
        demo,
        actor,
        now,
        {
            "applicant_name": "逾期后征求意见",
            "applicant_kind": "natural_person",
            "subject": "某地块征收补偿方案",
            "channel": "in_person",
            "submitted_on": (today - timedelta(days=70)).isoformat(),
        },
        agency=user.agency,
    )
    ops.fire(demo, late, "accept", actor, now, {"effective_date": late.received_on.isoformat()})
    ops.fire(
        demo,
        late,
        "consult_third_party",
        actor,
        now,
        {"effective_date": today.isoformat(), "party": "某公司"},
    )
    demo.commit()
    assert demo.get(RequestFacts, late.id).paused
    full = _full(demo, today)
    assert full[late.tracking_no].overdue(today)
    expected = {t for t, d in full.items() if d.overdue(today)}
    client = _client(app)
    seen: list[str] = []
    url = "/requests?overdue=1"
    while url:
        page = client.get(url).text
        seen += TRACKING.findall(page)
        found = re.search(r'href="(/requests\?[^"]*)" rel="next"', page)
        url = found.group(1).replace("&amp;", "&") if found else ""
    assert sorted(seen) == sorted(expected)
    # A consultation begun after the deadline revives nothing: the workbench lists it too.
    assert late.tracking_no in _section(client.get("/dashboard").text, "已逾期", "个工作日内到期")


@pytest.mark.demo
def test_a_calendar_change_moves_the_stored_deadlines(demo) -> None:
    today = _today()
    row = demo.scalar(
        select(RequestFacts)
        .where(RequestFacts.reply_due > today + timedelta(days=7))
        .order_by(RequestFacts.reply_due)
        .limit(1)
    )
    assert row is not None
    due = row.reply_due
    calendar = load_calendar(demo)
    workday = next(
        today + timedelta(days=n)
        for n in range(1, 8)
        if calendar.is_workday(today + timedelta(days=n))
    )
    admin_ops.add_calendar_override(demo, workday, "restday", "临时调整")
    assert not load_calendar(demo).is_workday(workday)  # no stale cached calendar
    moved = demo.get(RequestFacts, row.request_id).reply_due
    assert moved == load_calendar(demo).add_working_days(due, 1).day
    demo.commit()
    admin_ops.remove_calendar_override(demo, workday)
    assert demo.get(RequestFacts, row.request_id).reply_due == due
    assert load_calendar(demo).is_workday(workday)
    root = demo.scalar(select(Agency).where(Agency.parent_id.is_(None)))
    assert verify_projection(demo, Scope.of(root, with_subordinates=True)) == []


@pytest.mark.demo
def test_a_stale_clock_is_found_repaired_and_refreshed(demo) -> None:
    root = demo.scalar(select(Agency).where(Agency.parent_id.is_(None)))
    scope = Scope.of(root, with_subordinates=True)
    target = demo.scalar(select(RequestFacts).where(RequestFacts.reply_due.is_not(None)).limit(1))
    rid, due = target.request_id, target.reply_due
    demo.execute(
        update(RequestFacts)
        .where(RequestFacts.request_id == rid)
        .values(reply_due=date(2000, 1, 1))
    )
    demo.expire_all()
    assert verify_projection(demo, scope) == [rid]
    assert verify_projection(demo, scope, repair=True) == [rid]
    assert demo.get(RequestFacts, rid).reply_due == due
    # What init runs after an upgrade (e.g. a newer calendar package) does the same.
    demo.execute(update(RequestFacts).values(reply_due=None))
    assert refresh_open_clocks(demo, load_calendar(demo)) > 20
    assert verify_projection(demo, scope) == []


@pytest.mark.demo
def test_upgrading_with_init_computes_the_clocks_of_existing_requests(
    engine, db_url, demo, monkeypatch
) -> None:
    """An existing database upgraded through 0008 by ``init`` gets every open clock stored."""
    before = dict(demo.execute(select(RequestFacts.request_id, RequestFacts.reply_due)).all())
    demo.close()
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0007")
    monkeypatch.setenv("DATABASE_URL", db_url)
    result = CliRunner().invoke(init, [])
    assert result.exit_code == 0, result.output
    with engine.connect() as conn:
        after = dict(conn.execute(select(RequestFacts.request_id, RequestFacts.reply_due)).all())
    assert after == before and any(after.values())


def test_the_cached_calendar_follows_a_change_made_elsewhere(engine, session) -> None:
    """Another process's calendar edit reaches this one at its next transaction."""
    day = date(2027, 3, 1)  # a Monday
    assert load_calendar(session).is_workday(day)
    session.commit()
    other = make_session_factory(engine)()
    admin_ops.add_calendar_override(other, day, "restday", "地方调整")
    other.commit()
    other.close()
    assert not load_calendar(session).is_workday(day)
    # A direct write (no admin function) renews the token as well.
    session.add(CalendarOverride(day=date(2027, 3, 2), is_workday=False))
    session.flush()
    assert not load_calendar(session).is_workday(date(2027, 3, 2))
