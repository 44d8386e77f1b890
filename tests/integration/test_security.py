"""Security headers on every page, and CSRF protection on every POST route of the app."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from models import Request
from tests.conftest import PASSWORD, make_user
from tests.integration.routes import (
    call_for,
    html_responses,
    methods_of,
    rules,
    snapshot,
    url_of,
)
from tests.integration.world import build_world
from workflow.catalog.roles import ROLE_CODES

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


@pytest.fixture
def world(session, agency, users):
    return build_world(session, agency, users)


def assert_secure_headers(response, where: str) -> None:
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, f"{where}: {name}"
    csp = response.headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in csp, f"{where}: Content-Security-Policy"


def test_every_html_response_carries_the_security_headers(app, session, world, users) -> None:
    seen = 0
    for role, url, response in html_responses(
        app, session, world, users, ("anonymous", "admin", "viewer", "other")
    ):
        if response.mimetype == "text/html":
            assert_secure_headers(response, f"GET {url} as {role} ({response.status_code})")
            seen += 1
    assert seen > 50
    client = app.test_client()
    for response, where in (
        (client.get("/no-such-page"), "404"),
        (client.get("/logout"), "405"),
        (client.get("/login"), "login"),
    ):
        assert response.mimetype == "text/html"
        assert_secure_headers(response, where)


CSRF_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture
def csrf_app(db_url, engine):
    from app import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": db_url, "WTF_CSRF_ENABLED": True})
    yield app
    app.extensions["db_engine"].dispose()


def token_from(page) -> str:
    match = CSRF_TOKEN.search(page.get_data(as_text=True))
    assert match, "no CSRF token on the page"
    return match.group(1)


def test_login_needs_the_token(csrf_app, users) -> None:
    client = csrf_app.test_client()
    refused = client.post("/login", data={"username": "viewer", "password": PASSWORD})
    assert refused.status_code == 400
    assert client.get("/requests").status_code == 302  # not signed in
    token = token_from(client.get("/login"))
    done = client.post(
        "/login", data={"username": "viewer", "password": PASSWORD, "csrf_token": token}
    )
    assert done.status_code == 302 and done.headers["Location"] == "/dashboard"


def test_every_post_route_refuses_a_missing_token(csrf_app, session, agency, users, world) -> None:
    everything = make_user(session, agency, "everything", *ROLE_CODES)
    client = csrf_app.test_client()
    token = token_from(client.get("/login"))
    client.post(
        "/login", data={"username": everything.username, "password": PASSWORD, "csrf_token": token}
    )
    assert client.get("/requests").status_code == 200
    # The JSON API takes no CSRF token and no cookie: test_api.py shows a signed-in
    # browser's cookie is refused there (401), and the matrix that it changes nothing.
    posts = [
        rule
        for rule in rules(csrf_app)
        if "POST" in methods_of(rule) and not rule.endpoint.startswith("api.")
    ]
    assert len(posts) >= 15
    for rule in posts:
        call = call_for(rule, world, session)
        url = url_of(csrf_app, rule, call)
        before = snapshot(session)
        for data in (call.data, {**call.data, "csrf_token": "forged-" + token[:20]}):
            response = client.post(url, data=data)
            assert response.status_code == 400, f"POST {url}: {response.status_code}"
            assert "安全令牌" in response.get_data(as_text=True), url
        assert snapshot(session) == before, f"POST {url} without a token changed data"
    assert client.get("/requests").status_code == 200  # the refused logout did not sign out


def test_the_token_lets_an_action_through(csrf_app, session, users, world) -> None:
    """Positive control: the same action with the page's token is carried out."""
    client = csrf_app.test_client()
    token = token_from(client.get("/login"))
    client.post("/login", data={"username": "registrar", "password": PASSWORD, "csrf_token": token})
    url = f"/requests/{world.registered.id}/act/accept"
    form_token = token_from(client.get(url))
    done = client.post(
        url,
        data={
            "csrf_token": form_token,
            "expected_version": str(world.registered.version),
            "effective_date": "2026-11-03",
        },
    )
    assert done.status_code == 302, done.get_data(as_text=True)
    session.expire_all()
    state = session.scalar(select(Request.state).where(Request.id == world.registered.id))
    assert state == "in_review"
