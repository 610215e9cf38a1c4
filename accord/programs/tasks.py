"""Background jobs of accord.programs: the daily check that evaluates and applies every
program whose scheduled evaluation is due."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django_tasks import task

from accord.core.errors import ValidationError
from accord.programs.models import EvaluationRun, Program
from accord.programs.services import evaluate_program

PATH = "accord.programs.tasks.evaluate_due_programs"


def run_due(today: dt.date) -> list[dict[str, Any]]:
    """Evaluate (and apply) every scheduled program due on or before ``today``, as of its
    due date; one program's failure does not stop the others."""
    done = []
    for program in Program.objects.filter(
        schedule_enabled=True, next_evaluation__isnull=False, next_evaluation__lte=today
    ).order_by("code"):
        as_of = program.next_evaluation
        try:
            run = evaluate_program(
                actor=None, program=program, as_of=as_of, trigger=EvaluationRun.Trigger.SCHEDULE
            )
        except ValidationError as error:  # e.g. no live version: reported, others go on
            done.append({"program": program.code, "as_of": str(as_of), "error": error.messages})
            continue
        done.append({"program": program.code, "as_of": str(as_of), "run": run.pk})
    return done


@task()
def evaluate_due_programs() -> list[dict[str, Any]]:
    """Run what is due today, then enqueue the next check for tomorrow 01:00 UTC."""
    today = timezone.now().date()
    done = run_due(today)
    tomorrow = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(1), tzinfo=dt.UTC)
    evaluate_due_programs.using(run_after=tomorrow).enqueue()
    return done
