"""What operators watch: /healthz, /metrics, request ids and JSON access logs."""

from __future__ import annotations

import json
import logging

import pytest
from alembic import command

from models.migrate import alembic_config, upgrade
from views.observability import JsonFormatter


def test_healthz_reports_a_current_schema(app) -> None:
    response = app.test_client().get("/healthz")
    body = response.get_json()
    assert response.status_code == 200
    assert body["ok"] is True and body["database"] == "ok"
    assert body["migrations"]["current"] == body["migrations"]["head"]


def test_healthz_fails_when_migrations_are_behind(app, engine) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "-1")
    response = app.test_client().get("/healthz")
    body = response.get_json()
    assert response.status_code == 503 and body["ok"] is False
    assert body["migrations"]["ok"] is False
    assert body["migrations"]["current"] != body["migrations"]["head"]
    upgrade(engine)
    assert app.test_client().get("/healthz").status_code == 200


def test_metrics_time_each_route_for_the_local_machine_only(app) -> None:
    client = app.test_client()
    client.get("/login")
    local = client.get("/metrics")
    assert local.status_code == 200
    assert 'gongkai_request_seconds_count{method="GET",route="/login",status="200"}' in (
        local.get_data(as_text=True)
    )
    remote = client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert remote.status_code == 403


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_every_response_has_a_request_id_that_the_access_log_carries(app) -> None:
    handler = _Records()
    logging.getLogger("gongkai.access").addHandler(handler)
    try:
        client = app.test_client()
        given = client.get("/login", headers={"X-Request-Id": "platform-42.a"})
        made = client.get("/login", headers={"X-Request-Id": "<script>" + "x" * 100})
    finally:
        logging.getLogger("gongkai.access").removeHandler(handler)
    assert given.headers["X-Request-Id"] == "platform-42.a"
    assert made.headers["X-Request-Id"] != given.headers["X-Request-Id"]
    assert len(made.headers["X-Request-Id"]) == 32 and made.headers["X-Request-Id"].isalnum()
    fields = [r.fields for r in handler.records]  # type: ignore[attr-defined]
    assert {f["request_id"] for f in fields} == {
        "platform-42.a",
        made.headers["X-Request-Id"],
    }
    assert all(f["route"] == "/login" and f["status"] == 200 for f in fields)
    line = json.loads(JsonFormatter().format(handler.records[0]))
    assert line["request_id"] == "platform-42.a" and line["logger"] == "gongkai.access"


def test_healthz_reports_the_queue_depth_and_the_worker_heartbeat(app, monkeypatch) -> None:
    from jobs import monitor
    from jobs import queue as q

    q.job_queue().flush()
    client = app.test_client()
    before = client.get("/healthz").get_json()
    assert before["queue"] == {"ok": True, "depth": 0, "scheduled": 0}
    assert before["worker"]["ok"] is False and before["worker"]["heartbeat_age_seconds"] is None
    q.enqueue("nightly_verify")  # no worker runs here: it waits in the queue
    monitor.beat()
    after = client.get("/healthz")
    body = after.get_json()
    assert after.status_code == 200 and body["queue"]["depth"] == 1
    assert body["worker"]["ok"] is True and body["worker"]["heartbeat_age_seconds"] < 5
    metrics = client.get("/metrics").get_data(as_text=True)
    assert "gongkai_queue_depth 1.0" in metrics
    assert "gongkai_worker_heartbeat_age_seconds" in metrics
    # A heartbeat three beats old means no worker is running.
    stale = monitor.time.time() + monitor.HEARTBEAT_STALE + 1
    monkeypatch.setattr(monitor.time, "time", lambda: stale)
    assert client.get("/healthz").get_json()["worker"]["ok"] is False
    q.job_queue().flush()


def test_an_unreachable_queue_is_reported_not_a_500(app, monkeypatch) -> None:
    monkeypatch.setenv("GONGKAI_REDIS_URL", "redis://127.0.0.1:9/0")  # nothing listens
    response = app.test_client().get("/healthz")
    body = response.get_json()
    assert response.status_code == 200 and body["database"] == "ok"
    assert body["queue"]["ok"] is False and "ConnectionError" in body["queue"]["error"]
    assert "gongkai_queue_depth" not in app.test_client().get("/metrics").get_data(as_text=True)


def test_job_durations_are_a_histogram_by_task_and_outcome() -> None:
    from prometheus_client import REGISTRY

    from jobs.monitor import timed

    def sample(outcome: str) -> float:
        labels = {"task": "probe", "outcome": outcome}
        return REGISTRY.get_sample_value("gongkai_job_seconds_count", labels) or 0.0

    ok, failed = sample("ok"), sample("error")
    assert timed("probe", lambda x: x * 2)(21) == 42

    def broken() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        timed("probe", broken)()
    assert (sample("ok"), sample("error")) == (ok + 1, failed + 1)
