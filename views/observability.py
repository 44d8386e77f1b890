"""What operators watch: a request id on every response, JSON access logs, Prometheus metrics.

Each response carries ``X-Request-Id`` (the caller's, when it sent a sane one, else a new
one) and one JSON line is logged per request under ``gongkai.access`` with that id, the
route, the status and the time taken, so a clerk's report ("it failed at 10:32") can be
found in the logs of whichever worker served it. Request latency by route goes to a
Prometheus histogram served at ``/metrics`` (views/health.py).
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from flask import Flask, g, request
from prometheus_client import Histogram

#: A caller's request id is kept only if it is short and plain (it is logged and echoed).
_SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
ACCESS_LOG = logging.getLogger("gongkai.access")

REQUEST_SECONDS = Histogram(
    "gongkai_request_seconds",
    "Time to answer an HTTP request, by route (the URL rule, not the URL) and status.",
    ["route", "method", "status"],
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: what log collectors parse without a pattern."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _configure_logging() -> None:
    """JSON lines on stderr for the ``gongkai`` loggers, once per process."""
    root = logging.getLogger("gongkai")
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    root.propagate = False


def request_id() -> str:
    """The current request's id (also in the response's ``X-Request-Id``)."""
    return str(g.get("request_id", ""))


def init_app(app: Flask) -> None:
    _configure_logging()

    @app.before_request
    def _start() -> None:
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given if _SANE_ID.fullmatch(given) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response: Any) -> Any:
        started = g.get("request_started")
        if started is None:  # a response made before the request began (rare errors)
            return response
        seconds = time.perf_counter() - started
        route = request.url_rule.rule if request.url_rule else "(unmatched)"
        REQUEST_SECONDS.labels(route, request.method, str(response.status_code)).observe(seconds)
        response.headers["X-Request-Id"] = request_id()
        ACCESS_LOG.info(
            "request",
            extra={
                "fields": {
                    "request_id": request_id(),
                    "method": request.method,
                    "route": route,
                    "status": response.status_code,
                    "ms": round(seconds * 1000, 1),
                }
            },
        )
        return response
