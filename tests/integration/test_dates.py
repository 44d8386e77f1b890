"""Bad dates get a message, and back-dating needs a reason that the audit shows (item 7).

Review I9–I12 / V10: ``0001-01-01`` was a 500, 1900 and 2018 receipts were numbered, a
supplement due on 9999-12-31 was printed, and a decision back-dated by two months
counted as answered on time with nothing to show for it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

import settings
from models import Event, Request
from tests.conftest import NOW, PASSWORD, login
from tests.integration.world import intake, registered_request
from workflow.kernel.actor import Actor, local_today
from workflow.kernel.backdating import backdating
from workflow.kernel.errors import ValidationError
from workflow.requests import operations as ops


@pytest.fixture
def clerk(app, users):
    client = app.test_client()
    assert login(client, "registrar", PASSWORD).status_code == 200
    return client


def _count(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Request))


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("0001-01-01", "早于2008-05-01"),
        ("1900-01-01", "早于2008-05-01"),
        ("2008-04-30", "早于2008-05-01"),
        ("9999-12-31", "晚于2100-12-31"),
    ],
)
def test_out_of_bounds_receipts_get_a_message(clerk, session, day, message) -> None:
    before = _count(session)
    page = clerk.post("/requests/new", data={**intake(), "submitted_on": day})
    assert page.status_code == 400
    assert message in page.text
    assert _count(session) == before


def test_a_supplement_due_absurdly_far_ahead_is_refused(session, agency, users) -> None:
    req = registered_request(session, agency, users["registrar"])
    actor = Actor.of(users["registrar"])
    for due in ("9999-12-31", "2028-01-01"):
        with pytest.raises(ValidationError) as refused:
            ops.fire(
                session,
                req,
                "request_supplement",
                actor,
                NOW,
                {"effective_date": "2026-11-03", "items": "身份证明", "due_on": due},
            )
        assert "due_on" in refused.value.field_errors, refused.value.field_errors
    session.rollback()


def test_backdating_rule_is_pure_and_names_the_days() -> None:
    today = date(2026, 12, 3)
    assert backdating(today - timedelta(days=7), today, "", 7) is None
    with pytest.raises(ValidationError) as refused:
        backdating(today - timedelta(days=8), today, "", 7)
    assert "早于记录当天8天（超过7天）" in refused.value.field_errors["effective_date"]
    assert backdating(today - timedelta(days=8), today, "来信延迟", 7) == {
        "days": 8,
        "limit": 7,
        "reason": "来信延迟",
    }
    assert backdating(date(2019, 1, 1), today, "", None) is None  # a replay: provenance instead


def test_backdated_registration_needs_a_reason_and_is_flagged(
    clerk, session, monkeypatch, users
) -> None:
    monkeypatch.setenv(settings.BACKDATE_DAYS, "7")
    day = (local_today(datetime.now(UTC)) - timedelta(days=40)).isoformat()
    before = _count(session)
    refused = clerk.post("/requests/new", data={**intake(), "submitted_on": day})
    assert refused.status_code == 400
    assert "属于补录，请填写补录原因" in refused.text
    assert _count(session) == before

    done = clerk.post(
        "/requests/new",
        data={**intake(), "submitted_on": day, "backdate_reason": "纸质来信延迟转交"},
    )
    assert done.status_code == 302, done.text
    session.expire_all()
    event = session.scalars(select(Event).order_by(Event.id.desc())).first()
    assert event is not None and event.trigger == "register"
    assert event.payload["backdated"] == {"days": 40, "limit": 7, "reason": "纸质来信延迟转交"}

    admin = clerk.application.test_client()
    assert login(admin, "admin", PASSWORD).status_code == 200
    audit = admin.get(f"/audit/requests/{event.request_id}")
    assert audit.status_code == 200
    assert "补录" in audit.text and "纸质来信延迟转交" in audit.text
    detail = clerk.get(f"/requests/{event.request_id}")
    assert "法律日期早于记录当天40天" in detail.text


def test_a_backdated_decision_needs_a_reason(session, agency, users, monkeypatch) -> None:
    req = registered_request(session, agency, users["registrar"])
    actor = Actor.of(users["registrar"])
    with pytest.raises(ValidationError) as refused:
        ops.fire(
            session, req, "accept", actor, NOW, {"effective_date": "2026-11-02"}, backdate_limit=7
        )
    assert "backdate_reason" in refused.value.field_errors
    event = ops.fire(
        session,
        req,
        "accept",
        actor,
        NOW,
        {"effective_date": "2026-11-02", "backdate_reason": "系统故障后补录"},
        backdate_limit=7,
    )
    assert event.payload["backdated"]["days"] == 18
    session.commit()
