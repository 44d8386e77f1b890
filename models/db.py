"""Engine and session factory, shared by the web app, the CLI and the tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

import settings

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = f"sqlite:///{ROOT / 'instance' / 'gongkai.db'}"


def database_url() -> str:
    """``DATABASE_URL`` selects the database; the default is an SQLite file under instance/."""
    url = settings.database_url() or DEFAULT_URL
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


#: How long a page waits for a row another transaction holds (PostgreSQL) before it is
#: told to try again, well inside gunicorn's 30-second worker timeout: a long import
#: holding its agency-year counter row must cost a clerk a message, not a dead worker.
WEB_LOCK_TIMEOUT_MS = 5000


def make_engine(url: str | None = None, *, lock_timeout_ms: int | None = None) -> Engine:
    """The engine for ``url``; ``lock_timeout_ms`` bounds lock waits on PostgreSQL (the web)."""
    url = url or database_url()
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        create_private(Path(url.removeprefix("sqlite:///").split("?", 1)[0]))
    engine = create_engine(url, future=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    elif lock_timeout_ms is not None and engine.dialect.name == "postgresql":
        statement = f"SET lock_timeout = {int(lock_timeout_ms)}"

        def _lock_timeout(dbapi_conn: Any, _record: object) -> None:
            with dbapi_conn.cursor() as cur:
                cur.execute(statement)
            dbapi_conn.commit()

        event.listen(engine, "connect", _lock_timeout)
    return engine


def create_private(path: Path) -> None:
    """Create ``path`` (and its folder) readable by its owner only, if it does not exist.

    The database and its backups hold applicants' personal data: mode 0600, never the
    umask's usual 0644. SQLite gives its -wal and -shm files the database file's mode.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.touch(mode=0o600)
        path.chmod(0o600)  # touch's mode is filtered by the umask


def _sqlite_pragmas(dbapi_conn: Any, _record: object) -> None:
    """Foreign keys on, WAL for concurrent readers, wait instead of failing when busy."""
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={settings.sqlite_busy_ms()}")
    cur.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
