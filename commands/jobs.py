"""``worker``: runs the background jobs (``jobs``) until stopped.

Embedded default: the queue is an SQLite file under ``instance/`` (no extra server);
with ``GONGKAI_REDIS_URL`` it is Redis, and any number of ``worker`` processes on any
number of machines share it.
"""

from __future__ import annotations

import click

from jobs.tasks import worker_queue


@click.command("worker")
@click.option("--workers", default=1, show_default=True, help="同时执行的任务数")
def worker(workers: int) -> None:
    """运行后台任务（台账导入、每晚核对），直到按 Ctrl-C 停止。"""
    queue = worker_queue()
    click.echo(f"后台任务进程已启动（{type(queue).__name__}，{workers} 个执行线程）", err=True)
    queue.create_consumer(workers=workers, periodic=True).run()


COMMANDS = (worker,)
