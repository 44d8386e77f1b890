"""Signing in and out.

Login failures say only "用户名或密码错误", whichever part was wrong, and an unknown user
still costs a password-hash check, so the page reveals neither which accounts exist nor
(by timing) whether a name is taken. Logout is a POST with the CSRF token, so a link or
an image on another site cannot sign a clerk out.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.wrappers import Response

from app import db
from models import User
from views.forms import LoginForm

bp = Blueprint("auth", __name__)

BAD_CREDENTIALS = "用户名或密码错误"
#: Compared against when the user does not exist, so both paths cost one scrypt.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


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
    if form.validate_on_submit():
        username = (form.username.data or "").strip()
        user = db().scalar(select(User).where(User.username == username)) if username else None
        if user is not None and user.active and user.check_password(form.password.data or ""):
            login_user(user)
            flash(f"欢迎，{user.display_name}", "success")
            return redirect(safe_next(request.args.get("next")) or url_for("dashboard.home"))
        if user is None:
            check_password_hash(_DUMMY_HASH, form.password.data or "")
        error = BAD_CREDENTIALS
    status = 200
    if request.method == "POST":
        status = 401 if error else 400
    return render_template("auth/login.html", form=form, error=error), status


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    if current_user.is_authenticated:
        logout_user()
        flash("您已退出登录", "success")
    return redirect(url_for("auth.login"))
