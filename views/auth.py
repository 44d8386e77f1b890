"""Signing in and out, changing one's password, two-factor sign-in, and honest sessions.

Login failures say only "用户名或密码错误", whichever part was wrong, and every attempt
costs one password-hash check (an unknown or a deactivated account too), so neither the
words nor the time reveal which accounts exist or are stopped. Logout is a POST with the
CSRF token, so a link or an image on another site cannot sign a clerk out.

Guessing is slowed by the shared limits of ``workflow.store.rate_limits.LoginLimits``
(per account and address, per address, and a growing delay per account), counted in the
database or Redis that every worker and machine shares. Every login, failure and
throttled attempt goes to the security log (``views.security``).

Sessions are recorded server-side (``models.LoginSession``): the cookie carries a random
token whose hash must still be in the table, so logging out (which deletes the row)
makes a copied cookie worthless, a password change ends every other session, and a user
sees where else they are signed in and can end those sessions (``/account/sessions``).

Two obligations are enforced before any other page: a password set by an admin must be
replaced (``User.must_change_password``), and where two-factor sign-in is required
(administrators and approvers, ``GONGKAI_REQUIRE_2FA``) it must be set up first.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import delete, select
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import InputRequired

import settings
from models import LoginSession, User
from models.base import utcnow
from settings import production_mode
from views.common import local_time, utc_now
from views.database import db
from views.forms import LoginForm
from views.rate_limits import client_address, login_limits
from views.security import log
from workflow.admin import operations as admin_ops
from workflow.admin import two_factor
from workflow.admin.demo import DEMO_PASSWORD
from workflow.kernel.errors import DomainError, ValidationError

bp = Blueprint("auth", __name__)

BAD_CREDENTIALS = "用户名或密码错误"
BAD_CODE = "动态口令不正确或已使用，请输入验证器上的最新6位数字"
BAD_SECOND_FACTOR = (
    "动态口令或恢复码不正确或已使用，请输入验证器上的最新6位数字或一个未用过的恢复码"
)
DEMO_PASSWORD_REFUSED = "演示账号的密码不能在生产环境中使用，请联系管理员重置密码"
#: Compared against when the user does not exist, so both paths cost one scrypt.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")
#: Key in the Flask session holding the token of the server-side session row.
SESSION_TOKEN = "login_token"
#: Keys of a sign-in waiting for its second factor: the user id and when (epoch s).
PENDING_USER, PENDING_SINCE = "pending_2fa_user", "pending_2fa_since"
#: The second factor must follow the password within this many seconds.
PENDING_SECONDS = 300
#: Key of a TOTP secret shown for setting up, until the first code confirms it.
ENROL_SECRET = "totp_enrol_secret"
#: Default of ``LOGIN_SESSION_HOURS`` (a session ends this long after login, whatever happens).
SESSION_HOURS = 12
#: Pages a signed-in user with an open obligation may still reach.
OBLIGATION_FREE = frozenset(
    {
        "auth.logout",
        "auth.change_password",
        "auth.two_factor_page",
        "auth.second_factor",
        "auth.login",
        "static",
    }
)


def wait_message(wait: float) -> str:
    return f"登录失败次数过多，请{max(1, math.ceil(wait / 60))}分钟后再试"


def too_many_failures(username: str) -> str | None:
    """The refusal message while this username is throttled from this address, else None."""
    wait = login_limits().wait(username, client_address())
    if wait <= 0:
        return None
    log("login_throttled", username=username, detail={"wait_seconds": math.ceil(wait)})
    return wait_message(wait)


def two_factor_required(user: User) -> bool:
    """Whether ``user`` must sign in with a second factor (setting, then roles)."""
    configured = current_app.config.get("REQUIRE_2FA")
    required = settings.require_two_factor() if configured is None else bool(configured)
    return required and two_factor.required_for(user.roles)


# --------------------------------------------------------------------------- sessions


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _lifetime() -> timedelta:
    return timedelta(hours=float(current_app.config.get("LOGIN_SESSION_HOURS", SESSION_HOURS)))


def start_session(user: User) -> None:
    """Sign ``user`` in with a fresh session (no value from before the login survives)."""
    token = secrets.token_urlsafe(32)
    s = db()
    s.execute(
        delete(LoginSession).where(
            LoginSession.user_id == user.id, LoginSession.created_at < utcnow() - _lifetime()
        )
    )
    agent = (request.headers.get("User-Agent") or "")[:200]
    s.add(
        LoginSession(
            token_hash=_token_hash(token),
            user_id=user.id,
            address=client_address(),
            user_agent=agent,
        )
    )
    s.commit()
    session.clear()  # against session fixation: nothing planted before login is kept
    session[SESSION_TOKEN] = token
    login_user(user)
    log("login", actor=user, subject=user)


def end_sessions(user_id: int, *, keep_current: bool = False) -> None:
    """Delete the account's session rows (all, or all but this one); the caller commits.

    For a password change here, and for an admin resetting or disabling an account.
    """
    stmt = delete(LoginSession).where(LoginSession.user_id == user_id)
    token = session.get(SESSION_TOKEN)
    if keep_current and token:
        stmt = stmt.where(LoginSession.token_hash != _token_hash(token))
    db().execute(stmt)


def _end_current_session() -> None:
    if current_user.is_authenticated:
        me = current_user._get_current_object()  # type: ignore[attr-defined]
        log("logout", actor=me, subject=me)
    token = session.get(SESSION_TOKEN)
    if token:
        db().execute(delete(LoginSession).where(LoginSession.token_hash == _token_hash(token)))
        db().commit()
    logout_user()
    session.clear()


def _without_nul(values: MultiDict[str, str]) -> ImmutableMultiDict[str, str] | None:
    """A copy of ``values`` with every NUL character removed; None when there is none."""
    pairs = list(values.items(multi=True))
    if not any("\x00" in key or "\x00" in value for key, value in pairs):
        return None
    return ImmutableMultiDict([(k.replace("\x00", ""), v.replace("\x00", "")) for k, v in pairs])


@bp.before_app_request
def _strip_nul_characters() -> None:
    """Remove NUL characters from the query string and the form before any view runs.

    No keyboard types one and no text may hold one: PostgreSQL refuses even to compare a
    text with it, so a ``?agency=%00`` would be a 500 wherever a page looks a value up.
    Removing it is what the domain's text cleaning does with every control character,
    done once for every page (this module already screens every request).
    """
    req = request._get_current_object()  # type: ignore[attr-defined]
    for name in ("args", "form"):
        cleaned = _without_nul(getattr(req, name))
        if cleaned is not None:
            setattr(req, name, cleaned)
            req.__dict__.pop("values", None)  # recombined from the cleaned parts


@bp.before_app_request
def _session_still_valid() -> None:
    """Treat a cookie whose server-side session is gone (or too old) as signed out."""
    if not current_user.is_authenticated:
        return
    token = session.get(SESSION_TOKEN)
    row = db().get(LoginSession, _token_hash(token)) if isinstance(token, str) else None
    if row is not None and row.user_id == current_user.id:
        if row.created_at >= utcnow() - _lifetime():
            return
        db().delete(row)
        db().commit()
    logout_user()
    session.clear()


@bp.before_app_request
def _account_obligations() -> Response | None:
    """A password set by an admin is replaced, and a required second factor set up,
    before anything else (the API and the public portal do not use staff sessions)."""
    if not current_user.is_authenticated or request.endpoint in OBLIGATION_FREE:
        return None
    if request.path.startswith(("/api/", "/apply")):
        return None
    user: User = current_user._get_current_object()  # type: ignore[attr-defined]
    if user.must_change_password:
        flash("您的密码由管理员设置，请先修改为只有您知道的密码", "error")
        return redirect(url_for("auth.change_password"))
    if two_factor_required(user) and not user.totp_secret:
        flash("您的角色须使用动态口令登录，请先设置", "error")
        return redirect(url_for("auth.two_factor_page"))
    return None


# --------------------------------------------------------------------------- pages


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a relative path on this site, else None (no open redirect).

    Refuses scheme-relative ``//host``, backslash tricks (``/\\host`` that browsers read
    as ``//host``), absolute URLs and control characters.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _landing(user: User) -> str:
    return safe_next(request.args.get("next")) or url_for("dashboard.home")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int] | str:
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.home"))
    form = LoginForm()
    error: str | None = None
    status = 200
    if form.validate_on_submit():
        username = (form.username.data or "").strip()
        password = form.password.data or ""
        error = too_many_failures(username)
        if error:
            return render_template("auth/login.html", form=form, error=error), 429
        if production_mode() and password == DEMO_PASSWORD:
            # The demo password is published in the README: never a way in for real.
            return render_template("auth/login.html", form=form, error=DEMO_PASSWORD_REFUSED), 401
        # A name no account can have (control characters, 10k characters …) is not looked up.
        known = admin_ops.USERNAME.fullmatch(username) is not None
        user = db().scalar(select(User).where(User.username == username)) if known else None
        # One scrypt whatever the account: unknown, stopped or active cost the same time.
        matches = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
        if user is not None and user.active and matches:
            if user.totp_secret:
                # The failures are forgotten only once the second factor is right too:
                # else knowing the password would reset the count of guessed codes.
                session.clear()
                session[PENDING_USER] = user.id
                session[PENDING_SINCE] = utc_now().timestamp()
                return redirect(url_for(".second_factor", next=request.args.get("next")))
            login_limits().succeeded(username, client_address())
            start_session(user)
            flash(f"欢迎，{user.display_name}", "success")
            return redirect(_landing(user))
        login_limits().failed(username, client_address())
        log(
            "login_failed",
            username=username,
            subject=user,
            detail={"reason": "inactive" if user is not None and matches else "credentials"},
        )
        error = BAD_CREDENTIALS
    if request.method == "POST":
        status = 401 if error else 400
    return render_template("auth/login.html", form=form, error=error), status


class CodeForm(FlaskForm):
    code = StringField(
        "动态口令或恢复码",
        description="验证器（如手机上的身份验证器应用）显示的6位数字；手机不在身边时，"
        "可填写启用时保存的一个恢复码（每个只能用一次）",
        validators=[InputRequired("请填写动态口令")],
        render_kw={"autocomplete": "one-time-code", "maxlength": 24},
    )


def _pending_user() -> User | None:
    user_id, since = session.get(PENDING_USER), session.get(PENDING_SINCE)
    if not isinstance(user_id, int) or not isinstance(since, float):
        return None
    if utc_now().timestamp() - since > PENDING_SECONDS:
        return None
    user = db().get(User, user_id)
    return user if user is not None and user.active and user.totp_secret else None


def _accept_code(user: User, code: str) -> bool:
    """Whether ``code`` is a fresh TOTP code of ``user``; the step is then used up."""
    assert user.totp_secret
    step = two_factor.matching_step(user.totp_secret, code, utc_now())
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    return True


@bp.route("/login/verify", methods=["GET", "POST"])
def second_factor() -> Response | tuple[str, int]:
    """The second step of a sign-in with two factors: the code from the authenticator."""
    user = _pending_user()
    if user is None:
        session.pop(PENDING_USER, None)
        flash("请重新登录", "error")
        return redirect(url_for(".login"))
    form = CodeForm()
    error: str | None = None
    status = 200
    if form.validate_on_submit():
        error = too_many_failures(user.username)
        if error:
            return render_template("auth/verify.html", form=form, error=error), 429
        code = form.code.data or ""
        if _accept_code(user, code) or admin_ops.use_recovery_code(db(), user, code, utc_now()):
            db().commit()
            login_limits().succeeded(user.username, client_address())
            start_session(user)
            flash(f"欢迎，{user.display_name}", "success")
            return redirect(_landing(user))
        db().rollback()
        login_limits().failed(user.username, client_address())
        log("second_factor_failed", username=user.username, subject=user)
        error, status = BAD_SECOND_FACTOR, 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/verify.html", form=form, error=error), status


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    if current_user.is_authenticated:
        _end_current_session()
        flash("您已退出登录", "success")
    return redirect(url_for("auth.login"))


class PasswordChangeForm(FlaskForm):
    """Current password, new password twice; the length rules are ``admin_ops``'s."""

    current_password = PasswordField(
        "当前密码",
        validators=[InputRequired("请填写当前密码")],
        render_kw={"autocomplete": "current-password", "maxlength": admin_ops.MAX_PASSWORD},
    )
    new_password = PasswordField(
        "新密码",
        description=f"至少{admin_ops.MIN_PASSWORD}个字符",
        render_kw={"autocomplete": "new-password", "maxlength": admin_ops.MAX_PASSWORD},
    )
    confirm = PasswordField(
        "再次输入新密码",
        render_kw={"autocomplete": "new-password", "maxlength": admin_ops.MAX_PASSWORD},
    )


