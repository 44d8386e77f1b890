"""One database session per unit of work (a command, a job), committed once on success."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from models.db import make_engine, make_session_factory
from models.migrate import upgrade


@contextmanager
def unit_of_work(migrate: bool = True) -> Iterator[Session]:
    engine = make_engine()
    if migrate:
        upgrade(engine)
    session = make_session_factory(engine)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        engine.dispose()
