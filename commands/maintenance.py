"""Operating the database: ``verify-log``, ``backup`` and ``restore``.

``verify-log`` is meant for cron: silent success is one line and exit 0, any problem is
one line each on stdout and a non-zero exit, so a mail from cron means work to do.

Backups are consistent snapshots taken while the application runs. SQLite uses the
online backup API (``sqlite3.Connection.backup``), which copies a consistent image even
while clerks write, unlike copying the file (which can catch a half-written page or miss
the WAL). PostgreSQL uses ``pg_dump --format=custom``, one consistent transaction. The
password of a PostgreSQL URL is passed in ``PGPASSWORD``, never on the command line
(where ``ps`` would show it). A backup is written next to its target under a temporary
name and renamed when complete, so a file with the backup's name is never half a backup.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import click
from sqlalchemy.engine import URL, make_url

from models.db import create_private, database_url, make_engine
from models.db_roles import BadRoleName, grant_app_role
from models.file_store import (
    LocalFileStore,
    StoredFileDamaged,
    StoredFileMissing,
    open_file_store,
)
from models.unit_of_work import unit_of_work
from workflow.admin.log_check import verify_log
from workflow.attachments.operations import referenced_hashes

CLEAN = "事件日志完整"


@click.command("verify-log")
def verify_log_command() -> None:
    """核对事件日志：序号连续、状态衔接、操作合法、日期合理、缓存状态一致；有问题时返回非零。"""
    with unit_of_work(migrate=False) as session:
        problems = verify_log(session)
    for problem in problems:
        click.echo(str(problem))
    if problems:
        raise click.ClickException(f"事件日志发现 {len(problems)} 处问题")
    click.echo(CLEAN)


def _url() -> URL:
    return make_url(database_url())


def _sqlite_file(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise click.ClickException("内存数据库无法备份或恢复")
    return Path(url.database)


def _pg_args(url: URL) -> tuple[list[str], dict[str, str]]:
    """Connection options for pg_dump / pg_restore, and the environment carrying the password."""
    args = []
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    sslmode = url.query.get("sslmode")
    if isinstance(sslmode, str):
        env["PGSSLMODE"] = sslmode
    return args, env


def _run_pg(tool: str, args: list[str], env: dict[str, str]) -> None:
    binary = shutil.which(tool)
    if binary is None:
        raise click.ClickException(f"未找到 {tool}，请安装 PostgreSQL 客户端（postgresql-client）")
    done = subprocess.run(
        [binary, *args], env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip()
        raise click.ClickException(f"{tool} 执行失败（退出码 {done.returncode}）：{detail}")


def _partial(path: Path) -> Path:
    return path.with_name(f".{path.name}.partial")


@click.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup(path: Path) -> None:
    """备份数据库到 PATH（SQLite：在线备份；PostgreSQL：pg_dump 自定义格式）；不覆盖已有文件。"""
    if path.exists():
        raise click.ClickException(f"文件已存在：{path}（为避免覆盖旧备份，请换一个文件名）")
    if not path.parent.is_dir():
        raise click.ClickException(f"目录不存在：{path.parent}")
    url = _url()
    partial = _partial(path)
    create_private(partial)  # mode 0600 before a byte of personal data is written
    try:
        if url.get_backend_name() == "sqlite":
            _sqlite_backup(_sqlite_file(url), partial)
        elif url.get_backend_name() == "postgresql":
            args, env = _pg_args(url)
            _run_pg(
                "pg_dump",
                [*args, "--format=custom", "--file", str(partial), "--dbname", str(url.database)],
                env,
            )
        else:
            raise click.ClickException(f"不支持备份 {url.get_backend_name()} 数据库")
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    size = path.stat().st_size
    click.echo(f"已备份到 {path}（{size / 1024:.0f} KB）")
    _backup_files(files_beside(path))


def files_beside(path: Path) -> Path:
    """The folder holding a backup's files: ``backup.db`` → ``backup.db.files/``."""
    return path.with_name(path.name + ".files")


def _backup_files(folder: Path) -> None:
    """Copy every file the database names (attachments, and the copies of issued notices
    the file store holds) from the configured store into ``folder``, a local store of the
    same layout.

    Taken after the database, so every file a row of the backup names was stored before
    it (files are put before their row): the backup is complete. A named file the store
    does not hold is reported, and the exit status says so.
    """
    with unit_of_work(migrate=False) as session:
        attached, notices = referenced_hashes(session)
    source = open_file_store()
    target = LocalFileStore(folder)
    copied, missing = 0, []
    for sha256 in sorted(attached | notices):
        if not source.has(sha256):
            if sha256 in attached:  # a notice's original is in the database anyway
                missing.append(sha256)
            continue
        if not target.has(sha256):
            target.put(source.get(sha256))
        copied += 1
    click.echo(f"已备份文件 {copied} 个到 {folder}")
    if missing:
        raise click.ClickException(
            f"文件存储中缺少 {len(missing)} 个数据库记载的文件（如 {missing[0][:12]}…），"
            "数据库已备份，但这些文件不在备份中"
        )


