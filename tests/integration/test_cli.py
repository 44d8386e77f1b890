"""``python app.py …`` as an operator runs it, on a real database.

Most tests run the commands in this process through click's test runner (``cli``): the
same command objects, arguments, environment variables and exit codes, without starting
an interpreter and importing the whole application for every call. ``entry_point`` runs
the real ``python app.py`` process, for what only a process shows: the entry point
itself, its exit status, and output that must not depend on the process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

import commands

ROOT = Path(__file__).parents[2]


@dataclass(frozen=True)
class Ran:
    """What a command left behind, with the names of ``subprocess.CompletedProcess``."""

    returncode: int
    stdout: str
    stderr: str


def cli(db_url: str, *args: str, password: str | None = None) -> Ran:
    """Run ``python app.py ARGS`` in-process with ``DATABASE_URL`` (and ``GONGKAI_PASSWORD``).

    An exception other than click's own exits fails the test where it happens: a real
    process would have printed a traceback, which no operator should ever see.
    """
    result = CliRunner().invoke(
        commands.cli,
        list(args),
        env={"DATABASE_URL": db_url, "GONGKAI_PASSWORD": password},
        prog_name="python app.py",
        catch_exceptions=False,
    )
    return Ran(result.exit_code, result.stdout, result.stderr)


def entry_point(
    db_url: str, *args: str, password: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real ``python app.py ARGS`` process (no stdin, as from a script)."""
    env = {**os.environ, "DATABASE_URL": db_url}
    env.pop("GONGKAI_PASSWORD", None)
    if password is not None:
        env["GONGKAI_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "app.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_init_is_idempotent(db_url: str) -> None:
    """End to end: the real entry point, twice, on the same database."""
    for _ in range(2):
        done = entry_point(db_url, "init")
        assert done.returncode == 0, done.stderr
        assert "数据库已就绪" in done.stdout


def test_create_agency_and_user(db_url: str) -> None:
    assert cli(db_url, "create-agency", "county", "某县人民政府").returncode == 0
    child = cli(db_url, "create-agency", "county-edu", "某县教育局", "--parent", "county")
    assert child.returncode == 0, child.stderr
    bad = cli(db_url, "create-agency", "Bad Code", "x")
    assert bad.returncode != 0 and "小写字母" in bad.stderr
    dup = cli(db_url, "create-agency", "county", "again")
    assert dup.returncode != 0 and "已存在" in dup.stderr
    made = cli(
        db_url,
        "create-user",
        "clerk1",
        "--agency",
        "county-edu",
        "--role",
        "registrar",
        "--role",
        "handler",
        password="long-enough-pw",
    )
    assert made.returncode == 0, made.stderr
    weak = cli(
        db_url, "create-user", "clerk2", "--agency", "county", "--role", "viewer", password="short"
    )
    assert weak.returncode != 0 and "至少" in weak.stderr
    nowhere = cli(
        db_url,
        "create-user",
        "clerk3",
        "--agency",
        "nope",
        "--role",
        "viewer",
        password="long-enough-pw",
    )
    assert nowhere.returncode != 0 and "不存在" in nowhere.stderr
    bad_role = cli(
        db_url,
        "create-user",
        "clerk4",
        "--agency",
        "county",
        "--role",
        "boss",
        password="long-enough-pw",
    )
    assert bad_role.returncode != 0


def test_demo_loads_once_and_prints_logins(db_url: str) -> None:
    first = cli(db_url, "demo")
    assert first.returncode == 0, first.stderr
    assert "2019年参考数据 10 件" in first.stdout and "dengji" in first.stdout
    second = cli(db_url, "demo")
    assert second.returncode == 0 and "已存在" in second.stdout
