"""The programs services against the real database: evaluations applied and previewed,
entry, promotion and demotion through grace, overrides, reruns, versions, validation of
version content, the SQL statement count, and the explanation every decision stores."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accord.core.errors import Conflict, ValidationError
from accord.core.models import Notification
from accord.programs import selectors, services
from accord.programs.evaluation import load_rules
from accord.programs.models import (
    EvaluationRun,
    Membership,
    Outcome,
    Program,
    ProgramVersion,
    Tier,
    TierChange,
    Warning,
)
from accord.programs.services import evaluate_program
from accord.programs.tasks import run_due
from tests.programs.builders import (
    D,
    criterion,
    ladder,
    make_program,
    partners,
    sell,
    sell_many,
    tier,
)

ONE_DAY = dt.timedelta(days=1)
pytestmark = pytest.mark.django_db


def apply(actor: Any, program: Program, as_of: dt.date) -> EvaluationRun:
    return evaluate_program(actor=actor, program=program, as_of=as_of)


def result_of(run: EvaluationRun, org: Any) -> Any:
    return run.results.get(organisation=org)


def membership(program: Program, org: Any) -> Membership:
    return Membership.objects.get(program=program, organisation=org)


def changes(program: Program, org: Any) -> list[tuple[str, str, str, dt.date]]:
    return list(
        TierChange.objects.filter(program=program, organisation=org)
        .order_by("effective", "pk")
        .values_list("kind", "from_tier", "to_tier", "effective")
    )


# -- applying and previewing ---------------------------------------------------------------
def test_preview_changes_no_membership(vendor_admin: Any) -> None:
    program = make_program(vendor_admin)
    seller, idle = partners(2)
    sell(seller, D(2026, 2, 1), 1200)
    run = evaluate_program(actor=vendor_admin, program=program, as_of=D(2026, 3, 31), apply=False)
    assert not run.applied
    assert result_of(run, seller).qualified_tier == "silver"
    assert result_of(run, seller).outcome == Outcome.ENTERED
    assert result_of(run, idle).resulting_tier == "registered"
    assert not Membership.objects.filter(program=program).exists()
    assert not TierChange.objects.filter(program=program).exists()
    assert not Warning.objects.exists()
    assert "changes" not in run.summary
    # Applying it then does enter both.
    applied = apply(vendor_admin, program, D(2026, 3, 31))
    assert applied.applied and applied.summary["changes"] == 2
    assert membership(program, seller).tier_code == "silver"
    assert membership(program, idle).tier_code == "registered"
    assert changes(program, seller) == [("entry", "", "silver", D(2026, 3, 31))]


def test_preview_of_a_held_tier_leaves_grace_alone(vendor_admin: Any) -> None:
    program = make_program(vendor_admin)
    seller = partners(1)[0]
    sell(seller, D(2025, 4, 15), 6000)
    apply(vendor_admin, program, D(2026, 3, 31))
    before = Membership.objects.values().get(program=program, organisation=seller)
    run = evaluate_program(actor=vendor_admin, program=program, as_of=D(2026, 4, 30), apply=False)
    assert result_of(run, seller).outcome == Outcome.GRACE_OPENED
    assert Membership.objects.values().get(program=program, organisation=seller) == before


def test_entry_promotion_and_demotion_through_grace(vendor_admin: Any) -> None:
    """silver ≥ 1,000, gold ≥ 5,000 (trailing 12 months), hysteresis 10 %, grace 90 days."""
    program = make_program(vendor_admin, ladder(grace_days=90, hysteresis_pct="10"))
    org = partners(1)[0]
    sell(org, D(2025, 4, 15), 1200)
    run = apply(vendor_admin, program, D(2026, 1, 31))
    assert result_of(run, org).outcome == Outcome.ENTERED
    assert membership(program, org).tier_code == "silver"
    # Promotion: at once.
    sell(org, D(2026, 2, 10), 4000)  # 5,200
    run = apply(vendor_admin, program, D(2026, 2, 28))
    assert (result_of(run, org).outcome, result_of(run, org).resulting_tier) == ("promoted", "gold")
    held = membership(program, org)
    assert (held.tier_code, held.since) == ("gold", D(2026, 2, 28))
    # 2025-04-15 leaves the window on 2026-04-01: 4,000 < 4,500 (gold kept at 10 % less).
    run = apply(vendor_admin, program, D(2026, 4, 30))
    result = result_of(run, org)
    assert (result.outcome, result.qualified_tier, result.resulting_tier) == (
        "grace_opened",
        "silver",
        "gold",
    )
    until = D(2026, 4, 30) + dt.timedelta(days=90)
    assert result.grace_until == until == D(2026, 7, 29)
    held = membership(program, org)
    assert (held.tier_code, held.grace_target, held.grace_started, held.grace_until) == (
        "gold",
        "silver",
        D(2026, 4, 30),
        until,
    )
    # The day before the grace period ends: still gold.
    run = apply(vendor_admin, program, until - ONE_DAY)
    assert result_of(run, org).outcome == Outcome.GRACE_CONTINUES
    assert membership(program, org).tier_code == "gold"
    # On grace_until: demoted, since moves, the grace period is closed.
    run = apply(vendor_admin, program, until)
    assert (result_of(run, org).outcome, result_of(run, org).resulting_tier) == (
        "demoted",
        "silver",
    )
    held = membership(program, org)
    assert (held.tier_code, held.since, held.grace_until, held.grace_target) == (
        "silver",
        until,
        None,
        "",
    )
    assert changes(program, org) == [
        ("entry", "", "silver", D(2026, 1, 31)),
        ("promotion", "silver", "gold", D(2026, 2, 28)),
        ("demotion", "gold", "silver", until),
    ]
    assert run.summary["changes"] == 1


def test_grace_is_withdrawn_on_recovery(vendor_admin: Any) -> None:
    program = make_program(vendor_admin)
    org = partners(1)[0]
    sell(org, D(2025, 4, 15), 6000)
    apply(vendor_admin, program, D(2026, 3, 31))
    assert membership(program, org).tier_code == "gold"
    run = apply(vendor_admin, program, D(2026, 4, 30))
    assert result_of(run, org).outcome == Outcome.GRACE_OPENED
    sell(org, D(2026, 5, 2), 4600)  # ≥ 4,500: kept (but not re-qualified: < 5,000)
    run = apply(vendor_admin, program, D(2026, 5, 31))
    result = result_of(run, org)
    assert (result.outcome, result.qualified_tier, result.resulting_tier) == (
        "grace_withdrawn",
        "silver",
        "gold",
    )
    assert result.grace_until is None
    held = membership(program, org)
    assert (held.tier_code, held.grace_until, held.grace_started, held.grace_target) == (
        "gold",
        None,
        None,
        "",
    )
    assert changes(program, org) == [("entry", "", "gold", D(2026, 3, 31))]
    # Held within the band afterwards, without a new grace period.
    run = apply(vendor_admin, program, D(2026, 6, 30))
    assert result_of(run, org).outcome == Outcome.HELD


def test_grace_days_zero_demotes_at_the_first_failing_evaluation(vendor_admin: Any) -> None:
    program = make_program(vendor_admin, ladder(grace_days=0))
    org = partners(1)[0]
    sell(org, D(2025, 4, 15), 6000)
    sell(org, D(2026, 4, 15), 1500)
    apply(vendor_admin, program, D(2026, 3, 31))
    run = apply(vendor_admin, program, D(2026, 4, 30))
    assert result_of(run, org).outcome == Outcome.DEMOTED
    assert membership(program, org).tier_code == "silver"


# -- overrides -------------------------------------------------------------------------------
def test_override_is_honoured_until_it_expires(vendor_admin: Any) -> None:
    today = timezone.localdate()
    program = make_program(vendor_admin)
    org = partners(1)[0]
    sell(org, today - dt.timedelta(days=20), 1200)
    apply(vendor_admin, program, today - ONE_DAY)
    assert membership(program, org).tier_code == "silver"
    until = today + dt.timedelta(days=30)
    held = services.override_tier(
        actor=vendor_admin,
        program=program,
        organisation=org,
        tier="gold",
        reason="Strategic account",
        until=until,
    )
    assert held.effective_tier(today) == "gold"
    assert held.effective_tier(until - ONE_DAY) == "gold"
    assert held.effective_tier(until) == "silver"  # until is exclusive
    assert changes(program, org)[-1] == ("override", "silver", "gold", today)
    # An evaluation while it lasts: outcome overridden, effective gold, evaluated silver.
    run = apply(vendor_admin, program, until - ONE_DAY)
    result = result_of(run, org)
    assert (result.outcome, result.effective_tier, result.resulting_tier) == (
        "overridden",
        "gold",
        "silver",
    )
    assert run.summary["distribution"] == {"gold": 1}
    assert membership(program, org).override_tier == "gold"
    # The evaluation on its expiry date ends it: an OVERRIDE_ENDED change, the override cleared.
    run = apply(vendor_admin, program, until)
    result = result_of(run, org)
    assert (result.outcome, result.effective_tier) == ("unchanged", "silver")
    held = membership(program, org)
    assert (held.override_tier, held.override_until, held.override_reason) == ("", None, "")
    ended = TierChange.objects.get(program=program, organisation=org, kind="override_ended")
    assert (ended.from_tier, ended.to_tier, ended.effective, ended.run_id) == (
        "gold",
        "silver",
        until,
        run.pk,
    )
    assert ended.reason == "Strategic account"
    assert run.summary["changes"] == 0  # the end of an override is not a tier decision


def test_override_of_an_organisation_never_evaluated(vendor_admin: Any) -> None:
    today = timezone.localdate()
    program = make_program(vendor_admin)
    org = partners(1)[0]
    held = services.override_tier(
        actor=vendor_admin,
        program=program,
        organisation=org,
        tier="silver",
        reason="Launch partner",
        until=today + dt.timedelta(days=10),
    )
    assert (held.tier_code, held.effective_tier(today)) == ("", "silver")
    run = apply(vendor_admin, program, today)
    result = result_of(run, org)
    assert (result.outcome, result.effective_tier, result.resulting_tier) == (
        "overridden",
        "silver",
        "registered",
    )
    assert membership(program, org).tier_code == "registered"


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("tier", {"tier": "diamond"}),
        ("reason", {"reason": "  "}),
        ("until", {"until": "today"}),
        ("until", {"until": "past"}),
        ("until", {"until": "far"}),
    ],
)
def test_override_validation(vendor_admin: Any, field: str, kwargs: dict) -> None:
    today = timezone.localdate()
    dates = {
        "today": today,
        "past": today - ONE_DAY,
        "far": today + dt.timedelta(days=732),
    }
    program = make_program(vendor_admin)
    org = partners(1)[0]
    arguments = {"tier": "gold", "reason": "why", "until": today + ONE_DAY, **kwargs}
    arguments["until"] = dates.get(arguments["until"], arguments["until"])
    with pytest.raises(ValidationError) as raised:
        services.override_tier(actor=vendor_admin, program=program, organisation=org, **arguments)
    assert field in raised.value.message_dict
    assert not Membership.objects.exists()


def test_override_needs_an_organisation_the_program_applies_to(vendor_admin: Any) -> None:
    program = make_program(vendor_admin, kinds=["reseller"])
    supplier = partners(1, kind="supplier")[0]
    with pytest.raises(ValidationError) as raised:
        services.override_tier(
            actor=vendor_admin,
            program=program,
            organisation=supplier,
            tier="gold",
            reason="why",
            until=timezone.localdate() + ONE_DAY,
        )
    assert "organisation" in raised.value.message_dict
    assert not Membership.objects.exists()


def test_end_override(vendor_admin: Any, analyst: Any) -> None:
    today = timezone.localdate()
    program = make_program(vendor_admin)
    org = partners(1)[0]
    held = services.override_tier(
        actor=vendor_admin,
        program=program,
        organisation=org,
        tier="gold",
        reason="Trial",
        until=today + ONE_DAY,
    )
    with pytest.raises(PermissionDenied):
        services.end_override(actor=analyst, membership=held, reason="no")
    with pytest.raises(ValidationError) as raised:
        services.end_override(actor=vendor_admin, membership=held, reason="")
    assert "reason" in raised.value.message_dict
    ended = services.end_override(actor=vendor_admin, membership=held, reason="Trial over")
    assert (ended.override_tier, ended.override_until) == ("", None)
    assert changes(program, org)[-1] == ("override_ended", "gold", "", today)
    with pytest.raises(Conflict):
        services.end_override(actor=vendor_admin, membership=ended, reason="again")


# -- history and reruns ------------------------------------------------------------------------
def test_applying_an_earlier_as_of_is_refused(vendor_admin: Any) -> None:
    program = make_program(vendor_admin)
    partners(1)
    apply(vendor_admin, program, D(2026, 3, 31))
    with pytest.raises(ValidationError) as raised:
        apply(vendor_admin, program, D(2026, 3, 30))
    assert list(raised.value.message_dict) == ["as_of"]
    assert "2026-03-31" in raised.value.message_dict["as_of"][0]
    assert EvaluationRun.objects.filter(program=program).count() == 1
    # Previewing history is allowed and applies nothing.
    run = evaluate_program(actor=vendor_admin, program=program, as_of=D(2025, 1, 1), apply=False)
    assert not run.applied
    assert Membership.objects.get(program=program).last_evaluated == D(2026, 3, 31)


def _decided(run: EvaluationRun) -> dict[int, tuple]:
    return {
        r.organisation_id: (
            r.qualified_tier,
            r.resulting_tier,
            r.effective_tier,
            r.values,
            r.grace_until,
        )
        for r in run.results.all()
    }


def test_rerunning_the_same_as_of_decides_the_same(vendor_admin: Any) -> None:
    program = make_program(vendor_admin)
    entering, falling, _idle = partners(3)
    sell(entering, D(2026, 3, 1), 1500)
    sell(falling, D(2025, 4, 15), 6000)
    sell(falling, D(2026, 4, 15), 1500)
    apply(vendor_admin, program, D(2026, 3, 31))
    first = apply(vendor_admin, program, D(2026, 4, 30))
    history = TierChange.objects.count()
    memberships = list(Membership.objects.order_by("pk").values())
    again = apply(vendor_admin, program, D(2026, 4, 30))
    assert _decided(again) == _decided(first)
    assert result_of(again, falling).outcome == Outcome.GRACE_CONTINUES
    assert result_of(again, falling).grace_until == D(2026, 7, 29)
    assert TierChange.objects.count() == history
    assert list(Membership.objects.order_by("pk").values()) == memberships
    assert again.summary["changes"] == 0
    # And on the demotion date.
    demoted = apply(vendor_admin, program, D(2026, 7, 29))
    rerun = apply(vendor_admin, program, D(2026, 7, 29))
    assert _decided(rerun) == _decided(demoted)
    assert result_of(demoted, falling).outcome == Outcome.DEMOTED
    assert TierChange.objects.filter(kind="demotion").count() == 1


def test_a_tier_the_new_version_drops(vendor_admin: Any) -> None:
    """Holders of a tier the next version no longer has are re-placed by the new rules."""
    program = make_program(vendor_admin)
    org = partners(1)[0]
    sell(org, D(2026, 3, 1), 6000)
    apply(vendor_admin, program, D(2026, 3, 31))
    content = ladder()
    content["tiers"] = content["tiers"][:2]  # gold removed
    services.save_draft(actor=vendor_admin, program=program, content=content)
    services.publish_version(actor=vendor_admin, program=program)
    run = apply(vendor_admin, program, D(2026, 4, 30))
    result = result_of(run, org)
    assert (result.previous_tier, result.resulting_tier) == ("gold", "silver")
    assert membership(program, org).tier_code == "silver"
    assert changes(program, org)[-1][:3] == ("entry", "gold", "silver")


# -- versions ---------------------------------------------------------------------------------
def test_published_versions_are_immutable(vendor_admin: Any) -> None:
    program = make_program(vendor_admin)
    live = services.live_version(program)
    before = services.version_content(live)
    content = ladder(silver=2000, gold=9000, grace_days=30)
    draft = services.save_draft(actor=vendor_admin, program=program, content=content)
    assert draft.pk != live.pk and draft.number == 2 and draft.status == "draft"
    live.refresh_from_db()
    assert live.status == "published"
    assert services.version_content(live) == before
    assert load_rules(live).tiers[1].criteria[0].threshold == 1000
    # Saving the draft again edits the same draft, never a new one.
    again = services.save_draft(actor=vendor_admin, program=program, content=content)
    assert again.pk == draft.pk
    assert ProgramVersion.objects.filter(program=program).count() == 2
    # Publishing retires the live version: one live, one retired, and no draft.
    published = services.publish_version(actor=vendor_admin, program=program)
    live.refresh_from_db()
    assert (published.pk, published.status, live.status) == (draft.pk, "published", "retired")
    assert services.version_content(live) == before
    assert services.live_version(program).pk == draft.pk
    assert services.draft_version(program) is None
    # A draft started now copies the live content.
    started = services.start_draft(actor=vendor_admin, program=program)
    assert started.number == 3
    copied = services.version_content(started)
    assert copied["tiers"] == services.version_content(published)["tiers"]
    assert copied["grace_days"] == 30
    services.discard_draft(actor=vendor_admin, program=program)
    assert services.draft_version(program) is None
    with pytest.raises(Conflict):
        services.publish_version(actor=vendor_admin, program=program)


def test_version_content_round_trips(vendor_admin: Any) -> None:
    content = {
        "grace_days": 45,
        "hysteresis_pct": "7.5",
        "cost_basis_metric": "revenue",
        "cost_basis_window": "trailing_6",
        "notes": "Autumn",
        "tiers": [
            tier("registered", benefits={"support_sla_hours": 72}),
            tier(
                "top",
                criterion("1500000"),
                criterion("3", metric="certified_staff", window="month"),
                criterion("4.2", metric="csat"),
                combine="at_least",
                at_least=2,
                name_zh="顶级",
                benefits={
                    "discount_pct": "10",
                    "rebate_pct": "3.25",
                    "mdf_share_pct": "2",
                    "support_sla_hours": 8,
                    "lead_priority": 3,
                    "named_account_manager": True,
                },
            ),
        ],
    }
    program = make_program(vendor_admin, content, publish=False)
    draft = services.draft_version(program)
    stored = services.version_content(draft)
    assert services.clean_content(stored) == services.clean_content(content)
    assert stored["tiers"][1]["criteria"][0]["threshold"] == "1500000"
    assert stored["tiers"][1]["benefits"]["rebate_pct"] == "3.25"
    top = Tier.objects.get(version=draft, code="top")
    assert top.cost_pct == Decimal("15.25")


def test_a_draft_is_not_applied_and_publishing_needs_tiers(vendor_admin: Any) -> None:
    program = make_program(vendor_admin, {"tiers": []}, publish=False)
    with pytest.raises(Conflict):
        evaluate_program(actor=vendor_admin, program=program, as_of=D(2026, 3, 31))
    with pytest.raises(ValidationError) as raised:
        services.publish_version(actor=vendor_admin, program=program)
    assert "tiers" in raised.value.message_dict
    services.save_draft(actor=vendor_admin, program=program, content=ladder())
    services.publish_version(actor=vendor_admin, program=program)
    services.save_draft(actor=vendor_admin, program=program, content=ladder(silver=10))
    draft = services.draft_version(program)
    with pytest.raises(Conflict):
        evaluate_program(actor=vendor_admin, program=program, as_of=D(2026, 3, 31), version=draft)
    preview = evaluate_program(
        actor=vendor_admin, program=program, as_of=D(2026, 3, 31), version=draft, apply=False
    )
    assert preview.version_id == draft.pk and not preview.applied


def test_create_program_validation(vendor_admin: Any, analyst: Any) -> None:
    make_program(vendor_admin, code="taken")
    with pytest.raises(Conflict) as raised:
        make_program(vendor_admin, code="taken")
    assert "code" in raised.value.message_dict
    with pytest.raises(ValidationError) as raised:
        services.create_program(actor=vendor_admin, data={"code": "x", "name": "X", "colour": 1})
    assert list(raised.value.message_dict) == ["colour"]
    with pytest.raises(ValidationError) as raised:
        services.create_program(
            actor=vendor_admin, data={"code": "x", "name": "X", "kinds": ["reseller", "alien"]}
        )
    assert list(raised.value.message_dict) == ["kinds"]
    with pytest.raises(PermissionDenied):
        services.create_program(actor=analyst, data={"code": "y", "name": "Y"})
    assert not Program.objects.filter(code__in=["x", "y"]).exists()


# -- content validation -------------------------------------------------------------------------
def _base() -> dict[str, Any]:
    return {
        "grace_days": 30,
        "hysteresis_pct": "5",
        "tiers": [
            tier("registered"),
            tier(
                "silver",
                criterion(1000),
                criterion(4, metric="csat"),
                benefits={"discount_pct": "2"},
            ),
        ],
    }


def _set(path: str, value: Any) -> dict[str, Any]:
    content = _base()
    target: Any = content
    parts = path.split(".")
    for part in parts[:-1]:
        target = target[int(part)] if isinstance(target, list) else target.setdefault(part, {})
    last = parts[-1]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return content


@pytest.mark.parametrize(
    ("path", "value", "key"),
    [
        ("colour", "red", "colour"),
        ("grace_days", "soon", "grace_days"),
        ("grace_days", -1, "grace_days"),
        ("grace_days", 3651, "grace_days"),
        ("hysteresis_pct", "51", "hysteresis_pct"),
        ("hysteresis_pct", True, "hysteresis_pct"),
        ("hysteresis_pct", "5.125", "hysteresis_pct"),
        ("cost_basis_metric", "profit", "cost_basis_metric"),
        ("cost_basis_metric", "", "cost_basis_metric"),
        ("cost_basis_window", "fortnight", "cost_basis_window"),
        ("tiers", "gold", "tiers"),
        ("tiers", [{"code": f"t{i}", "name": "T"} for i in range(13)], "tiers"),
        ("tiers.0", "registered", "tiers.0"),
        ("tiers.0.colour", "red", "tiers.0.colour"),
        ("tiers.0.code", "", "tiers.0.code"),
        ("tiers.0.code", "has space", "tiers.0.code"),
        ("tiers.1.code", "registered", "tiers.1.code"),
        ("tiers.0.name", "", "tiers.0.name"),
        ("tiers.0.name", "x" * 81, "tiers.0.name"),
        ("tiers.1.combine", "most", "tiers.1.combine"),
        ("tiers.1.criteria", "revenue", "tiers.1.criteria"),
        ("tiers.1.criteria", [criterion(1)] * 13, "tiers.1.criteria"),
        ("tiers.1.combine", "at_least", "tiers.1.at_least"),
        ("tiers.1.benefits", ["discount"], "tiers.1.benefits"),
        ("tiers.1.benefits.free_lunch", True, "tiers.1.benefits.free_lunch"),
        ("tiers.1.benefits.discount_pct", "101", "tiers.1.benefits.discount_pct"),
        ("tiers.1.benefits.rebate_pct", "-1", "tiers.1.benefits.rebate_pct"),
        ("tiers.1.benefits.mdf_share_pct", "lots", "tiers.1.benefits.mdf_share_pct"),
        ("tiers.1.benefits.discount_pct", "2.555", "tiers.1.benefits.discount_pct"),
        ("tiers.1.benefits.support_sla_hours", 0, "tiers.1.benefits.support_sla_hours"),
        ("tiers.1.benefits.lead_priority", "high", "tiers.1.benefits.lead_priority"),
        ("tiers.1.criteria.1", "csat > 4", "tiers.1.criteria.1"),
        ("tiers.1.criteria.1.unit", "pts", "tiers.1.criteria.1.unit"),
        ("tiers.1.criteria.1.metric", "happiness", "tiers.1.criteria.1.metric"),
        ("tiers.1.criteria.1.comparator", "eq", "tiers.1.criteria.1.comparator"),
        ("tiers.1.criteria.1.threshold", "abc", "tiers.1.criteria.1.threshold"),
        ("tiers.1.criteria.1.threshold", None, "tiers.1.criteria.1.threshold"),
        ("tiers.1.criteria.1.threshold", "NaN", "tiers.1.criteria.1.threshold"),
        ("tiers.1.criteria.1.threshold", "1e30", "tiers.1.criteria.1.threshold"),
        ("tiers.1.criteria.1.threshold", "0.0000001", "tiers.1.criteria.1.threshold"),
        ("tiers.1.criteria.1.threshold", True, "tiers.1.criteria.1.threshold"),
        ("tiers.1.criteria.1.window", "fortnight", "tiers.1.criteria.1.window"),
        ("tiers.1.criteria.1.window", "trailing_121", "tiers.1.criteria.1.window"),
    ],
)
def test_clean_content_names_the_field_at_fault(path: str, value: Any, key: str) -> None:
    content = _set(path, value)
    with pytest.raises(ValidationError) as raised:
        services.clean_content(content)
    assert list(raised.value.message_dict) == [key], raised.value.message_dict


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("tiers.1.combine", "any"),
        ("tiers.1.criteria.1.threshold", "1,000.50"),
        ("tiers.1.criteria.1.threshold", "-0.5"),
        ("tiers.1.criteria.1.window", "trailing_120"),
        ("tiers.1.benefits.support_sla_hours", None),
        ("hysteresis_pct", "0"),
        ("grace_days", 0),
    ],
)
def test_clean_content_accepts(path: str, value: Any) -> None:
    _fields, tiers = services.clean_content(_set(path, value))
    assert [t["code"] for t in tiers] == ["registered", "silver"]


def test_clean_content_of_at_least(vendor_admin: Any) -> None:
    content = _set("tiers.1.combine", "at_least")
    content["tiers"][1]["at_least"] = 3  # only two criteria
    with pytest.raises(ValidationError) as raised:
        services.clean_content(content)
    assert list(raised.value.message_dict) == ["tiers.1.at_least"]
    content["tiers"][1]["at_least"] = 2
    _fields, tiers = services.clean_content(content)
    assert tiers[1]["at_least"] == 2


def test_a_refused_draft_changes_nothing(vendor_admin: Any) -> None:
    program = make_program(vendor_admin)
    services.save_draft(actor=vendor_admin, program=program, content=ladder(silver=2000))
    draft = services.draft_version(program)
    before = services.version_content(draft)
    with pytest.raises(ValidationError):
        services.save_draft(
            actor=vendor_admin, program=program, content=_set("tiers.1.criteria.0.threshold", "x")
        )
    assert services.version_content(services.draft_version(program)) == before


# -- cost and statement count -------------------------------------------------------------------
def test_the_summary_counts_and_costs(vendor_admin: Any) -> None:
    """Cost = revenue (trailing 12) x (discount + rebate + MDF share) of the tier held."""
    program = make_program(vendor_admin)
    silver, gold, _idle = partners(3)
    sell(silver, D(2026, 3, 1), 2000)  # 2 % of 2,000 = 40
    sell(gold, D(2026, 3, 1), 10000)  # 6 % of 10,000 = 600
    run = apply(vendor_admin, program, D(2026, 3, 31))
    assert run.summary["distribution"] == {"registered": 1, "silver": 1, "gold": 1}
    assert run.summary["outcomes"] == {"entered": 3}
    assert Decimal(run.summary["cost"]) == Decimal("640.00")
    assert run.organisation_count == 3


def _statements(actor: Any, program: Program, as_of: dt.date, apply_it: bool = True) -> int:
    with CaptureQueriesContext(connection) as captured:
        evaluate_program(actor=actor, program=program, as_of=as_of, apply=apply_it)
    return len(captured.captured_queries)


def _network(size: int, kind: str, manager: Any) -> list[Any]:
    orgs = partners(size, kind=kind, account_manager=manager)
    rows = []
    for index, org in enumerate(orgs):
        # a third never sells, a third holds silver, a third falls from gold into grace
        if index % 3 == 1:
            rows.append((org, D(2026, 2, 1), 1500))
        elif index % 3 == 2:
            rows.append((org, D(2025, 4, 15), 6000))
            rows.append((org, D(2026, 2, 1), 1000))
    sell_many(rows)
    return orgs


def test_statement_count_does_not_depend_on_the_organisations(
    vendor_admin: Any, channel_manager: Any
) -> None:
    """The same program over 3 and 30 organisations: entry, a quiet rerun, grace opening,
    and a preview take the same number of SQL statements."""
    counts = {}
    # The first size warms Django's caches (content types, permissions); 3 and 30 compare.
    for size, kind in ((1, "retailer"), (3, "reseller"), (30, "var")):
        _network(size, kind, channel_manager)
        program = make_program(vendor_admin, code=f"count-{size}", kinds=[kind])
        counts[size] = (
            _statements(vendor_admin, program, D(2026, 3, 31)),
            _statements(vendor_admin, program, D(2026, 3, 31)),
            _statements(vendor_admin, program, D(2026, 4, 30)),
            _statements(vendor_admin, program, D(2026, 5, 31), apply_it=False),
        )
        assert Membership.objects.filter(program=program).count() == size
        assert Membership.objects.filter(program=program).exclude(grace_until=None).count() == (
            size // 3
        )
        # Those in grace were warned, and their account manager told.
        assert Warning.objects.filter(run__program=program, kind="grace").count() == size // 3
        assert (
            Notification.objects.filter(recipient=channel_manager, organisation__kind=kind).count()
            == size // 3
        )
    assert counts[3] == counts[30], counts


# -- explanations ------------------------------------------------------------------------------
def test_every_decision_stores_its_inputs_and_explains_itself(vendor_admin: Any) -> None:
    content = {
        "grace_days": 90,
        "hysteresis_pct": "5",
        "tiers": [
            tier("registered"),
            tier("silver", criterion(250000)),
            tier("gold", criterion(500000), criterion(2, metric="certified_staff", window="month")),
        ],
    }
    program = make_program(vendor_admin, content)
    org = partners(1)[0]
    sell(org, D(2025, 6, 1), 426600)
    run = apply(vendor_admin, program, D(2026, 3, 31))
    live = services.live_version(program)
    assert run.inputs == {"version": live.number, "rules": load_rules(live).as_dict()}
    assert run.inputs["rules"]["grace_days"] == 90
    assert run.inputs["rules"]["hysteresis_pct"] == "5.00"
    result = result_of(run, org)
    assert result.values == {
        "revenue@trailing_12": "426600.00",
        "certified_staff@month": "0",
    }
    explained = selectors.explain_result(result)
    assert explained["qualified_tier"] == "silver"
    assert explained["outcome"] == "entered"
    silver = explained["tiers"][1]
    assert silver["passed"] is True
    assert silver["criteria"][0]["value"] == "426600.00"
    assert Decimal(silver["criteria"][0]["keep_threshold"]) == Decimal(237500)
    gold = explained["tiers"][2]
    assert gold["passed"] is False and gold["required"] == 2
    assert [c["passed"] for c in gold["criteria"]] == [False, False]
    gap = explained["gap"]
    assert gap["tier"] == "gold" and gap["missing"] == 2
    assert [item["text"] for item in gap["items"]] == [
        "needs 73,400 more revenue in the trailing 12 months",
        "needs 2 more certified_staff in the current month",
    ]
    assert Decimal(gap["items"][0]["shortfall"]) == Decimal(73400)
    # The explanation reads the rules the run stored, not today's version.
    services.save_draft(actor=vendor_admin, program=program, content=ladder())
    services.publish_version(actor=vendor_admin, program=program)
    assert selectors.explain_result(result_of(run, org))["gap"] == gap


def test_at_least_n_gap_reports_how_many_must_turn(vendor_admin: Any) -> None:
    content = {
        "grace_days": 90,
        "hysteresis_pct": "5",
        "tiers": [
            tier("registered"),
            tier(
                "platinum",
                criterion(1000),
                criterion(1, metric="orders"),
                criterion(2, metric="certified_staff", window="month"),
                criterion("4.5", metric="csat"),
                combine="at_least",
                at_least=3,
            ),
        ],
    }
    program = make_program(vendor_admin, content)
    org = partners(1)[0]
    sell(org, D(2026, 3, 1), 400)  # orders 1 passes; revenue, staff, csat do not
    run = apply(vendor_admin, program, D(2026, 3, 31))
    gap = selectors.explain_result(result_of(run, org))["gap"]
    assert gap["tier"] == "platinum"
    assert gap["missing"] == 2
    assert [item["metric"] for item in gap["items"]] == ["revenue", "certified_staff", "csat"]
    assert gap["items"][2]["text"] == ("needs csat ≥ 4.5 in the trailing 12 months (no data yet)")


def test_an_as_of_the_engine_refuses_is_a_validation_error(vendor_admin: Any) -> None:
    """Bad input the KPI engine refuses comes back keyed by its field, never a crash."""
    program = make_program(vendor_admin)
    partners(1)
    with pytest.raises(ValidationError) as raised:
        evaluate_program(actor=vendor_admin, program=program, as_of=D(1800, 1, 1), apply=False)
    assert list(raised.value.message_dict) == ["as_of"]
    assert not EvaluationRun.objects.exists()


# -- the scheduled job -----------------------------------------------------------------------
def test_run_due_evaluates_what_is_due_and_reports_what_cannot_be(vendor_admin: Any) -> None:
    org = partners(1)[0]
    sell(org, D(2026, 3, 1), 1500)
    due = make_program(
        vendor_admin, code="due", schedule_enabled=True, next_evaluation=D(2026, 3, 31)
    )
    later = make_program(
        vendor_admin, code="later", schedule_enabled=True, next_evaluation=D(2026, 4, 1)
    )
    drafty = make_program(
        vendor_admin,
        code="drafty",
        publish=False,
        schedule_enabled=True,
        next_evaluation=D(2026, 3, 1),
    )
    done = run_due(D(2026, 3, 31))
    run = EvaluationRun.objects.get(program=due)
    assert done == [
        {
            "program": "drafty",
            "as_of": "2026-03-01",
            "error": ["The program has no published version to evaluate."],
        },
        {"program": "due", "as_of": "2026-03-31", "run": run.pk},
    ]
    assert (run.as_of, run.applied, run.trigger, run.created_by) == (
        D(2026, 3, 31),
        True,
        "schedule",
        None,
    )
    assert membership(due, org).tier_code == "silver"
    due.refresh_from_db()
    assert due.next_evaluation == D(2026, 6, 30)  # one quarter on
    assert not EvaluationRun.objects.filter(program__in=[later, drafty]).exists()
    drafty.refresh_from_db()
    assert drafty.next_evaluation == D(2026, 3, 1)  # retried tomorrow
    assert run_due(D(2026, 3, 31))[1:] == []  # nothing due twice


def test_previews_need_the_right_to_evaluate(
    vendor_admin: Any, analyst: Any, partner_a_user: Any
) -> None:
    """A preview stores a run over the whole network: viewers of the program may not."""
    program = make_program(vendor_admin)
    for user in (analyst, partner_a_user):
        with pytest.raises(PermissionDenied):
            evaluate_program(actor=user, program=program, as_of=D(2026, 3, 31), apply=False)
    assert not EvaluationRun.objects.exists()