#: Where ``admin_ops``' field names land on this form.
_PASSWORD_FIELDS = {"password": "new_password", "confirm": "confirm"}


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> Response | tuple[str, int]:
    """Change one's own password; every other session of the account is signed out.

    Also the page a user with an admin-set password is sent to before any other."""
    user: User = current_user._get_current_object()  # type: ignore[attr-defined]
    form = PasswordChangeForm()
    errors: list[str] = []
    status = 200
    if form.validate_on_submit():
        status = 400
        new = form.new_password.data or ""
        if message := too_many_failures(user.username):
            errors, status = [message], 429
        elif not user.check_password(form.current_password.data or ""):
            # A borrowed session must not become a guessing oracle.
            login_limits().failed(user.username, client_address())
            log("login_failed", subject=user, detail={"reason": "current_password"})
            form.current_password.errors = ["当前密码不正确"]
        elif new == form.current_password.data:
            form.new_password.errors = ["新密码不能与当前密码相同"]
        else:
            try:
                admin_ops.reset_password(db(), user, new, confirmation=form.confirm.data, by=user)
            except ValidationError as err:
                db().rollback()
                for name, message in err.field_errors.items():
                    form[_PASSWORD_FIELDS.get(name, "new_password")].errors = [message]
            else:
                end_sessions(user.id, keep_current=True)
                db().commit()
                flash("密码已修改，其他设备上的登录已失效", "success")
                return redirect(url_for("dashboard.home"))
    elif request.method == "POST":
        status = 400
    return render_template("auth/password.html", form=form, errors=errors), status


