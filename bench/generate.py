"""Synthetic province-scale data, written two ways that must give identical databases.

    .venv/bin/python bench/generate.py --requests 100000 --database-url URL [--bulk]

* **operations** (default): every plan of ``bench/plans.py`` is replayed through
  ``workflow.requests.operations`` / ``workflow.challenges.operations`` exactly as a
  clerk's actions are —
  one ``register`` or ``fire`` per action, with the deadlines, guards, late flags and the
  ``request_facts`` projection maintained by the real code. Slow (40–100 requests a
  second on a 2-core machine) but it *is* the product.
* **bulk** (``--bulk``): the same plans are replayed in memory by the domain's
  ``workflow.ledger.memory_replay`` (the pure functions the operations call: intake and payload
  parsing, the state machine with its guards, the deadline clocks, ``facts_from_events``)
  in parallel worker processes, and written by ``workflow.store.bulk_writer`` with
  ``executemany`` (SQLite) or ``COPY`` (PostgreSQL) — the ledger import's writer too.
  ``tests/integration/test_bench_generator.py`` proves both paths produce the
  same requests, events, projection rows, challenges and statistics.

The schema is created (migrated) if needed; generation appends to whatever is there.
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # run as ``python bench/NAME.py``: import from the repository root
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import json
import multiprocessing
import time as clock
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bench.plans import (
    BENCH_PASSWORD,
    ROLE_USERS,
    ROOT,
    VIEWER,
    AgencySpec,
    Plan,
    Seed,
    plan_for,
    province,
    resolve_payload,
    skeleton,
    username,
)
from models import Agency, Challenge, Request, User
from models.db import make_engine, make_session_factory
from models.migrate import upgrade
from workflow.challenges import operations as challenge_ops
from workflow.challenges.due_dates import refresh_case_deadlines
from workflow.kernel.actor import Actor, local_today
from workflow.kernel.calendar import MemoCalendar, WorkingCalendar
from workflow.ledger.memory_replay import MemoryReplay, MemRequest
from workflow.requests import operations as ops
from workflow.store.bulk_writer import Encoded, Encoder, write_batch
from workflow.store.calendar import load_calendar

FIRST_YEAR = 2021
#: Requests per unit of work handed to a bulk worker (and per COPY batch).
CHUNK = 2000

# --------------------------------------------------------------------------- the province


@dataclass(frozen=True)
class Province:
    """The agencies and bench accounts, as plain values a worker process can receive."""

    agency_ids: dict[str, int]
    #: (agency code, ROLE_USERS key) → actor.
    actors: dict[tuple[str, str], Actor]

    def actor(self, agency: str, user: str) -> Actor:
        return self.actors[(agency, user)]


def ensure_province(session: Session, specs: Sequence[AgencySpec] | None = None) -> Province:
    """Create the province's agencies (``specs``, default ``province()``) and bench
    accounts if missing (idempotent)."""
    specs = province() if specs is None else specs
    agencies = {a.code: a for a in session.scalars(select(Agency))}
    for spec in specs:
        if spec.code not in agencies:
            parent = agencies[spec.parent] if spec.parent else None
            # A reply names the 复议机关 and court (agency settings): bench values.
            agencies[spec.code] = Agency(
                code=spec.code,
                name=spec.name,
                parent=parent,
                reconsideration_body=parent.name if parent else spec.name,  # Art. 26
                court="南昌铁路运输法院",
            )
            session.add(agencies[spec.code])
    session.flush()
    users = {u.username: u for u in session.scalars(select(User))}
    hashed: str | None = None
    wanted = [
        (username(s.code, key), s.code, roles) for s in specs for key, roles in ROLE_USERS.items()
    ]
    wanted.append((VIEWER, ROOT, ("viewer",)))
    for name, code, roles in wanted:
        if name in users:
            continue
        user = User(username=name, display_name=name, agency=agencies[code])
        if hashed is None:  # scrypt is slow on purpose: hash the shared password once
            user.set_password(BENCH_PASSWORD)
            hashed = user.password_hash
        user.password_hash = hashed
        user.set_roles(set(roles))
        session.add(user)
        users[name] = user
    session.flush()
    actors = {
        (s.code, key): Actor.of(users[username(s.code, key)]) for s in specs for key in ROLE_USERS
    }
    return Province({s.code: agencies[s.code].id for s in specs}, actors)


def seeds_for(
    n: int,
    seed: int,
    today: date,
    first_year: int = FIRST_YEAR,
    specs: Sequence[AgencySpec] | None = None,
) -> list[Seed]:
    return skeleton(n, seed, first_year, today, province() if specs is None else specs)


# --------------------------------------------------------------------------- path (a)


def replay_operations(session: Session, prov: Province, plan: Plan, now: datetime) -> Request:
    """One plan through the real write path: ``register``, then one operation per act."""
    agency = session.get(Agency, prov.agency_ids[plan.agency])
    assert agency is not None
    actor = prov.actor(plan.agency, plan.registrar)
    request = ops.register(session, actor, now, plan.intake, agency=agency)
    cases: list[Challenge] = []
    for act in plan.acts:
        raw = {"effective_date": act.on.isoformat(), **resolve_payload(act.payload, plan.agency)}
        who = prov.actor(plan.agency, act.user)
        if act.target == "request":
            ops.fire(session, request, act.trigger, who, now, raw)
        elif act.trigger == "file":
            cases.append(challenge_ops.file_challenge(session, who, now, request, raw))
        else:
            challenge_ops.fire_challenge(session, cases[act.case], act.trigger, who, now, raw)
    return request


def generate_operations(
    engine: Engine,
    plans: Iterable[Plan],
    now: datetime,
    *,
    commit_every: int = 200,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Replay ``plans`` through ``workflow.requests.operations``, committing in batches."""
    done = 0
    with make_session_factory(engine)() as session:
        prov = ensure_province(session)
        session.commit()
        for plan in plans:
            replay_operations(session, prov, plan, now)
            done += 1
            if done % commit_every == 0:
                session.commit()
                session.expunge_all()
                if progress:
                    progress(done)
        session.commit()
    return done


