"""Issue 18 items 2, 4, 8 and issue 15 items 8 and 10: each attack of the security review
(/work/shared/findings/security-review.md, V3 V4b V6 V12 V14 V15 S9 S11 S12) reproduced
and refused, plus the security log's promises (who did what, append-only, who reads it).
"""

from __future__ import annotations

import os
import re
import secrets
from datetime import date

import pyotp
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from models import RateHit, SecurityLogEntry, User
from models.event import AppendOnlyError
from tests.conftest import PASSWORD, login, make_user
from workflow.admin import operations as admin_ops
from workflow.admin.passwords import password_problem
from workflow.kernel.errors import ValidationError
from workflow.store.rate_limits import DatabaseBackend, RedisBackend, SharedCounters

REDIS_URL = os.environ.get("GONGKAI_TEST_REDIS_URL", "")


def attempt(client, username: str, password: str, ip: str = "10.0.0.1"):
    return client.post(
        "/login",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": ip},
    )


def entries(session, kind: str | None = None) -> list[SecurityLogEntry]:
    session.expire_all()
    stmt = select(SecurityLogEntry).order_by(SecurityLogEntry.id)
    if kind:
        stmt = stmt.where(SecurityLogEntry.kind == kind)
    return list(session.scalars(stmt))


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# --------------------------------------------------------------------------- security log


def test_logins_failures_and_throttling_are_logged(app, session, users) -> None:
    client = app.test_client()
    assert attempt(client, "handler", "wrong").status_code == 401
    assert attempt(client, "nobody", "wrong", ip="10.0.0.7").status_code == 401
    assert attempt(client, "handler", PASSWORD).status_code == 302
    client.post("/logout")
    failed = entries(session, "login_failed")
    assert [(e.username, e.subject_id, e.address) for e in failed] == [
        ("handler", users["handler"].id, "10.0.0.1"),
        ("nobody", None, "10.0.0.7"),
    ]
    [ok] = entries(session, "login")
    assert ok.actor_id == ok.subject_id == users["handler"].id and ok.address == "10.0.0.1"
    assert len(entries(session, "logout")) == 1
    for _ in range(5):
        attempt(client, "viewer", "wrong")
    assert attempt(client, "viewer", PASSWORD).status_code == 429
    [throttled] = entries(session, "login_throttled")
    assert throttled.username == "viewer" and throttled.detail["wait_seconds"] > 0


def test_a_huge_username_costs_a_bounded_key(app, session, users) -> None:
    """V6(c): a 450 KB username was stored whole as a throttle key in each worker."""
    huge = secrets.token_hex(8) + "u" * 450_000
    for _ in range(3):
        assert attempt(app.test_client(), huge, "wrong").status_code == 401
    session.expire_all()
    keys = set(session.scalars(select(RateHit.key)))
    assert keys and all(len(k) == 64 for k in keys)
    assert max(len(e.username) for e in entries(session, "login_failed")) == 64


def test_the_security_log_is_append_only(app, session, users) -> None:
    attempt(app.test_client(), "handler", "wrong")
    [entry] = entries(session, "login_failed")
    entry.username = "someone-else"
    with pytest.raises(AppendOnlyError):
        session.flush()
    session.rollback()
    for statement in ("UPDATE security_log SET username = 'x'", "DELETE FROM security_log"):
        with pytest.raises(DatabaseError, match="append-only"):
            session.execute(text(statement))
        session.rollback()
    assert [e.username for e in entries(session, "login_failed")] == ["handler"]


