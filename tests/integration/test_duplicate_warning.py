"""Registration warns about a likely duplicate, and saves only after confirmation."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from models import Request
from tests.conftest import login


def form(**over: str) -> dict[str, str]:
    today = date.today().isoformat()
    return {
        "applicant_name": "张三",
        "applicant_kind": "natural_person",
        "subject": "某地块征收补偿安置方案",
        "channel": "in_person",
        "submitted_on": today,
        **over,
    }


def count(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Request))


def test_same_applicant_similar_subject_is_warned_then_saved_on_confirmation(
    client, session, users
):
    login(client, "registrar")
    assert client.post("/requests/new", data=form()).status_code == 302
    warned = client.post("/requests/new", data=form(subject="某地块的征收补偿安置方案"))
    assert warned.status_code == 200 and "可能重复登记" in warned.text
    assert count(session) == 1
    saved = client.post(
        "/requests/new", data=form(subject="某地块的征收补偿安置方案", confirm_duplicate="1")
    )
    assert saved.status_code == 302 and count(session) == 2


def test_different_subject_or_person_is_not_warned(client, session, users):
    login(client, "registrar")
    client.post("/requests/new", data=form())
    other_subject = client.post("/requests/new", data=form(subject="本区2025年度财政预算执行情况"))
    assert other_subject.status_code == 302
    other_person = client.post("/requests/new", data=form(applicant_name="李四"))
    assert other_person.status_code == 302
    assert count(session) == 3


def test_old_requests_are_not_duplicates(client, session, users):
    login(client, "registrar")
    old = (date.today() - timedelta(days=400)).isoformat()
    client.post("/requests/new", data=form(submitted_on=old))
    again = client.post("/requests/new", data=form())
    assert again.status_code == 302 and count(session) == 2
