"""Sustained write throughput through HTTP: registrations and decisions per second.

    .venv/bin/python bench/bench_writes.py [--base 100k] [--clients 4] [--seconds 20]

A fresh database per dialect gets a base of bulk-generated requests (so the duplicate
check, the counters and the indexes work at a realistic size), then gunicorn (2 sync
workers, ``bench/wsgi.py``) serves it while client threads — each a case officer of a
different department, on a keep-alive connection — repeat the real forms: register
(登记), accept (受理) and decide (作出答复), each one POST committed as one transaction.
It reports actions per second, per-action p50/p95 latency and every error; afterwards
it checks in the database that each acknowledged action left exactly its event and that
the statistics fast path still agrees with the fold.
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # run as ``python bench/NAME.py``: import from the repository root
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import http.client
import itertools
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from bench.common import (
    SEED,
    bench_dir,
    dialects,
    drop_pg_database,
    label,
    percentile,
    pg_database,
    pg_version,
    postgres,
    save,
    sizes,
)
from bench.generate import generate_bulk, prepare, seeds_for
from bench.plans import BENCH_PASSWORD, province, username
from bench.server import Served, cpu_seconds, gunicorn, login, postmaster_pid
from models import Agency, Event, Request
from models.db import make_session_factory
from workflow.kernel.actor import local_today
from workflow.statistics.queries import verify
from workflow.statistics.scope import Scope

#: Departments whose officers act (one client thread each, round robin).
DEPARTMENTS = tuple(a.code for a in province() if a.code.endswith("-zrzy"))


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    created: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ok(self, action: str, seconds: float) -> None:
        with self.lock:
            self.latencies[action].append(seconds)

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)


class Client:
    """One officer's browser: a keep-alive connection and a session cookie."""

    def __init__(self, base: str, cookie: str, number: int) -> None:
        parsed = urllib.parse.urlsplit(base)
        self.conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=120)
        self.cookie = cookie
        self.number = number
        self.serial = itertools.count(1)

    def post(self, path: str, fields: dict[str, str]) -> tuple[int, str, bytes]:
        body = urllib.parse.urlencode(fields)
        headers = {"Cookie": self.cookie, "Content-Type": "application/x-www-form-urlencoded"}
        self.conn.request("POST", path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        return response.status, response.getheader("Location") or "", data

    def cycle(self, tally: Tally, today: str) -> None:
        """Register, accept and decide one request; any non-redirect answer is an error."""
        n = next(self.serial)
        intake = {
            "applicant_name": f"压测申请人{self.number:02d}-{n:06d}",
            "applicant_kind": "natural_person",
            "subject": f"第{self.number}组第{n}件：某地块征收补偿安置方案（压测）",
            "channel": "online",
            "submitted_on": today,
            "delivery_wanted": "email",
        }
        started = time.perf_counter()
        status, location, body = self.post("/requests/new", intake)
        if status != 302 or "/requests/" not in location:
            tally.error(f"register: HTTP {status} {body[:160]!r}")
            return
        tally.ok("register", time.perf_counter() - started)
        request_id = int(location.rstrip("/").rsplit("/", 1)[1])
        with tally.lock:
            tally.created.append(request_id)
        steps = (
            ("accept", {"effective_date": today, "expected_version": "1"}),
            (
                "decide",
                {
                    "effective_date": today,
                    "outcome": "disclosed",
                    "delivery": "email",
                    "expected_version": "2",
                },
            ),
        )
        for trigger, fields in steps:
            started = time.perf_counter()
            status, location, body = self.post(f"/requests/{request_id}/act/{trigger}", fields)
            if status != 302:
                tally.error(f"{trigger}: HTTP {status} {body[:160]!r}")
                return
            tally.ok(trigger, time.perf_counter() - started)


def load(
    served: Served, clients: int, seconds: float, warmup: float, postmaster: int | None
) -> tuple[Tally, float, dict[str, float]]:
    """Run the clients; the tally and CPU seconds (app, database, this client) of the
    measured window only (the warm-up is left out)."""
    base = served.base
    today = local_today(datetime.now(UTC)).isoformat()
    officers = [
        Client(
            base,
            login(base, username(DEPARTMENTS[i % len(DEPARTMENTS)], "chengban"), BENCH_PASSWORD),
            i,
        )
        for i in range(clients)
    ]
    warm = Tally()
    tally = Tally()
    phase = {"tally": warm}
    stop = threading.Event()

    def work(client: Client) -> None:
        while not stop.is_set():
            client.cycle(phase["tally"], today)

    threads = [threading.Thread(target=work, args=(c,)) for c in officers]
    for thread in threads:
        thread.start()
    time.sleep(warmup)

    def cpu() -> dict[str, float]:
        found = {"app": cpu_seconds(group=served.pid), "client": time.process_time()}
        if postmaster is not None:
            found["database"] = cpu_seconds(parent=postmaster)
        return found

    phase["tally"] = tally
    before = cpu()
    started = time.perf_counter()
    time.sleep(seconds)
    phase["tally"] = Tally()  # actions finishing after the window are not counted
    elapsed = time.perf_counter() - started
    after = cpu()
    stop.set()
    for thread in threads:
        thread.join()
    tally.errors.extend(warm.errors)
    return tally, elapsed, {k: after[k] - before[k] for k in before}


def check(url: str, created: list[int]) -> dict[str, Any]:
    """Every acknowledged request has its events; the projection agrees with the log."""
    engine = prepare(url)
    with make_session_factory(engine)() as session:
        events = Counter(
            dict(
                session.execute(
                    select(Event.request_id, func.count())
                    .where(Event.request_id.in_(created))
                    .group_by(Event.request_id)
                ).all()
            )
        )
        incomplete = sum(1 for rid in created if events[rid] not in (1, 2, 3))
        states = Counter(
            session.scalars(select(Request.state).where(Request.id.in_(created))).all()
        )
        year = local_today(datetime.now(UTC)).year
        differences = {}
        for code in DEPARTMENTS:
            agency = session.scalar(select(Agency).where(Agency.code == code))
            assert agency is not None
            found = verify(session, Scope.of(agency), [year])
            if found:
                differences[code] = len(found[year])
    engine.dispose()
    return {
        "requests_created": len(created),
        "requests_without_events": incomplete,
        "states": dict(states),
        "fast_vs_fold_differences": differences,
    }


def fresh_database(dialect: str, base: int, pg: str | None) -> str:
    name = f"gk-writes-{base}"
    if dialect == "sqlite":
        path = bench_dir() / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        assert pg is not None
        drop_pg_database(pg, name.replace("-", "_"))
        url = pg_database(pg, name.replace("-", "_"))
    engine = prepare(url)
    now = datetime.now(UTC)
    generate_bulk(engine, seeds_for(base, SEED, local_today(now)), now, workers=2)
    engine.dispose()
    return url


def run(dialect: str, base: int, pg: str | None, clients: int, seconds: float) -> dict[str, Any]:
    print(f"  {dialect}: base of {label(base)} requests …", file=sys.stderr)
    url = fresh_database(dialect, base, pg)
    found: dict[str, Any] = {"dialect": dialect, "base_requests": base, "clients": clients}
    if dialect == "postgresql":
        found["server"] = pg_version(url)
    postmaster = postmaster_pid() if dialect == "postgresql" else None
    with gunicorn(url) as served:
        tally, elapsed, cpu = load(served, clients, seconds, warmup=3, postmaster=postmaster)
    actions = sum(len(v) for v in tally.latencies.values())
    found.update(
        {
            "seconds": round(elapsed, 2),
            "actions": actions,
            "actions_per_second": round(actions / elapsed, 1),
            "requests_per_second": round(len(tally.latencies["decide"]) / elapsed, 1),
            "errors": len(tally.errors),
            "cpu_ms_per_action": {k: round(v / max(actions, 1) * 1e3, 2) for k, v in cpu.items()},
            "error_samples": tally.errors[:5],
            "latency_ms": {
                action: {
                    "n": len(values),
                    "p50": round(percentile(values, 50) * 1e3, 1),
                    "p95": round(percentile(values, 95) * 1e3, 1),
                    "max": round(max(values) * 1e3, 1),
                }
                for action, values in tally.latencies.items()
            },
            "database_check": check(url, tally.created),
        }
    )
    lat = found["latency_ms"]
    print(
        f"{dialect:10} base={label(base):>4} clients={clients} "
        f"{found['actions_per_second']:7.1f} actions/s ({found['requests_per_second']} requests/s) "
        f"errors={found['errors']} cpu ms/action {found['cpu_ms_per_action']} "
        + " ".join(f"{a} p50={v['p50']} p95={v['p95']}" for a, v in lat.items())
    )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="100k", help="requests generated before the run")
    parser.add_argument("--dialects", default="sqlite,postgresql")
    parser.add_argument("--clients", default="4", help="comma-separated client counts")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--name", default="writes")
    args = parser.parse_args()
    results = []
    with postgres() as pg:
        for dialect in dialects(args.dialects, pg):
            for clients in sizes(args.clients):
                results.append(run(dialect, sizes(args.base)[0], pg, clients, args.seconds))
    save(args.name, {"results": results})


if __name__ == "__main__":
    main()