def test_account_changes_are_logged_with_before_and_after(session, users) -> None:
    admin, viewer = users["admin"], users["viewer"]
    admin_ops.set_user_roles(session, viewer, {"viewer", "legal"}, by=admin)
    admin_ops.set_user_active(session, viewer, False, by=admin)
    admin_ops.reset_password(session, viewer, "another-pass-42", by=admin)
    made = admin_ops.create_user(
        session, "clerk9", "", "test-agency", ["registrar"], "clerk-pass-4711", by=admin
    )
    admin_ops.add_calendar_override(session, "2027-01-04", "restday", "地方调整", by=admin)
    admin_ops.remove_calendar_override(session, "2027-01-04", by=admin)
    session.commit()
    got = {e.kind: e for e in entries(session)}
    assert got["roles_changed"].detail == {"before": ["viewer"], "after": ["legal", "viewer"]}
    assert got["roles_changed"].actor_id == admin.id
    assert got["roles_changed"].subject_id == viewer.id
    assert (
        got["deactivated"].detail["before"] is True and got["deactivated"].detail["after"] is False
    )
    assert got["password_reset"].subject_id == viewer.id and "password" not in str(
        got["password_reset"].detail
    )
    assert got["user_created"].subject_id == made.id
    assert got["user_created"].detail["after"]["roles"] == ["registrar"]
    assert got["calendar_changed"].detail["after"] == {"is_workday": False, "note": "地方调整"}
    assert got["calendar_deleted"].detail["before"] == {"is_workday": False, "note": "地方调整"}
    # An admin-set password must be changed by its owner (issue 15 item 10).
    session.expire_all()
    assert session.get(User, viewer.id).must_change_password
    assert session.get(User, made.id).must_change_password


def test_viewing_and_exporting_personal_data_is_logged(app, session, users) -> None:
    from tests.integration.world import build_world

    world = build_world(session, users["handler"].agency, users)
    client = app.test_client()
    login(client, "viewer")
    assert client.get(f"/requests/{world.concluded.id}").status_code == 200
    assert client.get("/requests/export.csv").status_code == 200
    [viewed] = [e for e in entries(session, "personal_data_viewed") if e.detail["what"] == "detail"]
    assert viewed.detail["requests"] == [world.concluded.id]
    assert viewed.actor_id == users["viewer"].id
    [exported] = entries(session, "personal_data_exported")
    assert world.concluded.id in exported.detail["requests"]


def test_refusals_are_logged(app, session, users) -> None:
    client = app.test_client()
    login(client, "viewer")
    assert client.get("/admin/users").status_code == 403
    [refused] = entries(session, "access_denied")
    assert refused.actor_id == users["viewer"].id and refused.detail["path"] == "/admin/users"


# --------------------------------------------------------------------------- who reads it


def test_who_may_read_the_security_log(app, session, agency, users) -> None:
    auditor = make_user(session, agency, "auditor", "security_auditor")
    admin, viewer = users["admin"], users["viewer"]
    admin_ops.set_user_roles(session, viewer, {"viewer", "registrar"}, by=admin)
    other_admin = make_user(session, agency, "admin2", "admin")
    admin_ops.reset_password(session, admin, "fresh-boss-pass-1", by=other_admin)
    session.commit()

    as_auditor = app.test_client()
    login(as_auditor, "auditor")
    page = as_auditor.get("/audit/security?days=1").text
    assert "角色变更" in page and "管理员重置密码" in page

    as_admin = app.test_client()
    login(as_admin, "admin", "fresh-boss-pass-1")
    as_admin.post(
        "/account/password",
        data={
            "current_password": "fresh-boss-pass-1",
            "new_password": "own-secret-pass-9",
            "confirm": "own-secret-pass-9",
        },
    )
    mine = as_admin.get("/audit/security?days=1&kind=password_reset").text
    # 三权分立: the admin does not see the record of the reset of their own password …
    assert "admin2" not in mine and "没有记录" in mine
    # … but does see what they did to others.
    assert "角色变更" in as_admin.get("/audit/security?days=1").text

    as_viewer = app.test_client()
    login(as_viewer, "viewer")
    assert as_viewer.get("/audit/security").status_code == 403
    assert auditor.id  # the auditor role exists in the database's role check


# --------------------------------------------------------------------------- duties


def test_an_admin_cannot_grant_themself_operational_roles(app, session, users) -> None:
    """V4(b): ``sub_admin`` gave themself approver and handler, unrecorded."""
    admin = users["admin"]
    client = app.test_client()
    login(client, "admin")
    for wanted in (["admin", "approver"], ["admin", "legal"], ["admin", "security_auditor"]):
        page = client.post(
            f"/admin/users/{admin.id}/roles",
            data={"roles": wanted, "admin_password": PASSWORD},
        )
        assert page.status_code == 400
        assert "不能给自己授予" in page.text or "不能兼任" in page.text
    session.expire_all()
    assert session.get(User, admin.id).roles == {"admin"}
    with pytest.raises(ValidationError, match="请更正"):
        admin_ops.set_user_roles(session, users["viewer"], {"admin", "security_auditor"})


