"""The workbench shows what needs attention: overdue and due-soon requests, counts, charts."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from models import Request, User
from models.agency import subtree_ids
from tests.conftest import login
from views import dashboard
from workflow.catalog.states import OPEN_STATES, STORED_STATES

TRACKING = re.compile(r">(\d{4}-\d{4})</a>")


@pytest.mark.demo
def test_workbench_on_the_demo(client, session) -> None:
    page = client.post(
        "/login", data={"username": "chengban", "password": "gongkai-demo"}, follow_redirects=True
    )
    assert page.status_code == 200 and "工作台" in page.text
    for heading in (
        "已逾期",
        "个工作日内到期",
        "我承办的在办申请",
        "在办申请",
        "本年各月收到申请",
    ):
        assert heading in page.text
    assert page.text.count("<svg") == 2
    assert "已逾期" in page.text and "个工作日" in page.text
    # What the lists hold, not just their headings: the handler's own open cases (the
    # earliest received first) and the open requests per state of the agencies seen.
    handler = session.scalar(select(User).where(User.username == "chengban"))
    open_values = [s.value for s in OPEN_STATES]
    mine = session.scalars(
        select(Request)
        .where(Request.handler_id == handler.id, Request.state.in_(open_values))
        .order_by(Request.received_on)
    ).all()
    assert mine, "the demo gives chengban open cases"
    own = page.text.split("我承办的在办申请", 1)[1].split("</section>", 1)[0]
    assert f'<span class="count">{len(mine)}</span>' in own
    shown = TRACKING.findall(own)
    by_number = {r.tracking_no: r for r in mine}
    assert len(shown) == min(len(mine), dashboard.SHOWN) and set(shown) <= set(by_number)
    assert [by_number[t].received_on for t in shown] == [r.received_on for r in mine][: len(shown)]
    visible = subtree_ids(session, handler.agency_id)
    counts = dict(
        session.execute(
            select(Request.state, func.count())
            .where(Request.agency_id.in_(visible), Request.state.in_(open_values))
            .group_by(Request.state)
        ).all()
    )
    states = page.text.split("<h2>在办申请", 1)[1].split("</section>", 1)[0]
    assert f'<span class="count">{sum(counts.values())}</span>' in states
    listed = dict(re.findall(r"<li><span>([^<]+)</span><strong>(\d+)</strong></li>", states))
    assert listed == {
        s.label: str(counts.get(s.value, 0)) for s in STORED_STATES if s in OPEN_STATES
    }


def test_workbench_is_empty_but_fine_for_a_new_agency(client, users) -> None:
    login(client, "viewer")
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert "没有逾期的申请" in page.text and "没有分配给您的在办申请" in page.text


def test_workbench_needs_login(client) -> None:
    assert client.get("/dashboard").status_code == 302
