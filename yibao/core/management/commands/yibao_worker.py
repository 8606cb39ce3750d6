"""`manage.py yibao_worker`: django-tasks' db_worker with a heartbeat for /healthz.

It takes every option of db_worker (default: all queues). A thread rewrites the worker's
heartbeat file every YIBAO_WORKER_HEARTBEAT_SECONDS while the process lives, also during a long
job; a clean stop removes it. `make run`, `make worker` and `make serve` start this command.
"""

import os

from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from yibao.core.health import HeartbeatThread


class Command(DbWorkerCommand):
    help = "运行后台任务进程（django-tasks 数据库队列），并写入心跳供 /healthz 检查"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.set_defaults(queue_name="*")

    def handle(self, *args, **options):
        reload = options.get("reload") and not options.get("batch")
        if reload and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true":
            # the reloader's parent only restarts the child; the child beats
            return super().handle(*args, **options)
        heartbeat = HeartbeatThread()
        heartbeat.start()
        try:
            return super().handle(*args, **options)
        finally:
            heartbeat.stop()
