"""Shared sliding-window counters: login throttling and every rate limit, in one place.

Counts that a worker kept in its own memory were multiplied by the number of workers
and forgotten at each restart (the security review's V6). Here every hit is stored
where all workers and machines see it: in the database (``models.RateHit``), or in Redis
when ``GONGKAI_REDIS_URL`` is set (a sorted set per key). Both backends answer the same
question, "when were the hits of this key in the last ``window`` seconds?", so the
policies built on top (``workflow.admin.login_policy``, the portal's and the API's limits)
need not know which one runs.

A key is stored only as the SHA-256 of its scope and text: a 450 KB username costs 64
characters, and the stored keys reveal no username or address. The hits of one key are
capped at ``MAX_HITS`` (the newest kept), so no key grows without bound either.

The database backend writes in its own short transaction on the engine, never in the
caller's: a refused form that is rolled back must still count, and a count must not
hold a lock while the page goes on working.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from typing import Protocol

from sqlalchemy import Engine, delete, insert, select

from models import RateHit

#: More hits than any limit asks about are of no use; older ones are dropped.
MAX_HITS = 100


def hashed_key(scope: str, key: str) -> str:
    """The stored form of a key: hex SHA-256 of the scope and the text (64 characters)."""
    return hashlib.sha256(f"{scope}\x00{key}".encode("utf-8", "surrogatepass")).hexdigest()


class Backend(Protocol):
    def recent(self, key: str, since: float) -> list[float]:
        """Times (epoch seconds, oldest first) of the key's hits after ``since``."""
        ...

    def add(self, key: str, at: float, window: float) -> None:
        """Record one hit at ``at``, forgetting the key's hits older than ``window``."""
        ...

    def clear(self, key: str) -> None:
        """Forget every hit of the key (a successful login clears its failures)."""
        ...


class DatabaseBackend:
    """Hits as rows of ``rate_hits`` in the shared database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def recent(self, key: str, since: float) -> list[float]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(RateHit.at)
                .where(RateHit.key == key, RateHit.at > since)
                .order_by(RateHit.at.desc())
                .limit(MAX_HITS)
            )
            return sorted(float(at) for (at,) in rows)

    def add(self, key: str, at: float, window: float) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(RateHit).where(RateHit.key == key, RateHit.at <= at - window))
            conn.execute(insert(RateHit).values(key=key, at=at))
            kept = conn.execute(
                select(RateHit.id)
                .where(RateHit.key == key)
                .order_by(RateHit.at.desc(), RateHit.id.desc())
                .offset(MAX_HITS)
                .limit(1)
            ).scalar()
            if kept is not None:
                conn.execute(delete(RateHit).where(RateHit.key == key, RateHit.id <= kept))

    def clear(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(RateHit).where(RateHit.key == key))


class RedisBackend:
    """Hits as members of one sorted set per key, expiring with their window."""

    def __init__(self, url: str, namespace: str = "gongkai:rate:") -> None:
        import redis

        self.client = redis.Redis.from_url(url)
        self.namespace = namespace

    def _name(self, key: str) -> str:
        return self.namespace + key

    def recent(self, key: str, since: float) -> list[float]:
        found = self.client.zrangebyscore(self._name(key), f"({since}", "+inf", withscores=True)
        return [float(score) for _member, score in found][-MAX_HITS:]

    def add(self, key: str, at: float, window: float) -> None:
        name = self._name(key)
        pipe = self.client.pipeline()
        pipe.zremrangebyscore(name, "-inf", at - window)
        pipe.zadd(name, {f"{at:.6f}:{secrets.token_hex(4)}": at})
        pipe.zremrangebyrank(name, 0, -MAX_HITS - 1)
        pipe.expire(name, max(1, int(window) + 1))
        pipe.execute()

    def clear(self, key: str) -> None:
        self.client.delete(self._name(key))


class SharedCounters:
    """Sliding windows over a backend; ``clock`` (epoch seconds) is injectable for tests."""

    def __init__(self, backend: Backend, clock: Callable[[], float] = time.time) -> None:
        self.backend = backend
        self.clock = clock

    def recent(self, scope: str, key: str, window: float) -> list[float]:
        """Times of the key's hits within the last ``window`` seconds, oldest first."""
        return self.backend.recent(hashed_key(scope, key), self.clock() - window)

    def hit(self, scope: str, key: str, window: float) -> None:
        self.backend.add(hashed_key(scope, key), self.clock(), window)

    def clear(self, scope: str, key: str) -> None:
        self.backend.clear(hashed_key(scope, key))

    def wait(self, scope: str, key: str, limit: int, window: float) -> float:
        """Seconds until the key may be hit again under "``limit`` per ``window``"; 0 = now."""
        times = self.recent(scope, key, window)
        if len(times) < limit:
            return 0.0
        return max(0.0, times[-limit] + window - self.clock())


# --------------------------------------------------------------------------- login


class LoginLimits:
    """The three login limits (docs/domain.md §13 §Throttling).

    * per (account, address): ``pair_failures`` failures in the window lock that pair
      until the oldest leaves it: one guesser from one place;
    * per address: ``address_failures`` failures for any accounts lock the address: one
      guesser trying many accounts;
    * per account from anywhere: beyond ``account_free`` failures, each new attempt must
      wait a delay that doubles with every failure up to ``max_delay``. A delay, not a
      lock, so that nobody can keep a clerk out by failing on purpose from many places:
      the clerk waits at most ``max_delay`` seconds, a distributed guesser gets at most
      one try per ``max_delay``.
    """

    PAIR, ACCOUNT, ADDRESS = "login-pair", "login-account", "login-address"

    def __init__(
        self,
        counters: SharedCounters,
        *,
        pair_failures: int = 5,
        address_failures: int = 30,
        account_free: int = 10,
        max_delay: float = 60.0,
        window: float = 15 * 60,
    ) -> None:
        self.counters = counters
        self.pair_failures = pair_failures
        self.address_failures = address_failures
        self.account_free = account_free
        self.max_delay = max_delay
        self.window = window

    @staticmethod
    def _account(username: str) -> str:
        return username.strip().lower()

    def _pair(self, username: str, address: str) -> str:
        return f"{self._account(username)}\x00{address}"

    def account_delay(self, failures: int) -> float:
        """Seconds to wait after the latest failure, given the account's failure count."""
        if failures <= self.account_free:
            return 0.0
        return float(min(self.max_delay, 2 ** min(failures - self.account_free, 16)))

    def wait(self, username: str, address: str) -> float:
        """Seconds before this username may try from this address; 0 when it may now."""
        c = self.counters
        waits = [
            c.wait(self.PAIR, self._pair(username, address), self.pair_failures, self.window),
            c.wait(self.ADDRESS, address, self.address_failures, self.window),
        ]
        failures = c.recent(self.ACCOUNT, self._account(username), self.window)
        if failures:
            delay = self.account_delay(len(failures))
            waits.append(failures[-1] + delay - c.clock())
        return max(0.0, *waits)

    def failed(self, username: str, address: str) -> None:
        c = self.counters
        c.hit(self.PAIR, self._pair(username, address), self.window)
        c.hit(self.ADDRESS, address, self.window)
        c.hit(self.ACCOUNT, self._account(username), self.window)

    def succeeded(self, username: str, address: str) -> None:
        """The right password from here: this pair's failures are forgotten (the account's
        delay and the address's count run out with their window)."""
        self.counters.clear(self.PAIR, self._pair(username, address))