def test_sensitive_admin_operations_need_the_admin_password(app, session, users) -> None:
    """V3/A5: a reset let an admin take over a colleague's account with nothing asked."""
    viewer = users["viewer"]
    client = app.test_client()
    login(client, "admin")
    reset = client.post(
        f"/admin/users/{viewer.id}/password",
        data={"password": "takeover-pass-1", "confirm": "takeover-pass-1", "admin_password": "x"},
    )
    assert reset.status_code == 400 and "您的登录密码不正确" in reset.text
    roles = client.post(
        f"/admin/users/{viewer.id}/roles", data={"roles": ["approver"], "admin_password": ""}
    )
    assert roles.status_code == 400
    session.expire_all()
    row = session.get(User, viewer.id)
    assert row.check_password(PASSWORD) and row.roles == {"viewer"}
    assert [e.detail["operation"] for e in entries(session, "reauth_failed")] == [
        "password_reset",
        "roles_changed",
    ]


# --------------------------------------------------------------------------- accounts


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("12345678", "至少12位"),
        ("password1234", "常见密码"),
        ("Qwertyuiop123", "常见密码"),
        ("woaini1314520", "常见密码"),
        ("aaaaaaaaaaaaaaa", "不同的字符"),
        ("zhangsan-secret", "用户名"),
        ("ZHANGSAN", "至少12位"),
    ],
)
def test_weak_passwords_are_refused(password: str, message: str) -> None:
    """V15/S11: 12345678, aaaaaaaa, password and the username were all accepted."""
    problem = password_problem(password, "zhangsan")
    assert problem is not None and message in problem


def test_a_good_password_passes() -> None:
    assert password_problem("布谷鸟 在 三月 的 清晨", "zhangsan") is None
    assert password_problem("tall-river-copper-lamp", "zhangsan") is None


def test_production_refuses_the_demo_password_for_new_accounts(session, agency, monkeypatch):
    """S12: in production ``create-user`` accepted ``gongkai-demo``."""
    monkeypatch.setenv("GONGKAI_ENV", "production")
    with pytest.raises(ValidationError) as err:
        admin_ops.create_user(session, "clerk", "", "test-agency", ["viewer"], "gongkai-demo")
    assert "演示密码" in err.value.field_errors["password"]


def test_deactivation_ends_every_session(app, session, users) -> None:
    """V12: after reactivation a cookie copied before the deactivation worked again."""
    victim = app.test_client()
    login(victim, "viewer")
    stolen = victim.get_cookie("session").value
    admin = app.test_client()
    login(admin, "admin")
    viewer_id = users["viewer"].id
    assert admin.post(f"/admin/users/{viewer_id}/active", data={"active": "0"}).status_code == 302
    assert admin.post(f"/admin/users/{viewer_id}/active", data={"active": "1"}).status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert replay.get("/requests").status_code == 302
    assert entries(session, "deactivated")[0].detail["sessions_ended"] == 1


def test_answers_do_not_reveal_whether_an_account_exists_or_is_stopped(app, session, users) -> None:
    """V14/S9: a deactivated account answered differently (and 20× faster)."""
    users["registrar"].active = False
    session.commit()
    answers = [
        attempt(app.test_client(), name, password, ip=f"10.0.1.{i}")
        for i, (name, password) in enumerate(
            [("registrar", PASSWORD), ("registrar", "wrong"), ("no-such-user", PASSWORD)]
        )
    ]
    assert {a.status_code for a in answers} == {401}
    bodies = {re.sub(r'name="csrf_token"[^>]*>', "", a.text) for a in answers}
    assert len({b.replace("registrar", "no-such-user") for b in bodies}) == 1
    # Each of the three ran one scrypt check: the stopped account is not short-circuited.
    assert {e.detail["reason"] for e in entries(session, "login_failed")} == {
        "inactive",
        "credentials",
    }


