"""The demo network's partner program and scorecards: accord/demo/programs.toml loaded, account
managers assigned, a year of quarterly evaluations applied, both scorecards scored, a draft
to compare in what-if and the schedule switched on. A second run adds only what is missing.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.db.models import Max
from django.test.utils import override_settings

from accord.accounts.models import User
from accord.core.models import Notification
from accord.metrics.engine import add_months, periods_for
from accord.partners.models import Organisation
from accord.programs import loader, services
from accord.programs.models import (
    EvaluationRun,
    Membership,
    Program,
    Score,
    ScorecardTemplate,
)
from accord.programs.scorecards import score_scorecard

PROGRAMS_FILE = Path(__file__).with_name("programs.toml")
PROGRAM_CODE = "partner-program"
# Quarterly evaluations applied before today: a year of tier history.
EVALUATIONS = 4
# The draft lowers Silver's revenue threshold from 250,000, so what-if shows who moves up.
DRAFT_TIER = "silver"
DRAFT_THRESHOLD = Decimal("200000")
# Every CHANNEL_SHARE-th demo organisation (by its number) is managed by the channel
# manager, the rest by the partner account manager.
ACCOUNT_MANAGER = "pam@accord.demo"
CHANNEL_MANAGER = "channel@accord.demo"
CHANNEL_SHARE = 5
EXTERNAL_KEY_PREFIX = "demo-"
# The demo's account managers are fictional: their notifications stay in the app instead
# of being printed as e-mails by the console backend.
QUIET_MAIL = "django.core.mail.backends.dummy.EmailBackend"


@dataclass
class ProgramsSummary:
    """What one run added (nothing on a re-run) and where the program stands after it."""

    loaded: list[str] = field(default_factory=list)  # the loader's lines, "unchanged" left out
    account_managers: int = 0
    evaluations: list[dt.date] = field(default_factory=list)
    scorecards: list[str] = field(default_factory=list)
    draft: int | None = None  # the version number of the what-if draft opened
    next_evaluation: dt.date | None = None  # set when the schedule was switched on
    members: dict[str, int] = field(default_factory=dict)  # tier code -> organisations
    warnings: int = 0
    notifications: int = 0
    seconds: float = 0.0

    def total(self) -> int:
        return (
            len(self.loaded)
            + self.account_managers
            + len(self.evaluations)
            + len(self.scorecards)
            + (self.draft is not None)
            + (self.next_evaluation is not None)
        )


def quarter_ends(today: dt.date, count: int = EVALUATIONS) -> list[dt.date]:
    """The last ``count`` quarter ends before ``today``, oldest first."""
    quarter = dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    return [
        add_months(quarter, -3 * back) - dt.timedelta(days=1) for back in range(count - 1, -1, -1)
    ]


def next_quarter_end(today: dt.date) -> dt.date:
    """The last day of ``today``'s quarter (today itself on a quarter end)."""
    quarter = dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    return add_months(quarter, 3) - dt.timedelta(days=1)


def _assign_account_managers() -> int:
    """Give each demo organisation without an account manager one; how many were given."""
    managers = {
        u.email: u for u in User.objects.filter(email__in=[ACCOUNT_MANAGER, CHANNEL_MANAGER])
    }
    if len(managers) < 2:
        return 0
    chosen: dict[str, list[int]] = {ACCOUNT_MANAGER: [], CHANNEL_MANAGER: []}
    for pk, key in (
        Organisation.objects.partners()
        .filter(external_key__startswith=EXTERNAL_KEY_PREFIX, account_manager__isnull=True)
        .values_list("pk", "external_key")
    ):
        number = key.removeprefix(EXTERNAL_KEY_PREFIX)
        share = int(number) % CHANNEL_SHARE == 0 if number.isdigit() else False
        chosen[CHANNEL_MANAGER if share else ACCOUNT_MANAGER].append(pk)
    for email, ids in chosen.items():
        Organisation.objects.filter(pk__in=ids).update(account_manager=managers[email])
    return sum(len(ids) for ids in chosen.values())


def _latest_scored_period(template: ScorecardTemplate, today: dt.date) -> dt.date:
    """The start of the newest period score_scorecard scores at ``today`` (complete ones only)."""
    previous, current = periods_for(template.period, today, 2)
    return current.start if current.complete else previous.start


