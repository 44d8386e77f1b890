"""The workbench's two projections (issue 19 item 4): each case's span of the agency's own
deadlines, and each request's count of open proposals. Each must agree with its log,
follow the calendar, select exactly the cases and requests the folds would, and be filled
by migration 0027 (the count) and ``init`` (the span) on an existing database."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from alembic import command
from sqlalchemy import select, update

from models import Challenge, RequestFacts
from models.db import make_session_factory
from models.migrate import alembic_config, upgrade
from tests.conftest import NOW
from tests.integration.test_challenges import conclude, concluded_request, file
from tests.integration.test_office_workflow import a, accepted
from tests.integration.test_pages import client_for
from views import dashboard
from workflow.admin import operations as admin_ops
from workflow.challenges import operations as cops
from workflow.challenges.agenda import case_deadline_due, case_logs, due_cases
from workflow.challenges.due_dates import refresh_case_deadlines, stale_case_deadlines
from workflow.challenges.remedies import (
    APPEAL_DAYS_JUDGMENT,
    COURT_DEFENCE_DAYS,
    RECONSIDERATION_ANSWER_WD,
    period_end,
)
from workflow.challenges.standing import own_deadlines, standing_of
from workflow.kernel.actor import Actor, local_today
from workflow.requests import office_operations as office_ops
from workflow.store.calendar import load_calendar


def span_of(session, case_id: int) -> tuple[date | None, date | None]:
    session.expire_all()
    row = session.get(Challenge, case_id)
    return row.agency_due_first, row.agency_due_last


def span(session, case: Challenge) -> tuple[date | None, date | None]:
    return span_of(session, case.id)


def cases_world(session, agency, users) -> dict[str, Challenge]:
    """A reconsideration pending, one decided, a lawsuit pending, one decided with its
    judgment served, one voided: every kind of span the rules give."""
    req = concluded_request(
        session, agency, users, "unavailable.not_held", "2026-06-01", "2026-06-20"
    )
    found = {
        "recon": file(session, users, req, "2026-10-09", kind="reconsideration"),
        "recon_done": file(session, users, req, "2026-07-01", kind="reconsideration"),
        "suit": file(session, users, req, "2026-11-02", kind="litigation", route="direct"),
        "suit_done": file(session, users, req, "2026-08-03", kind="litigation", route="direct"),
        "voided": file(session, users, req, "2026-11-05", kind="litigation", route="direct"),
    }
    conclude(session, users, found["recon_done"], "2026-08-20", "maintained")
    cops.fire_challenge(
        session,
        found["suit_done"],
        "conclude",
        Actor.of(users["legal"]),
        NOW,
        {"effective_date": "2026-11-10", "result": "claims_dismissed", "served_on": "2026-11-12"},
    )
    cops.fire_challenge(
        session,
        found["voided"],
        "void",
        Actor.of(users["legal"]),
        NOW,
        {"effective_date": "2026-11-06", "reason": "重复登记"},
    )
    session.commit()
    return found


def test_each_case_row_keeps_the_span_of_the_agencys_own_deadlines(session, agency, users) -> None:
    cases = cases_world(session, agency, users)
    calendar = load_calendar(session)
    answer = calendar.add_working_days(date(2026, 10, 9), RECONSIDERATION_ANSWER_WD).day
    defence = period_end(date(2026, 11, 2) + timedelta(days=COURT_DEFENCE_DAYS), calendar)
    appeal = period_end(date(2026, 11, 12) + timedelta(days=APPEAL_DAYS_JUDGMENT), calendar)
    assert span(session, cases["recon"]) == (answer, answer)  # 复议答复, 10 working days
    assert span(session, cases["suit"]) == (defence, defence)  # 答辩状, 15 days
    assert span(session, cases["suit_done"]) == (appeal, appeal)  # its own appeal period
    assert span(session, cases["recon_done"]) == (None, None)  # nothing left for the agency
    assert span(session, cases["voided"]) == (None, None)
    assert stale_case_deadlines(session, calendar) == []

    # A tampered span is found (stats-verify, the nightly check) and repaired.
    session.execute(
        update(Challenge).where(Challenge.id == cases["suit"].id).values(agency_due_first=None)
    )
    assert stale_case_deadlines(session, calendar, [agency.id]) == [cases["suit"].id]
    assert stale_case_deadlines(session, calendar, [agency.id], repair=True) == [cases["suit"].id]
    assert span(session, cases["suit"]) == (defence, defence)


def test_a_calendar_change_moves_the_stored_case_deadlines(session, agency, users) -> None:
    cases = cases_world(session, agency, users)
    before = span(session, cases["recon"])[0]
    assert before is not None
    admin_ops.add_calendar_override(session, before, "restday", "临时调整")
    moved = span(session, cases["recon"])[0]
    assert moved is not None and moved > before
    assert moved == load_calendar(session).add_working_days(before, 1).day
    session.commit()
    admin_ops.remove_calendar_override(session, before)
    assert span(session, cases["recon"])[0] == before


def test_the_stored_span_selects_every_case_whose_deadline_is_due(session, agency, users) -> None:
    """For every day around the cases' deadlines, the cases ``due_cases`` selects and then
    reads include every case the fold over all of them finds a due deadline in."""
    cases = cases_world(session, agency, users)
    calendar = load_calendar(session)
    every = list(cases.values())
    logs = case_logs(session, every)

    def due_by_fold(today: date, among: list[Challenge]) -> set[int]:
        return {
            c.id
            for c in among
            if c.state != "voided"
            for d in own_deadlines(
                c.kind,
                c.instance,
                c.state == "pending",
                standing_of(c.filed_on, logs[c.id]),
                calendar,
            )
            if case_deadline_due(d.day, c.state == "pending", today)
        }

    seen = set()
    for offset in range(0, 80):
        today = date(2026, 10, 1) + timedelta(days=offset)
        selected = list(session.scalars(due_cases([agency.id], today)))
        assert due_by_fold(today, selected) == due_by_fold(today, every), today
        seen |= due_by_fold(today, every)
    assert seen == {cases[k].id for k in ("recon", "suit", "suit_done")}


def _migrate(engine, direction, revision: str) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        direction(cfg, revision)


def test_0027_counts_open_proposals_and_init_fills_the_case_deadlines(
    engine, session, agency, users
) -> None:
    cases = cases_world(session, agency, users)
    waiting, answered = accepted(session, agency, users), accepted(session, agency, users)
    for req in (waiting, answered):
        office_ops.propose(
            session, req, a(users["handler"]), NOW, "extension", {"days": 10, "reason": "需调档"}
        )
    session.commit()
    agency_id = agency.id
    proposal = office_ops.pending_for(session, agency.id)[-1][1]
    office_ops.approve(session, answered, a(users["approver"]), NOW, proposal.id)
    session.commit()
    assert [r.id for r, _ in office_ops.pending_for(session, agency.id)] == [waiting.id]
    live = {c.id: span(session, c) for c in cases.values()}
    ids = {"waiting": waiting.id, "answered": answered.id}
    session.close()

    _migrate(engine, command.downgrade, "0026")
    upgrade(engine)
    with make_session_factory(engine)() as fresh:
        rows = fresh.execute(select(RequestFacts.request_id, RequestFacts.open_proposals))
        counts = dict(rows.tuples().all())
        assert counts[ids["waiting"]] == 1 and counts[ids["answered"]] == 0  # in frozen SQL
        assert [r.id for r, _ in office_ops.pending_for(fresh, agency_id)] == [ids["waiting"]]
        assert all(span_of(fresh, cid) == (None, None) for cid in live)  # left for init
        assert refresh_case_deadlines(fresh, load_calendar(fresh)) == 3
        assert {cid: span_of(fresh, cid) for cid in live} == live


def test_the_workbench_lists_the_most_urgent_case_deadlines_batch_by_batch(
    app, session, agency, users, monkeypatch
) -> None:
    """With room for two lines (so read four cases at a time), the panel shows the two
    earliest due deadlines that folding every case gives, whatever order the cases were
    filed in."""
    cases = cases_world(session, agency, users)
    req = concluded_request(
        session, agency, users, "unavailable.not_held", "2026-05-01", "2026-05-20"
    )
    for filed in ("2026-11-20", "2026-09-14", "2026-11-16", "2026-09-01", "2026-10-20"):
        cases[filed] = file(session, users, req, filed, kind="litigation", route="direct")
    monkeypatch.setattr(dashboard, "SHOWN", 2)
    today = local_today(datetime.now(UTC))
    calendar = load_calendar(session)
    every = list(session.scalars(select(Challenge).where(Challenge.state != "voided")))
    logs = case_logs(session, every)
    expected = sorted(
        (d.day, c.id)
        for c in every
        for d in own_deadlines(
            c.kind, c.instance, c.state == "pending", standing_of(c.filed_on, logs[c.id]), calendar
        )
        if case_deadline_due(d.day, c.state == "pending", today)
    )
    assert len(expected) > 4  # more than one batch to read
    page = client_for(app, "legal").get("/dashboard").text
    panel = page.split('id="case-deadlines"', 1)[1].split("</section>", 1)[0]
    shown = [int(i) for i in re.findall(r'href="/challenges/(\d+)"', panel)]
    assert shown == [cid for _, cid in expected[:2]]
