"""The job queue and the job records the pages show (progress, errors, result).

A job record lives in the queue's own key-value storage (``huey.put``), not in the
application database: a ledger import holds the database's write lock (SQLite) for its
whole transaction, and its progress must still be readable and writable meanwhile. The
record says who started the job and for which agency, so the pages can check access.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from huey import Huey, RedisHuey, SqliteHuey

import settings
from models.db import ROOT

#: A running job whose worker has not reported for this long is shown as failed (its
#: worker died; its transaction was rolled back with it, so nothing was stored).
STALE_AFTER = 60.0


def instance_dir() -> Path:
    path = Path(settings.instance_dir() or ROOT / "instance")
    path.mkdir(parents=True, exist_ok=True)
    return path


#: Who binds tasks to a new queue: ``jobs.tasks`` adds itself when imported (every caller
#: that enqueues, and the worker, imports it), so this module needs no import of it.
REGISTRARS: list[Callable[[Huey], None]] = []


@cache
def _queue(redis_url: str, path: str) -> Huey:
    if redis_url:
        queue: Huey = RedisHuey("gongkai", url=redis_url)
    else:
        queue = SqliteHuey("gongkai", filename=path)
    for register in REGISTRARS:
        register(queue)
    return queue


def job_queue() -> Huey:
    """The queue this process uses: Redis if ``GONGKAI_REDIS_URL`` is set, else SQLite."""
    redis_url = settings.redis_url()
    path = "" if redis_url else str(instance_dir() / "jobs.db")
    return _queue(redis_url, path)


def enqueue(name: str, *args: Any) -> None:
    job_queue().gongkai_tasks[name](*args)  # type: ignore[attr-defined]


@dataclass
class JobRecord:
    """What a job page shows; ``state``: queued, running, done, refused, failed, cancelled."""

    id: str
    kind: str
    title: str
    user_id: int | None
    agency_id: int | None
    state: str = "queued"
    created: float = field(default_factory=time.time)
    started: float | None = None
    heartbeat: float | None = None
    finished: float | None = None
    done: int = 0
    total: int = 0
    message: str = ""
    errors: list[str] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def effective_state(self) -> str:
        """``failed`` for a running job whose worker stopped reporting (it died)."""
        beat = self.heartbeat
        if self.state in ("queued", "running") and beat and time.time() - beat > STALE_AFTER:
            return "failed"
        return self.state

    @property
    def finished_state(self) -> bool:
        return self.effective_state not in ("queued", "running")

    @property
    def rate(self) -> float | None:
        if not self.started or not self.done or not self.heartbeat:
            return None
        elapsed = self.heartbeat - self.started
        return self.done / elapsed if elapsed > 0 else None

    @property
    def remaining_seconds(self) -> float | None:
        rate = self.rate
        if rate is None or not self.total:
            return None
        return max(self.total - self.done, 0) / rate


def new_job_id() -> str:
    return uuid.uuid4().hex


def save(record: JobRecord) -> None:
    job_queue().put(f"job:{record.id}", asdict(record))


def load(job_id: str) -> JobRecord | None:
    data = job_queue().get(f"job:{job_id}", peek=True)
    return JobRecord(**data) if isinstance(data, dict) else None


def update(job_id: str, **changes: Any) -> JobRecord | None:
    record = load(job_id)
    if record is None:
        return None
    for key, value in changes.items():
        setattr(record, key, value)
    save(record)
    return record


def request_cancel(job_id: str) -> None:
    job_queue().put(f"cancel:{job_id}", True)


def cancel_requested(job_id: str) -> bool:
    return bool(job_queue().get(f"cancel:{job_id}", peek=True))


def heartbeat(job_id: str, every: float = 1.0) -> Callable[[int, int], None]:
    """A progress callback recording rows done at most every ``every`` seconds, which
    stops the job (``JobCancelled``) once a cancel was asked for."""
    last = 0.0

    def report(done: int, total: int) -> None:
        nonlocal last
        now = time.time()
        if now - last < every and done != total:
            return
        last = now
        if cancel_requested(job_id):
            raise JobCancelled
        update(job_id, done=done, total=total, heartbeat=now)

    return report


class JobCancelled(Exception):
    """Raised inside a job whose cancellation was asked for: its transaction rolls back."""