def _draft_content(program: Program) -> dict | None:
    live = services.live_version(program)
    if live is None:
        return None
    content = services.version_content(live)
    for tier in content["tiers"]:
        if tier["code"] == DRAFT_TIER:
            for criterion in tier["criteria"]:
                if criterion["metric"] == "revenue":
                    criterion["threshold"] = str(DRAFT_THRESHOLD)
    content["notes"] = (
        f"What-if: Silver from {DRAFT_THRESHOLD:,} revenue in the trailing 12 months."
    )
    return content


def load_demo_programs(today: dt.date, path: Path = PROGRAMS_FILE) -> ProgramsSummary:
    """Load the demo's program and scorecards and give them a history up to ``today``.

    Evaluations are applied at the last EVALUATIONS quarter ends before ``today`` that come
    after the program's last applied one; scorecards are scored unless today's newest
    complete period already is; the what-if draft and the schedule are set up only when this
    run created the program (a user's later choices are left alone).
    """
    summary = ProgramsSummary()
    created = not Program.objects.filter(code=PROGRAM_CODE).exists()
    lines = loader.load(actor=None, data=loader.read(path))
    summary.loaded = [line for line in lines if not line.endswith("unchanged")]
    summary.account_managers = _assign_account_managers()

    program = Program.objects.get(code=PROGRAM_CODE)
    last = program.runs.filter(applied=True).aggregate(last=Max("as_of"))["last"]
    notifications = Notification.objects.count()
    with override_settings(EMAIL_BACKEND=QUIET_MAIL):
        for as_of in quarter_ends(today):
            if last is not None and as_of <= last:
                continue
            run = services.evaluate_program(
                actor=None, program=program, as_of=as_of, trigger=EvaluationRun.Trigger.SCHEDULE
            )
            summary.evaluations.append(as_of)
            summary.warnings += run.summary.get("warnings", 0)
    summary.notifications = Notification.objects.count() - notifications

    saved = {line.split()[1].rstrip(":") for line in lines if line.startswith("scorecard ")}
    changed = {line.split()[1].rstrip(":") for line in summary.loaded}
    for template in ScorecardTemplate.objects.filter(code__in=saved, is_active=True):
        latest = _latest_scored_period(template, today)
        if (
            template.code in changed
            or not Score.objects.filter(template=template, period_start=latest).exists()
        ):
            score_scorecard(actor=None, template=template, as_of=today)
            summary.scorecards.append(template.code)

    if created:
        content = _draft_content(program)
        if content is not None:
            summary.draft = services.save_draft(actor=None, program=program, content=content).number
        summary.next_evaluation = next_quarter_end(today)
        services.update_program(
            actor=None,
            program=program,
            data={"schedule_enabled": True, "next_evaluation": summary.next_evaluation},
        )
    summary.members = dict(
        Counter(Membership.objects.filter(program=program).values_list("tier_code", flat=True))
    )
    return summary


def describe(summary: ProgramsSummary) -> str:
    """One line for ``accord demo``'s summary."""
    program = Program.objects.filter(code=PROGRAM_CODE).first()
    live = services.live_version(program) if program else None
    names = {t.code: t.name for t in live.tiers.all()} if live else {}
    members = ", ".join(
        f"{names.get(code, code or '-')} {summary.members.get(code, 0)}" for code in names
    )
    parts = [f"{PROGRAM_CODE} v{live.number if live else '?'} ({members})"]
    if summary.evaluations:
        parts.append(
            f"{len(summary.evaluations)} quarterly evaluations applied "
            f"({summary.evaluations[0]} to {summary.evaluations[-1]}) with "
            f"{summary.warnings} early warnings and {summary.notifications} notifications"
        )
    if summary.scorecards:
        parts.append(f"scored {', '.join(summary.scorecards)}")
    if summary.draft is not None:
        parts.append(f"draft v{summary.draft} (Silver from {DRAFT_THRESHOLD:,}) for what-if")
    if summary.next_evaluation is not None:
        parts.append(f"next scheduled evaluation {summary.next_evaluation}")
    return f"Programs in {summary.seconds:.1f} s: " + "; ".join(parts) + "."
