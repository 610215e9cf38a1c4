"""Periodic background jobs: each is a task that enqueues its own next run; ``accord worker``
starts any chain that is not pending (settings.ACCORD_PERIODIC_TASKS names them)."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult


def pending(task_path: str) -> bool:
    """Whether a run of ``task_path`` is waiting or running."""
    return DBTaskResult.objects.filter(
        task_path=task_path,
        status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING],
    ).exists()


def ensure_periodic() -> list[str]:
    """Enqueue every periodic task that has no pending run; the paths it enqueued."""
    started = []
    for path in getattr(settings, "ACCORD_PERIODIC_TASKS", []):
        if not pending(path):
            import_string(path).enqueue()
            started.append(path)
    return started
