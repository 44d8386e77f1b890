"""``backup`` and ``restore`` as an operator runs them: a restored copy counts the same.

The SQLite variant always runs (on its own files); the PostgreSQL variant needs the
server of ``make test`` (``GONGKAI_TEST_DATABASE_URL``) and the ``pg_dump`` /
``pg_restore`` client tools.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from models import Agency
from models.db import make_engine, make_session_factory
from models.migrate import upgrade
from tests.conftest import PG_URL
from tests.integration.test_cli import cli
from workflow.admin.demo import AGENCY_CODE, load
from workflow.admin.log_check import verify_log
from workflow.statistics.queries import derive
from workflow.statistics.scope import Scope

THIS_YEAR = datetime.now(UTC).year


def load_demo(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    with make_session_factory(engine)() as session:
        load(session)
        session.commit()
    engine.dispose()


def statistics(url: str) -> dict[int, Any]:
    """Tables 三 and 四 of the demo agency for 2019 and this year, plus the log check."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            agency = session.scalars(select(Agency).where(Agency.code == AGENCY_CODE)).one()
            assert verify_log(session) == []
            found = {}
            for year in (2019, THIS_YEAR):
                result = derive(session, Scope.of(agency), year)
                found[year] = (result.table3, result.table4)
            return found
    finally:
        engine.dispose()


def scratch_data(url: str) -> None:
    """Something in the target that the restore must replace."""
    engine = make_engine(url)
    upgrade(engine)
    with make_session_factory(engine)() as session:
        session.add(Agency(code="scratch", name="临时数据"))
        session.commit()
    engine.dispose()


def agency_codes(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return set(conn.scalars(text("SELECT code FROM agencies")))
    finally:
        engine.dispose()


def test_sqlite_backup_and_restore(tmp_path: Path) -> None:
    source = f"sqlite:///{tmp_path / 'live.db'}"
    load_demo(source)
    expected = statistics(source)
    assert expected[2019][0]["new_received"]["total"] > 0

    dump = tmp_path / "backup.db"
    made = cli(source, "backup", str(dump))
    assert made.returncode == 0, made.stderr
    assert "已备份到" in made.stdout
    assert not list(tmp_path.glob(".*partial*"))
    again = cli(source, "backup", str(dump))
    assert again.returncode != 0 and "文件已存在" in again.stderr

    target = f"sqlite:///{tmp_path / 'target.db'}"
    scratch_data(target)
    unconfirmed = cli(target, "restore", str(dump))
    assert unconfirmed.returncode != 0
    assert agency_codes(target) == {"scratch"}  # nothing happened without confirmation

    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database" * 100)
    refused = cli(target, "restore", str(junk), "--yes")
    assert refused.returncode != 0 and "不是有效的 Gongkai 数据库" in refused.stderr
    assert agency_codes(target) == {"scratch"}

    restored = cli(target, "restore", str(dump), "--yes")
    assert restored.returncode == 0, restored.stderr
    assert "已从" in restored.stdout
    assert "scratch" not in agency_codes(target)
    assert statistics(target) == expected
    check = cli(target, "verify-log")
    assert check.returncode == 0 and "事件日志完整" in check.stdout


def test_backup_of_a_missing_database_is_refused(tmp_path: Path) -> None:
    done = cli(f"sqlite:///{tmp_path / 'absent.db'}", "backup", str(tmp_path / "b.db"))
    assert done.returncode != 0 and "数据库文件不存在" in done.stderr
    assert not (tmp_path / "b.db").exists()


@pytest.mark.postgres
@pytest.mark.demo
@pytest.mark.skipif(not PG_URL, reason="needs GONGKAI_TEST_DATABASE_URL (make test starts it)")
@pytest.mark.skipif(
    not (shutil.which("pg_dump") and shutil.which("pg_restore")),
    reason="needs the PostgreSQL client tools pg_dump and pg_restore",
)
def test_postgres_backup_and_restore(db_url: str, tmp_path: Path) -> None:
    expected = statistics(db_url)
    dump = tmp_path / "backup.dump"
    made = cli(db_url, "backup", str(dump))
    assert made.returncode == 0, made.stderr

    target_name = make_url(db_url).database + "_restore"
    target = make_url(db_url).set(database=target_name).render_as_string(hide_password=False)
    admin = make_engine(db_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target_name}"'))
        conn.execute(text(f'CREATE DATABASE "{target_name}"'))
    try:
        scratch_data(target)
        restored = cli(target, "restore", str(dump), "--yes")
        assert restored.returncode == 0, restored.stderr
        assert "scratch" not in agency_codes(target)
        assert statistics(target) == expected
        check = cli(target, "verify-log")
        assert check.returncode == 0, check.stdout
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{target_name}" WITH (FORCE)'))
        admin.dispose()