# --------------------------------------------------------------------------- own sessions


class SessionEndForm(FlaskForm):
    """Ends one other session (``session_id`` = its token hash) or, empty, all others."""

    session_id = HiddenField()


@bp.route("/account/sessions", methods=["GET", "POST"])
@login_required
def sessions() -> Response | str:
    """Where this account is signed in; end any other session, or all of them."""
    user: User = current_user._get_current_object()  # type: ignore[attr-defined]
    token = session.get(SESSION_TOKEN)
    mine = _token_hash(token) if isinstance(token, str) else ""
    form = SessionEndForm()
    if form.validate_on_submit():
        wanted = form.session_id.data or ""
        stmt = delete(LoginSession).where(
            LoginSession.user_id == user.id, LoginSession.token_hash != mine
        )
        if wanted:
            stmt = stmt.where(LoginSession.token_hash == wanted)
        ended = int(getattr(db().execute(stmt), "rowcount", 0) or 0)
        db().commit()
        log("session_ended", subject=user, detail={"ended": ended, "all": not wanted})
        flash(f"已结束 {ended} 个其他会话", "success")
        return redirect(url_for(".sessions"))
    rows = db().scalars(
        select(LoginSession)
        .where(LoginSession.user_id == user.id)
        .order_by(LoginSession.created_at.desc())
    )
    return render_template(
        "auth/sessions.html",
        rows=[(r, r.token_hash == mine, local_time(r.created_at)) for r in rows],
        form=form,
    )


