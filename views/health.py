"""``/healthz`` for load balancers and ``/metrics`` for Prometheus.

Neither needs a login: they reveal no personal data and no business figures. ``/healthz``
answers 200 when the database is reachable and its schema is at the code's migration head,
503 otherwise, with each check in the JSON body. ``/metrics`` is served to the local
machine only (a scraper on the host or through the reverse proxy's own allow-list),
because route timings describe the installation.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

import settings
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
    body = {"ok": healthy, "database": "ok", "migrations": migrations}
    return jsonify(body), 200 if healthy else 503


@bp.get("/metrics")
def metrics() -> Response:
    if request.remote_addr not in LOOPBACK:
        raise PermissionDenied("监控指标仅对本机开放")
    registry = REGISTRY
    if settings.metrics_dir():  # several workers on this host: sum what each recorded
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