# --------------------------------------------------------------------------- path (b)


def memory_replay(prov: Province, now: datetime, calendar: WorkingCalendar) -> MemoryReplay:
    """The domain's in-memory replay, checking approvers against the bench accounts."""
    approvers = {
        (prov.agency_ids[code], actor.username)
        for (code, _key), actor in prov.actors.items()
        if "approver" in actor.roles
    }
    return MemoryReplay(now, calendar, approvers=approvers)


def replay_memory(replay: MemoryReplay, prov: Province, plan: Plan) -> MemRequest:
    """One plan through the in-memory replay, act for act as :func:`replay_operations`."""
    mem = replay.register(
        prov.actor(plan.agency, plan.registrar), prov.agency_ids[plan.agency], plan.intake
    )
    for act in plan.acts:
        raw = {"effective_date": act.on.isoformat(), **resolve_payload(act.payload, plan.agency)}
        who = prov.actor(plan.agency, act.user)
        if act.target == "request":
            replay.fire(mem, act.trigger, who, raw)
        elif act.trigger == "file":
            replay.file(mem, who, raw)
        else:
            replay.fire_case(mem, mem.cases[act.case], act.trigger, who, raw)
    return replay.finish(mem)


# -- worker processes: plans are rebuilt from their seeds, replayed in memory and encoded
#    as database values; the writer fills in the keys.


_WORKER: dict[str, Any] = {}


def _init_worker(prov: Province, now: datetime, dialect: str) -> None:
    calendar = MemoCalendar()
    _WORKER["prov"] = prov
    _WORKER["replay"] = memory_replay(prov, now, calendar)
    _WORKER["encoder"] = Encoder(dialect, now)
    _WORKER["calendar"] = calendar


def _replay_chunk(seeds: Sequence[Seed]) -> list[Encoded]:
    prov: Province = _WORKER["prov"]
    replay: MemoryReplay = _WORKER["replay"]
    encoder: Encoder = _WORKER["encoder"]
    calendar: WorkingCalendar = _WORKER["calendar"]
    return [
        encoder.encode(replay_memory(replay, prov, plan_for(s, calendar, replay.today)))
        for s in seeds
    ]


