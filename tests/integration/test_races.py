"""Races answer with a message, never a 500 (issue 18, item 6; review C4–C7, V8).

Real threads, each with its own session or its own signed-in browser (test client),
released together by a barrier. Runs on SQLite and, in the suite's second pass, on
PostgreSQL, where the first-serial race really interleaves.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url

from models import Agency, NoticeCounter, PublishedReport, Request, TrackingCounter, User
from models.db import make_session_factory
from tests.conftest import PASSWORD, login
from tests.integration.world import intake, registered_request
from tests.waiting import wait_until
from views.database import db
from workflow.store.serials import next_serial

THREADS = 6


def _waiting_on_a_lock(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(
            conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
            )
        )


@pytest.mark.parametrize("counter", [TrackingCounter, NoticeCounter])
def test_two_first_serials_of_a_year_both_succeed(engine, session, agency, counter) -> None:
    """Both miss the UPDATE and both create the row: the second must wait, not fail."""
    agency_id = agency.id
    session.commit()
    factory = make_session_factory(engine)
    first = factory()
    got: dict[str, object] = {}
    assert next_serial(first, agency_id, 2031, counter) == 1  # row inserted, not committed

    def second() -> None:
        with factory() as other:
            try:
                got["serial"] = next_serial(other, agency_id, 2031, counter)
                other.commit()
            except Exception as exc:  # the test reports it
                got["error"] = exc

    thread = threading.Thread(target=second)
    thread.start()
    if engine.dialect.name == "postgresql":
        wait_until(lambda: _waiting_on_a_lock(engine), 30, "the second insert waits")
    first.commit()
    first.close()
    thread.join(60)
    assert "error" not in got, got
    assert got["serial"] == 2


def _clients(app, username: str, n: int) -> list:
    clients = []
    for _ in range(n):
        client = app.test_client()
        assert login(client, username, PASSWORD).status_code == 200
        clients.append(client)
    return clients


def _together(clients: list, post: Callable[[object, int], object]) -> Counter[int]:
    """Run ``post(client, i)`` on every client at once; the status codes by count."""
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def run(i: int, client: object) -> None:
        barrier.wait()
        statuses.append(post(client, i).status_code)  # type: ignore[attr-defined]

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(statuses) == len(clients)
    return Counter(statuses)


def test_first_registrations_of_an_agency_in_parallel(app, session, agency, users) -> None:
    clients = _clients(app, "registrar", THREADS)
    statuses = _together(
        clients, lambda c, i: c.post("/requests/new", data=intake(name=f"申请人{i}"))
    )
    assert statuses == Counter({302: THREADS}), statuses
    session.expire_all()
    numbers = session.scalars(select(Request.tracking_no)).all()
    assert len(set(numbers)) == THREADS


def test_the_same_username_created_twice_at_once(app, session, agency, users) -> None:
    user = {
        "username": "clerk1",
        "display_name": "李登记",
        "agency": agency.code,
        "roles": ["registrar"],
        "password": "long-enough-pw",
        "confirm": "long-enough-pw",
    }
    statuses = _together(
        _clients(app, "admin", THREADS), lambda c, i: c.post("/admin/users/new", data=user)
    )
    assert statuses[302] == 1 and 500 not in statuses, statuses
    assert set(statuses) <= {302, 400, 409}, statuses
    session.expire_all()
    assert session.scalar(select(func.count()).where(User.username == "clerk1")) == 1


def test_the_same_agency_code_created_twice_at_once(app, session, agency, users) -> None:
    data = {"code": "dept", "name": "某局", "parent": agency.code}
    statuses = _together(
        _clients(app, "admin", THREADS), lambda c, i: c.post("/admin/agencies", data=data)
    )
    assert statuses[302] == 1 and set(statuses) <= {302, 400, 409}, statuses
    session.expire_all()
    assert session.scalar(select(func.count()).where(Agency.code == "dept")) == 1


def test_the_error_page_renders_after_a_failed_flush(app, session, agency, users) -> None:
    """The 500 page itself read the database through a session left broken by the flush."""
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/_test/broken-flush")
    def broken_flush() -> str:
        db().add(Agency(code=agency.code, name="重复"))
        db().flush()  # IntegrityError escapes: a bug, not a refusal
        return "unreachable"

    client = app.test_client()
    assert login(client, "registrar", PASSWORD).status_code == 200
    page = client.get("/_test/broken-flush")
    assert page.status_code == 500
    assert "系统内部错误" in page.text


def test_parallel_first_drafts_of_a_report(app, session, agency, users) -> None:
    """Four editors save the year's first draft (version 0) at once: one saves, the rest
    are told someone else saved first (review C6: 500 then a broken 500 page)."""
    url = f"/reports?agency={agency.code}&year=2025"
    data = {"version": "0", "shown_format": "2019", "section_1": "总体情况"}
    statuses = _together(_clients(app, "admin", 4), lambda c, i: c.post(url, data=data))
    assert 500 not in statuses and statuses[302] == 1, statuses
    assert set(statuses) <= {302, 409}, statuses


def test_parallel_publication_of_a_year(app, session, agency, users) -> None:
    url = f"/statistics/publish?agency={agency.code}&year=2025"
    data = {"confirmed": "1"}  # the confirmation step of safe publishing
    statuses = _together(_clients(app, "approver", 4), lambda c, i: c.post(url, data=data))
    assert 500 not in statuses, statuses
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(PublishedReport)) == 1


def test_a_save_during_a_long_held_lock_gets_a_message(app, engine, session, agency, users) -> None:
    """A long import holds the write lock (SQLite) or the agency-year counter row
    (PostgreSQL, review C9: a registration waited 79.6 s and its worker was killed). The
    clerk's save now waits a bounded time and is told to try again: 409, never a 500."""
    registered_request(session, agency, users["registrar"])  # the year's counter row
    session.commit()
    client = app.test_client()
    assert login(client, "registrar", PASSWORD).status_code == 200
    if engine.dialect.name == "sqlite":
        holder = sqlite3.connect(make_url(str(engine.url)).database)
        holder.execute("BEGIN IMMEDIATE")  # what the import's transaction holds
    else:
        holder = engine.raw_connection()
        with holder.cursor() as cur:
            cur.execute("UPDATE tracking_counters SET last = last")
    try:
        page = client.post("/requests/new", data=intake(name="等待中"))
    finally:
        holder.rollback()
        holder.close()
    assert page.status_code == 409, page.text[:300]
    assert "系统正忙" in page.text
