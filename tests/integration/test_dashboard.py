"""The workbench shows what needs attention: overdue and due-soon requests, counts, charts."""

from __future__ import annotations

from tests.conftest import NOW, login
from workflow.admin.demo import load


def test_workbench_on_the_demo(client, session) -> None:
    load(session, NOW)
    session.commit()
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


def test_workbench_is_empty_but_fine_for_a_new_agency(client, users) -> None:
    login(client, "viewer")
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert "没有逾期的申请" in page.text and "没有分配给您的在办申请" in page.text


def test_workbench_needs_login(client) -> None:
    assert client.get("/dashboard").status_code == 302
