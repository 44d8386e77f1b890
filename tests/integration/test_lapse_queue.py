"""期满待办 on the workbench: what has fallen due is listed, its lapse recorded in one step
(singly or several at once, each with its event and 告知书), and an action whose day has
not come is greyed with its reason (docs/domain.md §3.11)."""

from __future__ import annotations

from sqlalchemy import select

from models import Event, Notice
from tests.integration.test_pages import act_ok, client_for, days_ago, register_via_page, reload


def awaiting_supplement(client, session, due_days_ago: int) -> int:
    applicant = f"申请人{due_days_ago + 100}"  # distinct, so no duplicate warning
    rid = register_via_page(
        client, submitted_on=days_ago(40), applicant_name=applicant, subject=f"事项{applicant}"
    )
    act_ok(
        client,
        session,
        rid,
        "request_supplement",
        effective_date=days_ago(38),
        items="请写明文号",
        due_on=days_ago(due_days_ago),
    )
    return rid


def test_lapses_are_listed_and_recorded_together_with_their_notices(app, session, users) -> None:
    clerk = client_for(app, "registrar")
    first = awaiting_supplement(clerk, session, 10)
    second = awaiting_supplement(clerk, session, 3)
    waiting = awaiting_supplement(clerk, session, -5)  # 补正 deadline in five days
    page = clerk.get("/dashboard").text
    queue = page.split('id="pause-lapsed"', 1)[1].split("</section>", 1)[0]
    assert "期满待办" in queue and "已届满，可认定逾期未补正" in queue
    assert f'value="{first}"' in queue and f'value="{second}"' in queue
    assert f'value="{waiting}"' not in queue

    # A batch naming a request whose day has not come records nothing at all.
    refused = clerk.post("/dashboard/lapses", data={"request_id": [first, waiting]})
    assert refused.status_code == 302
    assert "未认定任何申请" in clerk.get("/dashboard").text
    assert reload(session, first).state == "supplement_requested"

    done = clerk.post("/dashboard/lapses", data={"request_id": [first, second]})
    assert done.status_code == 302
    assert "已认定逾期并出具告知书 2 件" in clerk.get("/dashboard").text
    for rid in (first, second):
        assert reload(session, rid).state == "concluded"
        lapse = session.scalar(
            select(Event).where(Event.request_id == rid, Event.trigger == "supplement_lapsed")
        )
        assert lapse is not None and lapse.actor_id == users["registrar"].id
        notice = session.scalar(select(Notice).where(Notice.event_id == lapse.id))
        assert notice is not None and notice.outcome == "other.supplement_lapsed"


def test_a_lapse_whose_day_has_not_come_is_greyed_with_its_reason(app, session, users) -> None:
    clerk = client_for(app, "registrar")
    rid = awaiting_supplement(clerk, session, -5)
    detail = clerk.get(f"/requests/{rid}").text
    assert f"补正期限（{days_ago(-5)}）尚未届满，不能认定逾期未补正" in detail


def test_reminder_count_on_the_bar_for_own_requests_and_for_the_approver(
    app, session, users
) -> None:
    handler = client_for(app, "handler")
    register_via_page(handler, submitted_on=days_ago(40))  # reply overdue by now
    badge = '<span class="count overdue" title="需要办理的提醒">1</span>'
    assert badge in handler.get("/requests").text
    assert badge not in client_for(app, "registrar").get("/requests").text  # not theirs
    assert badge in client_for(app, "approver").get("/requests").text  # the agency's
