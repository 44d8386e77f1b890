"""``worker``: runs the background jobs (``jobs``) until stopped.

Embedded default: the queue is an SQLite file under ``instance/`` (no extra server);
with ``GONGKAI_REDIS_URL`` it is Redis, and any number of ``worker`` processes on any
number of machines share it.
"""

from __future__ import annotations

import click
from prometheus_client import start_http_server

from jobs.monitor import start_heartbeat
from jobs.tasks import worker_queue
from workflow.requests.search_text import prepare


@click.command("worker")
@click.option("--workers", default=1, show_default=True, help="同时执行的任务数")
@click.option(
    "--metrics-port",
    type=click.IntRange(1, 65535),
    help="在本机此端口提供 Prometheus 指标（任务耗时），仅监听 127.0.0.1",
)
def worker(workers: int, metrics_port: int | None) -> None:
    """运行后台任务（台账导入、每晚核对），直到按 Ctrl-C 停止。"""
    queue = worker_queue()
    prepare()  # the search dictionary, before the first job (and its heartbeat) starts
    if metrics_port:
        start_http_server(metrics_port, addr="127.0.0.1")
    # /healthz on every web host reads this heartbeat from the shared queue storage.
    start_heartbeat()
    click.echo(f"后台任务进程已启动（{type(queue).__name__}，{workers} 个执行线程）", err=True)
    queue.create_consumer(workers=workers, periodic=True).run()


COMMANDS = (worker,)
