"""The reminder list behind the navigation count (/reminders, issue 14 item 11): each
user's own requests (an approver: the agency's) and the agency's own case deadlines,
each linked; the count and the list come from one source and cannot disagree."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select

from models import User
from tests.integration.test_challenge_pages import LAWSUIT, file_via_page, replied_request
from tests.integration.test_lapse_queue import awaiting_supplement
from tests.integration.test_pages import client_for, days_ago, register_via_page
from workflow.challenges.agenda import reminder_count, reminders_for
from workflow.kernel.actor import local_today
from workflow.requests.reminders import Whose
from workflow.store.calendar import load_calendar

BADGE = re.compile(r'<span class="count overdue" title="需要办理的提醒">(\d+)</span>')


def badge(page: str) -> int:
    found = BADGE.search(page)
    return int(found.group(1)) if found else 0


def test_each_user_sees_the_list_behind_their_count(app, session, agency, users) -> None:
    handler = client_for(app, "handler")
    overdue = register_via_page(handler, submitted_on=days_ago(40))  # reply overdue
    fresh = register_via_page(
        handler, submitted_on=days_ago(0), applicant_name="赵六", subject="另一件事"
    )  # 20 wd to go: not yet a reminder
    clerk = client_for(app, "registrar")
    lapsed = awaiting_supplement(clerk, session, 10)  # 补正 deadline passed 10 days ago
    replied = replied_request(session, agency, users)
    legal = client_for(app, "legal")
    # The complaint's copy came 5 days ago: the 答辩状 is due within 15 days (Art. 67).
    case_id = file_via_page(legal, replied.id, **{**LAWSUIT, "copy_received_on": days_ago(5)})

    mine = handler.get("/reminders").text
    assert f'href="/requests/{overdue}"' in mine and "答复期限" in mine and "已届满" in mine
    assert f'href="/requests/{fresh}"' not in mine
    assert f'href="/requests/{lapsed}"' not in mine  # not the handler's
    assert badge(mine) == 1

    whole = client_for(app, "approver").get("/reminders").text
    for rid in (overdue, lapsed):
        assert f'href="/requests/{rid}"' in whole
    assert "申请人补正期限" in whole
    assert f'href="/challenges/{case_id}"' in whole and "本机关提交答辩状及证据" in whole
    assert badge(whole) == 3

    cases = client_for(app, "legal").get("/reminders").text
    assert f'href="/challenges/{case_id}"' in cases
    assert badge(cases) == 1

    # One source: for every user, the count on the bar is the number of listed items.
    today = local_today(datetime.now(UTC))
    calendar = load_calendar(session)
    for user in session.scalars(select(User).where(User.agency_id == agency.id)):
        whose = Whose.of(user.agency_id, user.id, user.roles)
        listed = reminders_for(session, whose, today, calendar)
        assert reminder_count(session, whose, today, calendar) == listed.count
        assert listed.count == len(listed.requests) + len(listed.cases)