# --------------------------------------------------------------------------- two factors


class TotpForm(FlaskForm):
    """Set up (a code from the new secret) or switch off (password and a current code)."""

    code = StringField(
        "动态口令",
        validators=[InputRequired("请填写动态口令")],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 8},
    )
    password = PasswordField(
        "登录密码（停用时填写）",
        render_kw={"autocomplete": "current-password", "maxlength": admin_ops.MAX_PASSWORD},
    )


@bp.route("/account/2fa", methods=["GET", "POST"])
@login_required
def two_factor_page() -> Response | tuple[str, int]:
    """Set up TOTP (scan the QR code, confirm one code) or switch it off where optional."""
    user: User = current_user._get_current_object()  # type: ignore[attr-defined]
    form = TotpForm()
    required = two_factor_required(user)
    status = 200
    if user.totp_secret is None:
        secret = session.get(ENROL_SECRET)
        if not isinstance(secret, str) or len(secret) != 32:
            secret = two_factor.new_secret()
            session[ENROL_SECRET] = secret
        if form.validate_on_submit():
            step = two_factor.matching_step(secret, form.code.data or "", utc_now())
            if step is not None:
                codes = admin_ops.set_two_factor(db(), user, secret, step)
                db().commit()
                session.pop(ENROL_SECRET, None)
                flash("已启用动态口令：以后登录时须输入验证器上的6位数字", "success")
                return _show_recovery_codes(codes)
            form.code.errors = [BAD_CODE]
            status = 400
        uri = two_factor.provisioning_uri(secret, user.username)
        page = render_template(
            "auth/two_factor.html",
            form=form,
            enabled=False,
            required=required,
            # segno's own SVG: only path data, no text from the user (the URI is encoded).
            qr=Markup(two_factor.qr_svg(uri)),
            secret=secret,
        )
        return page, status
    if form.validate_on_submit():
        if required:
            abort(400)  # the page offers no switch-off where it is required
        if not user.check_password(form.password.data or ""):
            form.password.errors = ["登录密码不正确"]
        elif not _accept_code(user, form.code.data or ""):
            form.code.errors = [BAD_CODE]
        else:
            admin_ops.set_two_factor(db(), user, None, None)
            db().commit()
            flash("已停用动态口令", "success")
            return redirect(url_for(".two_factor_page"))
        db().rollback()
        status = 400
    page = render_template(
        "auth/two_factor.html", form=form, enabled=True, required=required, qr="", secret=""
    )
    return page, status


