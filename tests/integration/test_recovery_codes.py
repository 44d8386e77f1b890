"""Two-factor recovery (issue 18 item 8): recovery codes, their renewal, an admin's reset.

The walk is a user's, through the pages with a real test client: enrol and see the codes
once, sign in with a code instead of the phone, find it used up, renew the set with the
password and a current code, and, the phone and the codes lost, have an administrator
reset the second factor (their own password again, in the security log, never their own).
"""

from __future__ import annotations

import re

import pyotp
from sqlalchemy import select, text

from models import LoginSession, RecoveryCode, SecurityLogEntry, User
from tests.conftest import PASSWORD, login
from workflow.admin import two_factor

CODE = re.compile(r"<code>([a-z2-9]{4}(?:-[a-z2-9]{4}){3})</code>")


def _kinds(session) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(SecurityLogEntry.kind).order_by(SecurityLogEntry.id)))


def _enrol(client) -> tuple[str, list[str]]:
    page = client.get("/account/2fa")
    secret = re.search(r"<code>([A-Z2-7]{32})</code>", page.text).group(1)
    shown = client.post("/account/2fa", data={"code": pyotp.TOTP(secret).now()})
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    return secret, CODE.findall(shown.text)


def _password_step(client, username: str) -> None:
    first = client.post("/login", data={"username": username, "password": PASSWORD})
    assert first.status_code == 302 and "/login/verify" in first.headers["Location"]


def _next_code(session, user_id: int, secret: str) -> str:
    session.expire_all()
    step = session.get(User, user_id).totp_last_step
    return pyotp.TOTP(secret).at((step + 1) * 30)


def test_codes_are_shown_once_and_stored_hashed(app, session, users) -> None:
    client = app.test_client()
    login(client, "handler")
    _secret, codes = _enrol(client)
    assert len(codes) == two_factor.RECOVERY_CODES == len(set(codes))
    stored = session.scalars(
        select(RecoveryCode.code_hash).where(RecoveryCode.user_id == users["handler"].id)
    ).all()
    assert sorted(stored) == sorted(two_factor.recovery_hash(c) for c in codes)
    raw = " ".join(
        str(v) for row in session.execute(text("SELECT * FROM recovery_codes")) for v in row
    )
    assert not any(c in raw or c.replace("-", "") in raw for c in codes)
    # Never again on any page of the account.
    for page in ("/account/2fa", "/account/2fa/recovery"):
        assert not CODE.findall(client.get(page).text)
    assert "还有 <strong>10</strong> 个" in client.get("/account/2fa/recovery").text


def test_a_recovery_code_signs_in_once(app, session, users) -> None:
    client = app.test_client()
    login(client, "handler")
    _secret, codes = _enrol(client)
    client.post("/logout")
    _password_step(client, "handler")
    # Typed as people type: upper case, spaces instead of hyphens.
    typed = codes[3].upper().replace("-", " ")
    ok = client.post("/login/verify", data={"code": typed})
    assert ok.status_code == 302 and "/login" not in ok.headers["Location"]
    assert client.get("/requests").status_code == 200
    client.post("/logout")
    _password_step(client, "handler")
    again = client.post("/login/verify", data={"code": codes[3]})
    assert again.status_code == 401 and "恢复码" in again.text
    assert client.get("/requests").status_code == 302
    session.expire_all()
    used = session.scalars(select(RecoveryCode).where(RecoveryCode.used_at.is_not(None))).all()
    assert len(used) == 1
    entry = session.scalar(
        select(SecurityLogEntry).where(SecurityLogEntry.kind == "recovery_code_used")
    )
    assert entry is not None and entry.detail["left"] == 9
    # Another account's code is no code for this one.
    other = app.test_client()
    login(other, "registrar")
    _enrol(other)
    other.post("/logout")
    _password_step(other, "registrar")
    assert other.post("/login/verify", data={"code": codes[0]}).status_code == 401


def test_renewing_needs_the_password_and_a_current_code(app, session, users) -> None:
    client = app.test_client()
    login(client, "handler")
    secret, old = _enrol(client)
    user_id = users["handler"].id
    no_password = client.post(
        "/account/2fa/recovery",
        data={"password": "wrong-password-1", "code": _next_code(session, user_id, secret)},
    )
    assert no_password.status_code == 400 and "登录密码不正确" in no_password.text
    no_code = client.post("/account/2fa/recovery", data={"password": PASSWORD, "code": "123456"})
    assert no_code.status_code == 400 and "动态口令不正确" in no_code.text
    session.expire_all()
    assert session.scalar(
        select(RecoveryCode.code_hash).where(
            RecoveryCode.code_hash == two_factor.recovery_hash(old[0])
        )
    )
    renewed = client.post(
        "/account/2fa/recovery",
        data={"password": PASSWORD, "code": _next_code(session, user_id, secret)},
    )
    assert renewed.status_code == 200
    new = CODE.findall(renewed.text)
    assert len(new) == 10 and not set(new) & set(old)
    client.post("/logout")
    _password_step(client, "handler")
    assert client.post("/login/verify", data={"code": old[0]}).status_code == 401
    assert client.post("/login/verify", data={"code": new[0]}).status_code == 302
    assert "recovery_codes_renewed" in _kinds(session)


def test_an_admin_resets_a_lost_second_factor(app, session, users) -> None:
    handler_id, admin_id = users["handler"].id, users["admin"].id
    owner = app.test_client()
    login(owner, "handler")
    _enrol(owner)
    admin = app.test_client()
    login(admin, "admin")
    page = admin.get(f"/admin/users/{handler_id}")
    assert "重置动态口令" in page.text
    wrong = admin.post(f"/admin/users/{handler_id}/two-factor", data={"admin_password": "nope"})
    assert wrong.status_code == 400 and "您的登录密码不正确" in wrong.text
    session.expire_all()
    assert session.get(User, handler_id).totp_secret is not None
    assert "reauth_failed" in _kinds(session)
    done = admin.post(f"/admin/users/{handler_id}/two-factor", data={"admin_password": PASSWORD})
    assert done.status_code == 302
    session.expire_all()
    handler = session.get(User, handler_id)
    assert handler.totp_secret is None and handler.totp_last_step is None
    assert not session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == handler_id)).all()
    assert not session.scalars(select(LoginSession).where(LoginSession.user_id == handler_id)).all()
    assert owner.get("/requests").status_code == 302  # the owner's session has ended
    entry = session.scalar(select(SecurityLogEntry).where(SecurityLogEntry.kind == "totp_reset"))
    assert entry.actor_id == admin_id and entry.subject_id == handler_id
    # The password alone signs in again; the owner then sets up a new factor.
    fresh = app.test_client()
    signed = fresh.post("/login", data={"username": "handler", "password": PASSWORD})
    assert signed.status_code == 302 and "/login/verify" not in signed.headers["Location"]


def test_an_admin_cannot_reset_their_own_second_factor(app, session, users) -> None:
    admin = app.test_client()
    login(admin, "admin")
    _enrol(admin)
    page = admin.get(f"/admin/users/{users['admin'].id}")
    assert "重置动态口令</button>" not in page.text
    refused = admin.post(
        f"/admin/users/{users['admin'].id}/two-factor", data={"admin_password": PASSWORD}
    )
    assert refused.status_code == 403
    session.expire_all()
    assert session.get(User, users["admin"].id).totp_secret is not None
    assert "totp_reset" not in _kinds(session)
