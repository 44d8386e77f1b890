"""``/healthz`` for load balancers and ``/metrics`` for Prometheus.

Neither needs a login: they reveal no personal data and no business figures. ``/healthz``
answers 200 when the database is reachable and its schema is at the code's migration head,
503 otherwise, with each check in the JSON body. It also reports the background queue
(its depth, and the newest worker heartbeat from the shared queue storage: ``jobs.monitor``)
without failing on it: a dead worker is an alarm for the operator, not a reason for the
load balancer to take this web process out. ``/metrics`` is served to the local
machine only (a scraper on the host or through the reverse proxy's own allow-list),
because route timings describe the installation.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

import settings
from jobs.monitor import QUEUE_ERRORS, QueueCollector, queue_state
from models.migrate import schema_revisions
from workflow.kernel.errors import PermissionDenied

bp = Blueprint("health", __name__)

LOOPBACK = frozenset({"127.0.0.1", "::1"})


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    engine = current_app.extensions["db_engine"]
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        current, head = schema_revisions(engine)
    except SQLAlchemyError as exc:
        body = {"ok": False, "database": f"error: {type(exc).__name__}"}
        return jsonify(body), 503
    migrations = {"current": current, "head": head, "ok": current == head}
    healthy = current == head
    body = {"ok": healthy, "database": "ok", "migrations": migrations, **_queue_checks()}
    return jsonify(body), 200 if healthy else 503


def _queue_checks() -> dict[str, Any]:
    try:
        state = queue_state()
    except QUEUE_ERRORS as exc:
        error = f"error: {type(exc).__name__}"
        return {"queue": {"ok": False, "error": error}, "worker": {"ok": False, "error": error}}
    age = None if state.heartbeat_age is None else round(state.heartbeat_age, 1)
    return {
        "queue": {"ok": True, "depth": state.depth, "scheduled": state.scheduled},
        "worker": {"ok": state.worker_alive, "heartbeat_age_seconds": age, "last": state.worker},
    }


@bp.get("/metrics")
def metrics() -> Response:
    if request.remote_addr not in LOOPBACK:
        raise PermissionDenied("监控指标仅对本机开放")
    registry = REGISTRY
    if settings.metrics_dir():  # several workers on this host: sum what each recorded
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    # The queue's gauges are read from the shared queue at each scrape (any host's view).
    queue = CollectorRegistry()
    queue.register(QueueCollector())
    body = generate_latest(registry) + generate_latest(queue)
    return Response(body, mimetype=CONTENT_TYPE_LATEST)