def generate_bulk(
    engine: Engine,
    seeds: Sequence[Seed],
    now: datetime,
    *,
    workers: int = 2,
    plans: Sequence[Plan] | None = None,
    progress: Callable[[int], None] | None = None,
    specs: Sequence[AgencySpec] | None = None,
) -> int:
    """Replay ``seeds`` (or explicit ``plans``) in memory and bulk-insert the rows.

    ``workers`` > 1 replays chunks in that many processes (the order of the output, hence
    every id and tracking number, does not depend on it).
    """
    with make_session_factory(engine)() as session:
        prov = ensure_province(session, specs)
        session.commit()
    done = 0
    dialect = engine.dialect.name
    for replayed in _replayed(prov, now, dialect, seeds, plans, workers):
        with engine.begin() as conn:
            write_batch(conn, replayed)
        done += len(replayed)
        if progress:
            progress(done)
    return done


def _replayed(
    prov: Province,
    now: datetime,
    dialect: str,
    seeds: Sequence[Seed],
    plans: Sequence[Plan] | None,
    workers: int,
) -> Iterator[list[Encoded]]:
    if plans is not None:
        replay = memory_replay(prov, now, MemoCalendar())
        encoder = Encoder(dialect, now)
        for start in range(0, len(plans), CHUNK):
            batch = plans[start : start + CHUNK]
            yield [encoder.encode(replay_memory(replay, prov, p)) for p in batch]
        return
    chunks = [seeds[i : i + CHUNK] for i in range(0, len(seeds), CHUNK)]
    if workers <= 1:
        _init_worker(prov, now, dialect)
        for chunk in chunks:
            yield _replay_chunk(chunk)
        return
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=_init_worker, initargs=(prov, now, dialect)) as pool:
        yield from pool.imap(_replay_chunk, chunks)


# --------------------------------------------------------------------------- CLI


def prepare(url: str) -> Engine:
    """An engine on ``url`` with the schema migrated to the latest revision, and what
    ``init`` fills after migrating that a kept data set needs (the cases' stored
    deadlines of migration 0027)."""
    engine = make_engine(url)
    upgrade(engine)
    with make_session_factory(engine)() as session:
        refresh_case_deadlines(session, load_calendar(session))
        session.commit()
    return engine


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--bulk", action="store_true", help="in-memory replay + COPY/executemany")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--first-year", type=int, default=FIRST_YEAR)
    parser.add_argument("--now", help="ISO timestamp (UTC) used as 'now' (default: the clock)")
    parser.add_argument("--workers", type=int, default=2, help="bulk replay processes")
    args = parser.parse_args(argv)
    now = datetime.fromisoformat(args.now).replace(tzinfo=UTC) if args.now else datetime.now(UTC)
    engine = prepare(args.database_url)
    seeds = seeds_for(args.requests, args.seed, local_today(now), args.first_year)
    started = clock.perf_counter()

    def progress(done: int) -> None:
        rate = done / max(clock.perf_counter() - started, 1e-9)
        print(f"\r{done}/{args.requests} requests ({rate:,.0f}/s)", end="", file=sys.stderr)

    if args.bulk:
        generate_bulk(engine, seeds, now, workers=args.workers, progress=progress)
    else:
        calendar = WorkingCalendar()
        today = local_today(now)
        plans = (plan_for(s, calendar, today) for s in seeds)
        generate_operations(engine, plans, now, progress=progress)
    elapsed = clock.perf_counter() - started
    print(file=sys.stderr)
    print(
        json.dumps(
            {
                "requests": args.requests,
                "path": "bulk" if args.bulk else "operations",
                "dialect": engine.dialect.name,
                "seconds": round(elapsed, 2),
                "requests_per_second": round(args.requests / elapsed, 1),
            }
        )
    )
    engine.dispose()


if __name__ == "__main__":
    main()