def _sqlite_backup(source: Path, target: Path) -> None:
    if not source.is_file():
        raise click.ClickException(f"数据库文件不存在：{source}")
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.execute("PRAGMA busy_timeout=10000")
        src.backup(dst)
        # A backup file in WAL mode would need its -wal beside it; make it self-contained.
        dst.execute("PRAGMA journal_mode=DELETE")
        _check_sqlite(dst, target)
    finally:
        dst.close()
        src.close()


def _check_sqlite(conn: sqlite3.Connection, path: Path) -> str:
    """The schema revision of a Gongkai SQLite database, after an integrity check."""
    try:
        (status,) = conn.execute("PRAGMA quick_check").fetchone()
        revisions = [r for (r,) in conn.execute("SELECT version_num FROM alembic_version")]
    except sqlite3.DatabaseError as exc:
        raise click.ClickException(f"{path} 不是有效的 Gongkai 数据库：{exc}") from exc
    if status != "ok":
        raise click.ClickException(f"{path} 校验失败：{status}")
    return "、".join(sorted(revisions))


@click.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="不再确认（用于脚本）")
def restore(path: Path, yes: bool) -> None:
    """用备份文件 PATH 覆盖当前数据库（DATABASE_URL 所指）；当前数据将被替换。"""
    url = _url()
    where = url.render_as_string(hide_password=True)
    if not yes:
        click.confirm(
            f"将用 {path} 覆盖数据库 {where}，当前数据将全部被替换。确定继续吗？", abort=True
        )
    if url.get_backend_name() == "sqlite":
        revision = _sqlite_restore(path, _sqlite_file(url))
    elif url.get_backend_name() == "postgresql":
        args, env = _pg_args(url)
        _run_pg(
            "pg_restore",
            [
                *args,
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                "--dbname",
                str(url.database),
                str(path),
            ],
            env,
        )
        revision = ""
    else:
        raise click.ClickException(f"不支持恢复 {url.get_backend_name()} 数据库")
    suffix = f"（数据库版本 {revision}）" if revision else ""
    click.echo(f"已从 {path} 恢复数据库{suffix}。")
    _restore_files(files_beside(path))
    click.echo("请运行 python app.py verify-log 核对事件日志。")


def _restore_files(folder: Path) -> None:
    """Put every file of the backup's folder into the configured store (each checked
    against its hash first: a damaged file is reported, never stored)."""
    if not folder.is_dir():
        click.echo(f"备份中没有文件目录 {folder}（备份时没有附件，或为旧版备份）")
        return
    source = LocalFileStore(folder)
    target = open_file_store()
    restored, damaged = 0, []
    for sha256 in source.hashes():
        try:
            data = source.get(sha256)
        except (StoredFileMissing, StoredFileDamaged):
            damaged.append(sha256)
            continue
        target.put(data)
        restored += 1
    click.echo(f"已恢复文件 {restored} 个")
    if damaged:
        raise click.ClickException(f"备份中有 {len(damaged)} 个文件已损坏，未恢复")


def _sqlite_restore(backup_file: Path, target: Path) -> str:
    """Copy the backup into ``target`` page by page, in one write transaction of the target.

    The backup is checked first, so a wrong or damaged file never replaces good data.
    """
    src = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
    try:
        revision = _check_sqlite(src, backup_file)
        create_private(target)
        dst = sqlite3.connect(target)
        try:
            dst.execute("PRAGMA busy_timeout=10000")
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    return revision


@click.command("grant-app-role")
@click.argument("role")
def grant_app_role_command(role: str) -> None:
    """（PostgreSQL，以表的所有者运行）授予应用角色权限：日志表只能查询和追加。"""
    engine = make_engine()
    try:
        with engine.begin() as conn:
            grant_app_role(conn, role)
    except BadRoleName as err:
        raise click.ClickException(str(err)) from err
    finally:
        engine.dispose()
    click.echo(
        f"已授予角色 {role} 应用权限：日志表只能查询和追加，不能修改、删除、清空或停用触发器"
    )


COMMANDS = (verify_log_command, backup, restore, grant_app_role_command)
