"""``accord worker``: the background worker (django-tasks-db's), after starting any periodic
job chain that is not pending."""

from __future__ import annotations

from typing import Any

from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from accord.core.tasks import ensure_periodic


class Command(DbWorkerCommand):
    help = "Run background tasks (scheduled evaluations, timers) until stopped."

    def handle(self, *args: Any, **options: Any) -> None:
        for path in ensure_periodic():
            self.stdout.write(f"scheduled {path}")
        super().handle(*args, **options)
