"""The application's shared counters (``workflow.store.rate_limits``), one per app.

Redis when ``GONGKAI_REDIS_URL`` is set (or the app config's ``REDIS_URL``), else the
app's own database, so every gunicorn worker and every machine of a deployment counts
the same hits. ``RATE_NAMESPACE`` separates apps that share one Redis (the tests).
"""

from __future__ import annotations

from flask import current_app, request

import settings
from workflow.store.rate_limits import (
    Backend,
    DatabaseBackend,
    LoginLimits,
    RedisBackend,
    SharedCounters,
)

#: Defaults of the settings ``LOGIN_MAX_FAILURES`` (per account and address),
#: ``LOGIN_ADDRESS_FAILURES``, ``LOGIN_ACCOUNT_FREE`` and ``LOGIN_WINDOW_MINUTES``.
MAX_FAILURES = 5
ADDRESS_FAILURES = 30
ACCOUNT_FREE = 10
WINDOW_MINUTES = 15


def counters() -> SharedCounters:
    app = current_app
    found: SharedCounters | None = app.extensions.get("shared_counters")
    if found is None:
        url = app.config.get("REDIS_URL") or settings.redis_url()
        backend: Backend
        if url:
            namespace = "gongkai:rate:" + str(app.config.get("RATE_NAMESPACE", ""))
            backend = RedisBackend(url, namespace)
        else:
            backend = DatabaseBackend(app.extensions["db_engine"])
        found = SharedCounters(backend)
        app.extensions["shared_counters"] = found
    return found


def login_limits() -> LoginLimits:
    """The login limits with the app's settings (read per call: tests change them)."""
    config = current_app.config
    return LoginLimits(
        counters(),
        pair_failures=int(config.get("LOGIN_MAX_FAILURES", MAX_FAILURES)),
        address_failures=int(config.get("LOGIN_ADDRESS_FAILURES", ADDRESS_FAILURES)),
        account_free=int(config.get("LOGIN_ACCOUNT_FREE", ACCOUNT_FREE)),
        window=float(config.get("LOGIN_WINDOW_MINUTES", WINDOW_MINUTES)) * 60,
    )


def client_address() -> str:
    """The client's address as the limits key it (cut: it is never longer honestly)."""
    return (request.remote_addr or "-")[:64]
