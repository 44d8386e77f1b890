"""What operators see of the background jobs: worker heartbeat, queue depth, job times.

All of it lives where the queue lives (Redis when configured, else the embedded SQLite
queue), never in one process's memory, so ``/healthz`` and ``/metrics`` on any web host
tell the same story about workers running on any other host:

* every ``worker`` process writes ``worker-heartbeat`` (time, host, pid) into the queue's
  storage every ``HEARTBEAT_EVERY`` seconds; the newest one is what ``/healthz`` shows,
  and a heartbeat older than ``HEARTBEAT_STALE`` means no worker is running;
* the queue depth is the queue's own count of pending tasks;
* job durations are a Prometheus histogram observed in the worker (served by
  ``python app.py worker --metrics-port``, or summed into the web's ``/metrics`` when the
  worker shares the host's ``PROMETHEUS_MULTIPROC_DIR``).
"""

from __future__ import annotations

import functools
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from prometheus_client import Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from redis.exceptions import RedisError

from jobs import queue as q

HEARTBEAT_KEY = "worker-heartbeat"
HEARTBEAT_EVERY = 10.0
#: Three missed beats: the worker is gone (or wedged).
HEARTBEAT_STALE = 3 * HEARTBEAT_EVERY

JOB_SECONDS = Histogram(
    "gongkai_job_seconds",
    "Time a background job ran, by task and outcome (ok or error).",
    ["task", "outcome"],
    buckets=(0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600),
)

F = TypeVar("F", bound=Callable[..., Any])
#: What an unreachable or broken queue backend raises (Redis, the embedded SQLite file).
QUEUE_ERRORS = (RedisError, sqlite3.Error, OSError)


def timed(task: str, function: F) -> F:
    """``function`` with its run time recorded in ``JOB_SECONDS`` under ``task``."""

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        outcome = "error"
        try:
            result = function(*args, **kwargs)
            outcome = "ok"
            return result
        finally:
            JOB_SECONDS.labels(task, outcome).observe(time.perf_counter() - started)

    return run  # type: ignore[return-value]


def beat() -> None:
    """Record that a worker of this host and process is alive now."""
    q.job_queue().put(
        HEARTBEAT_KEY, {"at": time.time(), "host": socket.gethostname(), "pid": os.getpid()}
    )


def start_heartbeat(every: float = HEARTBEAT_EVERY) -> threading.Event:
    """Beat now and then every ``every`` seconds in a daemon thread; set the returned
    event to stop it."""
    stop = threading.Event()
    beat()

    def loop() -> None:
        while not stop.wait(every):
            try:
                beat()
            except QUEUE_ERRORS:  # a lost beat (a Redis blip) must not stop the worker
                continue

    threading.Thread(target=loop, name="worker-heartbeat", daemon=True).start()
    return stop


@dataclass(frozen=True)
class QueueState:
    """The queue as ``/healthz`` and ``/metrics`` report it."""

    depth: int
    scheduled: int
    #: Seconds since the newest worker heartbeat; None when no worker ever beat.
    heartbeat_age: float | None
    worker: str

    @property
    def worker_alive(self) -> bool:
        return self.heartbeat_age is not None and self.heartbeat_age <= HEARTBEAT_STALE


def queue_state() -> QueueState:
    """Read the queue's depth and newest heartbeat (raises the backend's errors)."""
    queue = q.job_queue()
    found = queue.get(HEARTBEAT_KEY, peek=True)
    age = None
    worker = ""
    if isinstance(found, dict):
        age = max(0.0, time.time() - float(found.get("at", 0)))
        worker = f"{found.get('host', '')}:{found.get('pid', '')}"
    return QueueState(queue.pending_count(), queue.scheduled_count(), age, worker)


class QueueCollector(Collector):
    """Queue depth and heartbeat age as gauges, read from the queue at every scrape."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            state = queue_state()
        except QUEUE_ERRORS:  # an unreachable queue is shown as no samples
            return
        yield GaugeMetricFamily(
            "gongkai_queue_depth", "Background jobs waiting for a worker.", value=state.depth
        )
        yield GaugeMetricFamily(
            "gongkai_queue_scheduled", "Background jobs scheduled for later.", value=state.scheduled
        )
        if state.heartbeat_age is not None:
            yield GaugeMetricFamily(
                "gongkai_worker_heartbeat_age_seconds",
                "Seconds since the newest background worker heartbeat.",
                value=state.heartbeat_age,
            )