def _show_recovery_codes(codes: list[str]) -> Response:
    """The codes, this once: rendered into the answer of the POST that made them (never
    kept in the session or the database in the clear), and not stored by any cache."""
    response = current_app.make_response(render_template("auth/recovery_codes.html", codes=codes))
    response.headers["Cache-Control"] = "no-store"
    return response


class RecoveryForm(FlaskForm):
    """A new set of recovery codes: the password and a current TOTP code again."""

    password = PasswordField(
        "登录密码",
        validators=[InputRequired("请填写登录密码")],
        render_kw={"autocomplete": "current-password", "maxlength": admin_ops.MAX_PASSWORD},
    )
    code = StringField(
        "动态口令",
        validators=[InputRequired("请填写动态口令")],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 8},
    )


@bp.route("/account/2fa/recovery", methods=["GET", "POST"])
@login_required
def recovery_codes() -> Response | tuple[str, int]:
    """How many recovery codes are left, and a new set (the old ones stop working)."""
    user: User = current_user._get_current_object()  # type: ignore[attr-defined]
    form = RecoveryForm()
    status = 200
    if form.validate_on_submit():
        status = 400
        if message := too_many_failures(user.username):
            form.password.errors, status = [message], 429
        else:
            code_ok = user.totp_secret is not None and _accept_code(user, form.code.data or "")
            try:
                codes = admin_ops.renew_recovery_codes(
                    db(), user, form.password.data or "", code_ok
                )
            except ValidationError as err:
                db().rollback()
                if "password" in err.field_errors:
                    # A borrowed session must not become a way to guess the password.
                    login_limits().failed(user.username, client_address())
                    log("login_failed", subject=user, detail={"reason": "current_password"})
                for name, message in err.field_errors.items():
                    form[name].errors = [message]
            except DomainError as err:
                db().rollback()
                form.code.errors = [str(err)]
            else:
                db().commit()
                flash("已生成新的恢复码，原有的恢复码已作废", "success")
                return _show_recovery_codes(codes)
    elif request.method == "POST":
        status = 400
    left = admin_ops.recovery_codes_left(db(), user) if user.totp_secret else 0
    page = render_template(
        "auth/recovery.html", form=form, enabled=user.totp_secret is not None, left=left
    )
    return page, status
