"""Gongkai: the Flask app factory and the command line (``python app.py …``).

The web layer and the CLI share one thing: a SQLAlchemy session per unit of work that
the caller commits once. Nothing under ``workflow/`` commits.
"""

from __future__ import annotations

import math
import secrets
from collections import Counter
from typing import Any

from flask import Flask, g, render_template, request
from flask_login import LoginManager
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.orm import Session, joinedload

import settings
from models import User
from models.db import WEB_LOCK_TIMEOUT_MS, make_engine, make_session_factory
from models.pii import check_database
from views import observability
from views.database import db
from workflow.kernel.errors import DomainError

csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录"

#: Shortest ``GONGKAI_SECRET_KEY`` accepted in production (it signs the session cookies),
#: and the least estimated entropy: ``secrets.token_hex(32)`` has about 256 bits by this
#: estimate, ``"a" * 64`` none, a 16-character password about 60.
MIN_SECRET_KEY = 32
MIN_SECRET_BITS = 128


def secret_key_bits(key: str) -> float:
    """Entropy estimate of ``key``: its length times the Shannon entropy of its characters.

    An over-estimate for text a person chose (a phrase repeats no character often, yet is
    guessable), and a fair one for a random key; it refuses the keys that are plainly not
    random: repeated characters, short keys, a word typed twice.
    """
    if not key:
        return 0.0
    counts = Counter(key)
    per_char = -sum(n / len(key) * math.log2(n / len(key)) for n in counts.values())
    return per_char * len(key)


def _secret_key() -> str:
    """The cookie-signing key; outside production a random one (sessions end on restart).

    In production a random key would sign every clerk out at each restart and differ
    between gunicorn workers (so every other request would be "not logged in"), and a
    guessable one lets anyone forge a session: refuse to start instead.
    """
    key = settings.secret_key()
    weak = len(key) < MIN_SECRET_KEY or secret_key_bits(key) < MIN_SECRET_BITS
    if settings.production_mode() and weak:
        if not key:
            problem = "未设置"
        elif len(key) < MIN_SECRET_KEY:
            problem = f"过短（至少{MIN_SECRET_KEY}个字符）"
        else:
            problem = f"不够随机（估计熵不足{MIN_SECRET_BITS}位）"
        raise RuntimeError(
            f"生产模式（GONGKAI_ENV=production）下环境变量 GONGKAI_SECRET_KEY {problem}，"
            "拒绝启动。请设置一个随机密钥，例如："
            "python -c 'import secrets; print(secrets.token_hex(32))'"
        )
    return key or secrets.token_hex(32)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(
        SECRET_KEY=_secret_key(),
        DATABASE_URL=None,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies(),
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=64 * 1024 * 1024,
        JSON_AS_ASCII=False,
    )
    app.config.update(config or {})
    engine = make_engine(app.config["DATABASE_URL"], lock_timeout_ms=WEB_LOCK_TIMEOUT_MS)
    # Encrypted personal data and no key (or the wrong one): refuse now, with the reason,
    # rather than fail on the first page that shows an applicant.
    check_database(engine)
    app.extensions["db_engine"] = engine
    app.extensions["db_sessions"] = make_session_factory(engine)

    if settings.behind_proxy():
        # One trusted reverse proxy in front: take the client address and scheme from it
        # (login throttling is keyed by the client address).
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]
    csrf.init_app(app)
    login_manager.init_app(app)
    _register_blueprints(app)
    _register_errors(app)
    observability.init_app(app)

    @app.teardown_appcontext
    def close_session(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("db", None)
        if session is not None:
            session.close()

    @app.after_request
    def security_headers(response: Any) -> Any:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'"
        )
        # Pages and exports carry applicants' personal data: no browser or proxy may keep a
        # copy (ASVS 8.2.1). Only the static files (no data) may be cached.
        if not request.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
        if settings.secure_cookies():  # served over HTTPS: browsers must never fall back
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
        )
        return response

    return app


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    if not user_id.isdigit():
        return None
    # Roles and agency come with the user in one statement: every page reads both, and
    # lazy loading them was two more round trips on every request (bench/RESULTS.md).
    user = db().get(
        User, int(user_id), options=[joinedload(User.role_rows), joinedload(User.agency)]
    )
    return user if user is not None and user.active else None


#: Every blueprint module exports ``bp``; one per feature (docs/architecture.md).
BLUEPRINTS = (
    "views.auth",
    "views.requests",
    "views.office",
    "views.challenges",
    "views.statistics",
    "views.reports",
    "views.imports",
    "views.report_batch",
    "views.admin",
    "views.dashboard",
    "views.audit",
    "views.notices",
    "views.health",
    "views.api",
    "views.api_tokens",
    "views.portal",
    "views.portal_queue",
    "views.security_audit",
    "views.attachments",
    "views.supervision",
)


def _register_blueprints(app: Flask) -> None:
    import importlib

    from views import navigation

    for name in BLUEPRINTS:
        module = importlib.import_module(name)
        if getattr(module, "CSRF_EXEMPT", False):  # the JSON API: bearer tokens only
            csrf.exempt(module.bp)
        app.register_blueprint(module.bp)
    navigation.init_app(app)


def _register_errors(app: Flask) -> None:
    from views.api.blueprint import is_api_path, server_error, status_response

    def page(status: int, message: str) -> Any:
        """The error page; under /api/ (even where no route matched) the JSON error.

        A refusal (403) is written to the security log first (ASVS V7.2.2)."""
        if status == 403:
            from views.security import log

            log("access_denied", detail={"path": request.path[:200], "method": request.method})
        if is_api_path():
            return status_response(status, message)
        return render_template("error.html", status=status, message=message), status

    @app.errorhandler(DomainError)
    def domain_error(err: DomainError) -> Any:
        return page(err.status, str(err))

    @app.errorhandler(CSRFError)
    def csrf_error(_err: CSRFError) -> Any:
        return page(400, "表单已过期或来源不明（缺少安全令牌），请刷新页面后重试。")

    for status, message in (
        (400, "请求无效"),
        (403, "您没有权限进行此操作"),
        (404, "页面不存在"),
        (405, "不支持的请求方式"),
        (409, "操作冲突，请刷新后重试"),
        (413, "上传的文件过大"),
    ):
        app.register_error_handler(status, lambda _e, s=status, m=message: page(s, m))

    @app.errorhandler(500)
    def internal_error(err: Exception) -> Any:
        # A failed flush leaves the request's session unusable until rolled back, and the
        # page's navigation reads the database (PendingRollbackError instead of a page).
        if "db" in g:
            g.db.rollback()
        if is_api_path():
            return server_error(err)
        return page(500, "系统内部错误，操作未保存。请稍后重试或联系管理员。")


def wsgi() -> Flask:
    """Entry point for gunicorn: ``gunicorn 'app:wsgi()'``. The search dictionary is
    loaded here (about 1 s), not by the first clerk who searches or registers."""
    from workflow.requests.search_text import prepare

    prepare()
    return create_app()


if __name__ == "__main__":
    from commands import main

    main()
