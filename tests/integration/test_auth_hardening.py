"""Login throttling, password change, real logout, cookie flags and production settings."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import func, select

from models import LoginSession
from tests.conftest import PASSWORD, login
from tests.integration.test_cli import cli
from workflow.store.rate_limits import DatabaseBackend, SharedCounters

NEW_PASSWORD = "a-brand-new-pass"


def attempt(client, username: str, password: str, ip: str = "10.0.0.1"):
    return client.post(
        "/login",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": ip},
    )


# --------------------------------------------------------------------------- throttling


def test_five_failures_lock_that_username_from_that_address(client, users) -> None:
    for _ in range(5):
        assert attempt(client, "handler", "wrong").status_code == 401
    locked = attempt(client, "handler", PASSWORD)  # even the right password now
    assert locked.status_code == 429
    assert "登录失败次数过多，请15分钟后再试" in locked.text
    assert attempt(client, "HANDLER ", PASSWORD).status_code == 429  # same account
    # Another address, or another account from this address, is not affected.
    assert attempt(client, "handler", PASSWORD, ip="10.0.0.2").status_code == 302
    assert attempt(client.application.test_client(), "viewer", PASSWORD).status_code == 302


def test_unknown_usernames_are_throttled_the_same_way(client, users) -> None:
    for _ in range(5):
        assert attempt(client, "nobody", "wrong").status_code == 401
    assert attempt(client, "nobody", "wrong").status_code == 429


def test_success_resets_the_count(client, users) -> None:
    for _ in range(4):
        attempt(client, "handler", "wrong")
    assert attempt(client, "handler", PASSWORD).status_code == 302
    client.post("/logout")
    for _ in range(4):
        assert attempt(client, "handler", "wrong").status_code == 401
    assert attempt(client, "handler", PASSWORD).status_code == 302


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_throttle_window_slides(engine) -> None:
    clock = Clock()
    counters = SharedCounters(DatabaseBackend(engine), clock=clock)
    scope, key = "login-pair", "zhang\x0010.0.0.1"
    for step in range(3):
        assert counters.wait(scope, key, 3, 600) == 0
        counters.hit(scope, key, 600)
        clock.now += 100 * (step + 1)  # failures at 1000, 1100, 1300
    clock.now = 1350
    assert counters.wait(scope, key, 3, 600) == pytest.approx(250)  # until the first expires
    clock.now = 1600
    assert counters.wait(scope, key, 3, 600) == 0
    counters.hit(scope, key, 600)
    assert counters.wait(scope, key, 3, 600) > 0
    counters.clear(scope, key)
    assert counters.wait(scope, key, 3, 600) == 0


# --------------------------------------------------------------------------- sessions


def test_logout_kills_the_copied_cookie(app, session, users) -> None:
    client = app.test_client()
    login(client, "viewer")
    stolen = client.get_cookie("session").value
    assert client.get("/requests").status_code == 200
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert replay.get("/requests").status_code == 200  # a copy works while signed in

    assert client.post("/logout").status_code == 302
    assert client.get("/requests").status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    page = replay.get("/requests")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(LoginSession)) == 0


def test_sessions_expire(app, users) -> None:
    client = app.test_client()
    login(client, "viewer")
    assert client.get("/requests").status_code == 200
    app.config["LOGIN_SESSION_HOURS"] = 0
    assert client.get("/requests").status_code == 302


def test_login_replaces_whatever_the_session_held(app, users) -> None:
    client = app.test_client()
    client.get("/login")
    with client.session_transaction() as planted:
        planted["planted"] = "by an attacker"
    login(client, "viewer")
    with client.session_transaction() as after:
        assert "planted" not in after
        assert "login_token" in after


# --------------------------------------------------------------------------- password change


def change(client, current: str, new: str, confirm: str | None = None):
    return client.post(
        "/account/password",
        data={"current_password": current, "new_password": new, "confirm": confirm or new},
    )


def test_password_change_rules(app, users) -> None:
    client = app.test_client()
    login(client, "handler")
    assert client.get("/account/password").status_code == 200
    wrong = change(client, "not-my-password", NEW_PASSWORD)
    assert wrong.status_code == 400 and "当前密码不正确" in wrong.text
    short = change(client, PASSWORD, "short")
    assert short.status_code == 400 and "密码至少12位" in short.text
    mismatch = change(client, PASSWORD, NEW_PASSWORD, "something-else")
    assert mismatch.status_code == 400 and "两次输入的密码不一致" in mismatch.text
    same = change(client, PASSWORD, PASSWORD)
    assert same.status_code == 400 and "新密码不能与当前密码相同" in same.text
    empty = client.post("/account/password", data={})
    assert empty.status_code == 400 and "请填写当前密码" in empty.text


def test_password_change_signs_out_other_sessions(app, users) -> None:
    here, elsewhere = app.test_client(), app.test_client()
    login(here, "handler")
    login(elsewhere, "handler")
    done = change(here, PASSWORD, NEW_PASSWORD)
    assert done.status_code == 302
    assert here.get("/requests").status_code == 200  # this session goes on
    assert elsewhere.get("/requests").status_code == 302  # the other one is over
    here.post("/logout")
    assert attempt(here, "handler", PASSWORD).status_code == 401
    assert attempt(here, "handler", NEW_PASSWORD).status_code == 302


def test_wrong_current_passwords_are_throttled(app, users) -> None:
    client = app.test_client()
    login(client, "handler")
    for _ in range(5):
        assert change(client, "guess", NEW_PASSWORD).status_code == 400
    locked = change(client, PASSWORD, NEW_PASSWORD)
    assert locked.status_code == 429 and "登录失败次数过多" in locked.text


def test_password_page_needs_login(client) -> None:
    page = client.get("/account/password")
    assert page.status_code == 302 and "/login" in page.headers["Location"]


# --------------------------------------------------------------------------- cookies


def session_cookie_header(app) -> str:
    client = app.test_client()
    page = login_raw(client)
    cookies = [h for h in page.headers.getlist("Set-Cookie") if h.startswith("session=")]
    assert cookies, page.headers
    return cookies[-1]


def login_raw(client):
    return client.post("/login", data={"username": "viewer", "password": PASSWORD})


def test_session_cookie_flags(app, users) -> None:
    header = session_cookie_header(app)
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    assert "Secure" not in header


def test_secure_cookies_when_asked(db_url, users, monkeypatch) -> None:
    from app import create_app

    monkeypatch.setenv("GONGKAI_SECURE_COOKIES", "1")
    app = create_app({"TESTING": True, "DATABASE_URL": db_url, "WTF_CSRF_ENABLED": False})
    try:
        header = session_cookie_header(app)
        assert "Secure" in header and "HttpOnly" in header and "SameSite=Lax" in header
    finally:
        app.extensions["db_engine"].dispose()


# --------------------------------------------------------------------------- production


def test_production_refuses_to_start_without_a_secret_key(db_url, monkeypatch) -> None:
    from app import create_app

    monkeypatch.setenv("GONGKAI_ENV", "production")
    monkeypatch.delenv("GONGKAI_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="GONGKAI_SECRET_KEY 未设置"):
        create_app({"DATABASE_URL": db_url})
    monkeypatch.setenv("GONGKAI_SECRET_KEY", "too-short")
    with pytest.raises(RuntimeError, match="过短"):
        create_app({"DATABASE_URL": db_url})
    # Long but not random (the security review's S12: 16 × "a" was accepted).
    for weak in ("x" * 64, "a" * 16 + "b" * 16, "gongkai" * 6):
        monkeypatch.setenv("GONGKAI_SECRET_KEY", weak)
        with pytest.raises(RuntimeError, match=r"过短|不够随机"):
            create_app({"DATABASE_URL": db_url})
    key = secrets.token_hex(32)
    monkeypatch.setenv("GONGKAI_SECRET_KEY", key)
    app = create_app({"DATABASE_URL": db_url})
    assert app.config["SECRET_KEY"] == key
    app.extensions["db_engine"].dispose()


def test_production_refuses_the_demo_password(db_url, users, monkeypatch) -> None:
    from app import create_app

    monkeypatch.setenv("GONGKAI_ENV", "production")
    monkeypatch.setenv("GONGKAI_SECRET_KEY", secrets.token_hex(32))
    app = create_app({"TESTING": True, "DATABASE_URL": db_url, "WTF_CSRF_ENABLED": False})
    try:
        page = attempt(app.test_client(), "viewer", "gongkai-demo")
        assert page.status_code == 401 and "演示账号的密码不能在生产环境中使用" in page.text
        assert attempt(app.test_client(), "viewer", PASSWORD).status_code == 302
    finally:
        app.extensions["db_engine"].dispose()


def test_demo_command_refuses_in_production(db_url, monkeypatch) -> None:
    monkeypatch.setenv("GONGKAI_ENV", "production")
    done = cli(db_url, "demo")
    assert done.returncode != 0
    assert "演示数据只能在演示模式下加载" in done.stderr


def test_admin_password_reset_signs_the_account_out(app, users) -> None:
    victim, admin = app.test_client(), app.test_client()
    login(victim, "handler")
    login(admin, "admin")
    assert victim.get("/requests").status_code == 200
    done = admin.post(
        f"/admin/users/{users['handler'].id}/password",
        data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "admin_password": PASSWORD},
    )
    assert done.status_code == 302
    assert victim.get("/requests").status_code == 302  # back to the login page
    assert attempt(victim, "handler", NEW_PASSWORD).status_code == 302