def test_users_see_and_end_their_other_sessions(app, session, users) -> None:
    here, there = app.test_client(), app.test_client()
    login(here, "viewer")
    there.post(
        "/login",
        data={"username": "viewer", "password": PASSWORD},
        headers={"User-Agent": "Phone-Browser/1.0"},
        environ_base={"REMOTE_ADDR": "10.9.9.9"},
    )
    page = here.get("/account/sessions")
    assert page.status_code == 200
    assert "当前会话" in page.text and "Phone-Browser/1.0" in page.text and "10.9.9.9" in page.text
    assert here.post("/account/sessions", data={}).status_code == 302
    assert there.get("/requests").status_code == 302  # ended
    assert here.get("/requests").status_code == 200  # this one goes on


# --------------------------------------------------------------------------- two factors


def _enrol(client) -> str:
    page = client.get("/account/2fa")
    assert page.status_code == 200 and "<svg" in page.text  # the QR code, drawn locally
    assert "http" not in page.text.split("<svg", 1)[1].split("</svg>")[0].replace(
        "http://www.w3.org/2000/svg", ""
    )
    secret = re.search(r"<code>([A-Z2-7]{32})</code>", page.text).group(1)
    done = client.post("/account/2fa", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200 and "恢复码（只显示这一次）" in done.text
    return secret


def test_totp_sign_in(app, session, users) -> None:
    client = app.test_client()
    login(client, "handler")
    secret = _enrol(client)
    client.post("/logout")
    first = attempt(client, "handler", PASSWORD)
    assert first.status_code == 302 and "/login/verify" in first.headers["Location"]
    assert client.get("/requests").status_code == 302  # the password alone is not a login
    wrong = client.post("/login/verify", data={"code": "000000"})
    assert wrong.status_code == 401
    # The code that set it up is used up; the next step's code is accepted (phones' clocks
    # drift by a step), and only once.
    session.expire_all()
    step = session.get(User, users["handler"].id).totp_last_step
    code = pyotp.TOTP(secret).at((step + 1) * 30)
    ok = client.post("/login/verify", data={"code": code})
    assert ok.status_code == 302 and "/login" not in ok.headers["Location"]
    assert client.get("/requests").status_code == 200
    client.post("/logout")
    attempt(client, "handler", PASSWORD)
    replay = client.post("/login/verify", data={"code": code})
    assert replay.status_code == 401  # the same code cannot be used twice
    kinds = [e.kind for e in entries(session)]
    assert "totp_enabled" in kinds and kinds.count("second_factor_failed") == 2


def test_the_password_again_does_not_reset_the_count_of_wrong_codes(app, users) -> None:
    """Knowing the password must not give unlimited guesses at the code."""
    client = app.test_client()
    login(client, "handler")
    _enrol(client)
    client.post("/logout")
    for _ in range(5):
        assert attempt(client, "handler", PASSWORD).status_code == 302
        wrong = client.post(
            "/login/verify", data={"code": "000000"}, environ_base={"REMOTE_ADDR": "10.0.0.1"}
        )
        assert wrong.status_code == 401
    assert attempt(client, "handler", PASSWORD).status_code == 429


def test_totp_is_required_for_admins_and_approvers(app, session, users) -> None:
    app.config["REQUIRE_2FA"] = True
    approver = app.test_client()
    login(approver, "approver")
    page = approver.get("/requests")
    assert page.status_code == 302 and page.headers["Location"].endswith("/account/2fa")
    _enrol(approver)
    assert approver.get("/requests").status_code == 200
    # Optional for the others.
    viewer = app.test_client()
    login(viewer, "viewer")
    assert viewer.get("/requests").status_code == 200


# --------------------------------------------------------------------------- throttling


def test_per_account_limit_is_a_delay_not_a_lock(app, engine, users) -> None:
    """V6(b): per (name, address) only: many addresses were never throttled, and one NAT
    address could lock a colleague out. Now the account itself slows down, for a bounded
    time, whatever the addresses."""
    clock = Clock()
    app.extensions["shared_counters"] = SharedCounters(DatabaseBackend(engine), clock=clock)
    app.config["LOGIN_ACCOUNT_FREE"] = 3
    for i in range(3):
        assert attempt(app.test_client(), "handler", "wrong", ip=f"10.1.0.{i}").status_code == 401
    clock.now += 1
    assert attempt(app.test_client(), "handler", "wrong", ip="10.1.0.9").status_code == 401
    # The fourth failure (beyond 3 free) asks for 2 s, from any address.
    early = attempt(app.test_client(), "handler", PASSWORD, ip="10.2.0.1")
    assert early.status_code == 429
    clock.now += 2
    assert attempt(app.test_client(), "handler", PASSWORD, ip="10.2.0.1").status_code == 302
    # However many failures, the wait is at most a minute: the owner is never locked out.
    for i in range(20):
        clock.now += 61
        attempt(app.test_client(), "handler", "wrong", ip=f"10.3.0.{i}")
    clock.now += 61
    assert attempt(app.test_client(), "handler", PASSWORD, ip="10.4.0.1").status_code == 302


def test_per_address_limit_covers_many_accounts(app, users) -> None:
    app.config["LOGIN_ADDRESS_FAILURES"] = 4
    for name in ("a1", "a2", "a3", "a4"):
        assert attempt(app.test_client(), name, "wrong", ip="10.5.0.1").status_code == 401
    assert attempt(app.test_client(), "viewer", PASSWORD, ip="10.5.0.1").status_code == 429
    assert attempt(app.test_client(), "viewer", PASSWORD, ip="10.5.0.2").status_code == 302


def test_portal_lookups_are_limited_per_number_across_addresses(app, client, agency) -> None:
    app.config["PORTAL_MAX_LOOKUPS"] = 3
    for i in range(3):
        page = client.post(
            "/apply/status",
            data={"number": "2026-0001", "code": "wrong"},
            environ_base={"REMOTE_ADDR": f"10.6.0.{i}"},
        )
        assert page.status_code == 400
    blocked = client.post(
        "/apply/status",
        data={"number": "2026-0001", "code": "wrong"},
        environ_base={"REMOTE_ADDR": "10.6.0.99"},
    )
    assert blocked.status_code == 429 and "查询过于频繁" in blocked.get_data(as_text=True)


def test_guessing_api_tokens_is_limited(app, client, users) -> None:
    app.config["API_MAX_BAD_TOKENS"] = 3
    for _ in range(3):
        bad = client.get("/api/v1/requests", headers={"Authorization": "Bearer guess"})
        assert bad.status_code == 401
    assert client.get("/api/v1/requests", headers={"Authorization": "Bearer g"}).status_code == 429


@pytest.mark.skipif(not REDIS_URL, reason="no Redis (GONGKAI_TEST_REDIS_URL unset)")
def test_the_redis_backend_counts_like_the_database(engine) -> None:
    namespace = f"gongkai:test:{secrets.token_hex(6)}:"
    for backend in (DatabaseBackend(engine), RedisBackend(REDIS_URL, namespace)):
        clock = Clock()
        counters = SharedCounters(backend, clock=clock)
        for _ in range(3):
            counters.hit("s", "k", 100)
            clock.now += 10
        assert counters.wait("s", "k", 3, 100) == pytest.approx(70)
        clock.now += 71
        assert counters.wait("s", "k", 3, 100) == 0
        for _ in range(250):
            counters.hit("s", "many", 1000)
        assert len(counters.recent("s", "many", 1000)) == 100  # bounded per key
        counters.clear("s", "many")
        assert counters.recent("s", "many", 1000) == []


def test_rate_hits_are_pruned_as_their_window_passes(engine, session) -> None:
    clock = Clock()
    counters = SharedCounters(DatabaseBackend(engine), clock=clock)
    for _ in range(5):
        counters.hit("s", "k", 60)
    clock.now += 61
    counters.hit("s", "k", 60)
    assert session.scalar(select(func.count()).select_from(RateHit)) == 1


def test_calendar_year_entry_is_logged(session, users) -> None:
    admin_ops.enter_year_arrangement(
        session, 2027, "2027-01-01~2027-01-03", "", "国办发明电", by=users["admin"]
    )
    session.commit()
    [entry] = entries(session, "calendar_year_entered")
    assert (
        entry.detail["after"] == {date(2027, 1, d).isoformat(): False for d in (1, 2, 3)}
        and entry.detail["year"] == 2027
    )
