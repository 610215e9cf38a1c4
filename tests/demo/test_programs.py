"""The demo network's partner program and scorecards: published, a year of quarterly
evaluations with history, warnings and notifications, scores, a what-if draft, a schedule;
and a second run that changes nothing."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from accord.accounts.models import User
from accord.core.models import Notification
from accord.demo.network import load_demo_network
from accord.demo.programs import (
    ACCOUNT_MANAGER,
    CHANNEL_MANAGER,
    PROGRAM_CODE,
    next_quarter_end,
    quarter_ends,
)
from accord.partners.models import Organisation
from accord.programs import selectors
from accord.programs.evaluation import in_scope
from accord.programs.models import (
    Criterion,
    EvaluationResult,
    EvaluationRun,
    Membership,
    Program,
    ProgramVersion,
    Score,
    ScorecardTemplate,
    TierChange,
    Warning,
)

TODAY = dt.date(2026, 3, 15)
QUARTER_ENDS = [
    dt.date(2025, 3, 31),
    dt.date(2025, 6, 30),
    dt.date(2025, 9, 30),
    dt.date(2025, 12, 31),
]
SIZE = 120
PROGRAM_MODELS = (
    Program,
    ProgramVersion,
    Criterion,
    EvaluationRun,
    EvaluationResult,
    Membership,
    TierChange,
    Warning,
    Notification,
    ScorecardTemplate,
    Score,
)


@pytest.fixture
def demo(db: None):
    return load_demo_network(SIZE, 7, method="bulk", today=TODAY, channel=True, programs=True)


def fingerprint() -> dict[str, tuple[int, int | None]]:
    return {
        model.__name__: (
            model.objects.count(),
            model.objects.order_by("-pk").values_list("pk", flat=True).first(),
        )
        for model in PROGRAM_MODELS
    } | {
        "managers": list(
            Organisation.objects.order_by("pk").values_list("pk", "account_manager_id")
        ),
        "schedule": list(Program.objects.values_list("schedule_enabled", "next_evaluation")),
    }


def test_quarter_ends_are_the_last_four_before_today() -> None:
    assert quarter_ends(TODAY) == QUARTER_ENDS
    # A quarter's last day is not before itself: the quarter it ends is not yet counted.
    assert quarter_ends(dt.date(2025, 12, 31))[-1] == dt.date(2025, 9, 30)
    assert quarter_ends(dt.date(2026, 1, 1))[-1] == dt.date(2025, 12, 31)
    assert next_quarter_end(TODAY) == dt.date(2026, 3, 31)
    assert next_quarter_end(dt.date(2026, 12, 31)) == dt.date(2026, 12, 31)


def check_a_year_of_history() -> None:
    program = Program.objects.get(code=PROGRAM_CODE)
    live = selectors.live_version(program)
    assert live is not None and live.number == 1 and live.published_at is not None
    assert live.tiers.count() == 4

    # Every in-scope partner holds a tier (the entry tier has no criteria), nobody else.
    scope = set(in_scope(program).values_list("pk", flat=True))
    assert len(scope) > 50
    members = set(
        Membership.objects.filter(program=program).values_list("organisation_id", flat=True)
    )
    assert members == scope
    tiers = Counter(Membership.objects.filter(program=program).values_list("tier_code", flat=True))
    assert set(tiers) == {"registered", "silver", "gold", "platinum"}, tiers

    # Four applied evaluations at the quarter ends, oldest first, as the schedule would.
    runs = list(program.runs.filter(applied=True).order_by("pk"))
    assert [run.as_of for run in runs] == QUARTER_ENDS
    assert {run.trigger for run in runs} == {EvaluationRun.Trigger.SCHEDULE}
    assert all(run.organisation_count == len(scope) for run in runs)

    # History: everyone entered at the first evaluation; tiers moved later.
    changes = TierChange.objects.filter(program=program)
    assert changes.filter(kind="entry", effective=QUARTER_ENDS[0]).count() == len(scope)
    later = changes.exclude(effective=QUARTER_ENDS[0])
    assert later.filter(kind="promotion").exists()
    assert later.exclude(kind="entry").count() == sum(run.summary["changes"] for run in runs[1:])

    # Grace periods: each one opened at an evaluation, lasting the version's grace days.
    opened = EvaluationResult.objects.filter(run__in=runs, outcome="grace_opened")
    assert opened.exists()
    for result in opened.select_related("run"):
        assert result.grace_until == result.run.as_of + dt.timedelta(days=live.grace_days)


def check_warnings_reach_the_account_managers(demo) -> None:
    program = Program.objects.get(code=PROGRAM_CODE)
    partners = Organisation.objects.partners().filter(external_key__startswith="demo-")
    assert not partners.filter(account_manager__isnull=True).exists()
    pam = User.objects.get(email=ACCOUNT_MANAGER)
    channel = User.objects.get(email=CHANNEL_MANAGER)
    for organisation in partners:
        number = int(organisation.external_key.removeprefix("demo-"))
        expected = channel if number % 5 == 0 else pam
        assert organisation.account_manager_id == expected.pk, organisation.external_key

    warnings = Warning.objects.filter(run__program=program, run__applied=True)
    assert warnings.exists()
    assert demo.programs.warnings == warnings.count()
    notes = Notification.objects.filter(link__startswith=f"/programs/{PROGRAM_CODE}/")
    assert notes.exists() and demo.programs.notifications == notes.count()
    for note in notes.select_related("organisation"):
        assert note.recipient_id == note.organisation.account_manager_id
        assert warnings.filter(organisation=note.organisation).exists()
    # The message explains itself: by when (the grace end or the next evaluation).
    assert {w.kind for w in warnings} >= {"grace", "trend"}
    for warning in warnings:
        when = warning.details.get("grace_until") or warning.next_evaluation.isoformat()
        assert when in warning.message, warning.message


def check_scorecards_draft_and_schedule() -> None:
    program = Program.objects.get(code=PROGRAM_CODE)
    # Scored at today: the newest complete quarter is 2025-Q4 (2026-Q1 is not over).
    for code in ("partner-scorecard", "supplier-scorecard"):
        template = ScorecardTemplate.objects.get(code=code)
        scope = in_scope(template).count()
        latest = Score.objects.filter(template=template, period_start=dt.date(2025, 10, 1))
        assert latest.count() == scope > 0
        assert latest.exclude(standing="").exists()
        assert (
            Score.objects.filter(template=template).values("period_start").distinct().count() == 4
        )

    draft = program.versions.get(status="draft")
    assert draft.number == 2
    silver = draft.tiers.get(code="silver").criteria.get(metric="revenue")
    assert silver.threshold == Decimal(200000)
    live_silver = selectors.live_version(program).tiers.get(code="silver").criteria.get()
    assert live_silver.threshold == Decimal(250000)
    admin = User.objects.get(email="admin@accord.demo")
    compared = selectors.what_if(admin, program, dates=[QUARTER_ENDS[-1]])
    assert compared["draft_version"] == 2 and compared["live_version"] == 1
    moved = compared["dates"][0]
    assert moved["moved"] == moved["up"] >= 1  # a lower threshold only promotes
    assert all(m["draft"] == "silver" for m in moved["movers"])

    assert program.schedule_enabled and program.next_evaluation == dt.date(2026, 3, 31)


def test_demo_programs(demo) -> None:
    """One load (a few seconds), every property checked on it."""
    check_a_year_of_history()
    check_warnings_reach_the_account_managers(demo)
    check_scorecards_draft_and_schedule()


def test_rerunning_changes_nothing_and_a_later_run_adds_the_missing_quarter(demo) -> None:
    before = fingerprint()
    again = load_demo_network(SIZE, 7, method="bulk", today=TODAY, channel=True, programs=True)
    assert again.programs.total() == 0
    assert not again.created_anything()
    assert fingerprint() == before

    # In the next quarter: one more evaluation, fresh scores, nothing else.
    program = Program.objects.get(code=PROGRAM_CODE)
    program.schedule_enabled = False  # a user's choice, left alone by the re-run
    program.save(update_fields=["schedule_enabled"])
    later = dt.date(2026, 4, 10)
    again = load_demo_network(SIZE, 7, method="bulk", today=later, channel=True, programs=True)
    assert again.programs.evaluations == [dt.date(2026, 3, 31)]
    assert sorted(again.programs.scorecards) == ["partner-scorecard", "supplier-scorecard"]
    assert again.programs.draft is None and again.programs.next_evaluation is None
    program.refresh_from_db()
    assert not program.schedule_enabled
    assert program.versions.count() == 2


def test_accord_demo_prints_the_programs_line(db: None) -> None:
    out = StringIO()
    call_command("demo", "--organisations", "20", "--no-serve", "--method", "bulk", stdout=out)
    line = next(row for row in out.getvalue().splitlines() if row.startswith("Programs in"))
    assert "partner-program v1" in line and "quarterly evaluations applied" in line
    assert Program.objects.filter(code=PROGRAM_CODE, schedule_enabled=True).exists()
    out = StringIO()
    call_command("demo", "--organisations", "20", "--no-serve", stdout=out)
    assert "Programs in" not in out.getvalue() and "nothing changed" in out.getvalue()
