"""Template databases: built once per pytest process, copied for every test.

Migrating costs a fraction of a second, but replaying the demo (≈160 requests through the
workflow) costs seconds, more on PostgreSQL. So each pytest process — each xdist worker
is one — builds an "empty" template (migrated) and, only when a test asks for it, a
"demo" template (migrated + demo data), and every test gets a pristine copy that it may
change at will:

- SQLite: a template is a file under the session's temporary directory; a copy is a
  file copy (the template's engine is disposed first, so the WAL is checkpointed in).
- PostgreSQL (``GONGKAI_TEST_DATABASE_URL``): a template is a database on that server
  named after the worker (``gongkai_test_gw0_demo`` …); a copy is ``CREATE DATABASE …
  TEMPLATE …``, a file-level copy of about 0.1 s. The workers never share a database;
  the database in the URL is only the one connected to for creating and dropping.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from models.db import make_engine


def worker_name() -> str:
    """``gw0``, ``gw1`` … under pytest-xdist, ``main`` without it."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


class Templates:
    """The templates of this pytest process and the copies made from them."""

    def __init__(self, root: Path, pg_url: str | None) -> None:
        self.root = root
        self.pg_url = pg_url
        self.built: set[str] = set()
        self.copies: set[str] = set()
        if pg_url:
            base = make_url(pg_url)
            self.prefix = f"{base.database}_{worker_name()}"
            self._admin = make_engine(pg_url).execution_options(isolation_level="AUTOCOMMIT")

    def build(self, kind: str, fill: Callable[[Engine], None], start: str | None = None) -> None:
        """Create template ``kind``: a copy of template ``start`` (or empty), then ``fill``."""
        url = self.copy(start, kind, self.root) if start else self._blank(kind)
        self.copies.discard(kind)
        engine = make_engine(url)
        try:
            fill(engine)
        finally:
            engine.dispose()
        self.built.add(kind)

    def copy(self, kind: str, name: str, where: Path) -> str:
        """A fresh copy of template ``kind`` called ``name``, replacing an older one: its URL.

        On SQLite the copy is the file ``where/<name>.db``; on PostgreSQL ``where`` is unused.
        """
        assert kind in self.built, f"template {kind!r} was never built"
        self.copies.add(name)
        if not self.pg_url:
            target = where / f"{name}.db"
            shutil.copyfile(self._file(kind), target)
            return f"sqlite:///{target}"
        self._sql(f'DROP DATABASE IF EXISTS "{self._db(name)}" WITH (FORCE)')
        self._sql(f'CREATE DATABASE "{self._db(name)}" TEMPLATE "{self._db(kind)}"')
        return self._url(name)

    def drop_all(self) -> None:
        """Remove this process's PostgreSQL databases (SQLite files go with the tmp dir)."""
        if not self.pg_url:
            return
        for name in self.copies | self.built:
            self._sql(f'DROP DATABASE IF EXISTS "{self._db(name)}" WITH (FORCE)')
        self._admin.dispose()

    def _blank(self, kind: str) -> str:
        if not self.pg_url:
            return f"sqlite:///{self._file(kind)}"
        self._sql(f'DROP DATABASE IF EXISTS "{self._db(kind)}" WITH (FORCE)')
        self._sql(f'CREATE DATABASE "{self._db(kind)}"')
        return self._url(kind)

    def _file(self, kind: str) -> Path:
        return self.root / f"{kind}.db"

    def _db(self, name: str) -> str:
        return f"{self.prefix}_{name}"

    def _url(self, name: str) -> str:
        assert self.pg_url
        url = make_url(self.pg_url).set(database=self._db(name))
        return url.render_as_string(hide_password=False)

    def _sql(self, statement: str) -> None:
        with self._admin.connect() as conn:
            conn.execute(text(statement))
