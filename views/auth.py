"""Signing in and out, changing one's password, and keeping sessions honest.

Login failures say only "用户名或密码错误", whichever part was wrong, and an unknown user
still costs a password-hash check, so the page reveals neither which accounts exist nor
(by timing) whether a name is taken. Logout is a POST with the CSRF token, so a link or
an image on another site cannot sign a clerk out.

Guessing passwords is slowed by :class:`LoginThrottle`: after ``LOGIN_MAX_FAILURES`` (5)
failures for one username from one address within ``LOGIN_WINDOW_MINUTES`` (15), that
pair is refused until the oldest failure leaves the window. Keying on username *and*
address means an attacker elsewhere cannot lock a clerk out. The counts live in the
memory of one process: with several gunicorn workers each worker counts on its own (an
attacker gets at most workers × 5 tries per window) and a restart forgets them; that is
the price of needing no table written on every failed login.

Sessions are recorded server-side (``models.LoginSession``): the cookie carries a random
token whose hash must still be in the table, so logging out (which deletes the row)
makes a copied cookie worthless, and a password change ends every other session.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
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
from sqlalchemy import delete, select
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response
from wtforms import PasswordField
from wtforms.validators import InputRequired

from models import LoginSession, User
from models.base import utcnow
from settings import production_mode
from views.database import db
from views.forms import LoginForm
from workflow.admin import operations as admin_ops
from workflow.admin.demo import DEMO_PASSWORD
from workflow.kernel.errors import ValidationError

bp = Blueprint("auth", __name__)

BAD_CREDENTIALS = "用户名或密码错误"
DEMO_PASSWORD_REFUSED = "演示账号的密码不能在生产环境中使用，请联系管理员重置密码"
#: Compared against when the user does not exist, so both paths cost one scrypt.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")
#: Key in the Flask session holding the token of the server-side session row.
SESSION_TOKEN = "login_token"
#: Defaults of the settings ``LOGIN_MAX_FAILURES``, ``LOGIN_WINDOW_MINUTES`` and
#: ``LOGIN_SESSION_HOURS`` (a session ends this long after login, whatever happens).
MAX_FAILURES = 5
WINDOW_MINUTES = 15
SESSION_HOURS = 12


class LoginThrottle:
    """Failed attempts per key within a sliding window; thread-safe, bounded in memory.

    ``clock`` is injectable so tests need not wait fifteen minutes.
    """

    #: Beyond this many keys the oldest are forgotten (a flood of made-up usernames
    #: must not grow the process without bound).
    MAX_KEYS = 10_000

    def __init__(
        self,
        max_failures: int = MAX_FAILURES,
        window_seconds: float = WINDOW_MINUTES * 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self.clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def wait_seconds(self, key: tuple[str, str]) -> float:
        """How long ``key`` must wait before trying again; 0 when it may try now."""
        with self._lock:
            now = self.clock()
            times = self._recent(key, now)
            if len(times) < self.max_failures:
                return 0.0
            return times[-self.max_failures] + self.window - now

    def failed(self, key: tuple[str, str]) -> None:
        with self._lock:
            now = self.clock()
            times = self._recent(key, now)
            times.append(now)
            self._failures[key] = times
            if len(self._failures) > self.MAX_KEYS:
                self._forget(now)

    def succeeded(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _forget(self, now: float) -> None:
        for key in [k for k, t in self._failures.items() if not self._recent(k, now)]:
            del self._failures[key]
        while len(self._failures) > self.MAX_KEYS:
            del self._failures[next(iter(self._failures))]


def throttle() -> LoginThrottle:
    """The application's throttle (one per app, so tests never share counts)."""
    app = current_app
    found = app.extensions.get("login_throttle")
    if found is None:
        found = LoginThrottle(
            int(app.config.get("LOGIN_MAX_FAILURES", MAX_FAILURES)),
            float(app.config.get("LOGIN_WINDOW_MINUTES", WINDOW_MINUTES)) * 60,
        )
        app.extensions["login_throttle"] = found
    return found


def throttle_key(username: str) -> tuple[str, str]:
    return username.strip().lower(), request.remote_addr or "-"


def too_many_failures(key: tuple[str, str]) -> str | None:
    """The refusal message while ``key`` is throttled, else None."""
    wait = throttle().wait_seconds(key)
    if wait <= 0:
        return None
    return f"登录失败次数过多，请{max(1, math.ceil(wait / 60))}分钟后再试"


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
    s.add(LoginSession(token_hash=_token_hash(token), user_id=user.id))
    s.commit()
    session.clear()  # against session fixation: nothing planted before login is kept
    session[SESSION_TOKEN] = token
    login_user(user)


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
        key = throttle_key(username)
        error = too_many_failures(key)
        if error:
            return render_template("auth/login.html", form=form, error=error), 429
        if production_mode() and password == DEMO_PASSWORD:
            # The demo password is published in the README: never a way in for real.
            return render_template("auth/login.html", form=form, error=DEMO_PASSWORD_REFUSED), 401
        # A name no account can have (control characters, 10k characters …) is not looked up.
        known = admin_ops.USERNAME.fullmatch(username) is not None
        user = db().scalar(select(User).where(User.username == username)) if known else None
        if user is not None and user.active and user.check_password(password):
            throttle().succeeded(key)
            start_session(user)
            flash(f"欢迎，{user.display_name}", "success")
            return redirect(safe_next(request.args.get("next")) or url_for("dashboard.home"))
        if user is None:
            check_password_hash(_DUMMY_HASH, password)
        throttle().failed(key)
        error = BAD_CREDENTIALS
    if request.method == "POST":
        status = 401 if error else 400
    return render_template("auth/login.html", form=form, error=error), status


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
    """Change one's own password; every other session of the account is signed out."""
    user: User = current_user._get_current_object()  # type: ignore[attr-defined]
    form = PasswordChangeForm()
    errors: list[str] = []
    status = 200
    if form.validate_on_submit():
        status = 400
        key = throttle_key(user.username)
        new = form.new_password.data or ""
        if message := too_many_failures(key):
            errors, status = [message], 429
        elif not user.check_password(form.current_password.data or ""):
            throttle().failed(key)  # a borrowed session must not become a guessing oracle
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
