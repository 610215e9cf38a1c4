"""Set-based evaluation through the real database and KPI engine: half-open period
boundaries, scope, certifications on the day, metric versions pinned at publish, and the
next evaluation date."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from accord.metrics.services import define_metric
from accord.partners.models import Organisation, Tag
from accord.programs.evaluation import next_evaluation
from accord.programs.models import Criterion, EvaluationRun
from accord.programs.services import evaluate_program, publish_version, save_draft
from tests.factories import OrganisationFactory
from tests.programs.builders import (
    D,
    certify,
    criterion,
    make_program,
    partners,
    sell,
    tier,
)


def preview(actor: Any, program: Any, as_of: dt.date) -> EvaluationRun:
    return evaluate_program(actor=actor, program=program, as_of=as_of, apply=False)


def by_org(run: EvaluationRun) -> dict[int, Any]:
    return {result.organisation_id: result for result in run.results.all()}


def one_tier(window: str = "trailing_12", threshold: Any = 100, **kw: Any) -> dict[str, Any]:
    return {
        "grace_days": 0,
        "hysteresis_pct": "0",
        "tiers": [tier("member", criterion(threshold, window=window, **kw))],
    }


@pytest.mark.parametrize(
    ("as_of", "first_day"),
    [
        (D(2026, 3, 31), D(2025, 4, 1)),  # month end
        (D(2026, 3, 15), D(2025, 4, 1)),  # mid month: the window is cut at as_of
        (D(2024, 2, 29), D(2023, 3, 1)),  # leap day
        (D(2026, 1, 1), D(2025, 2, 1)),  # first day of a year
    ],
)
def test_trailing_window_is_half_open(
    vendor_admin: Any, as_of: dt.date, first_day: dt.date
) -> None:
    """trailing_12 at as_of reads [first day of the month 11 months back, as_of + 1 day):
    a sale on as_of counts, one on as_of + 1 does not; one on the window's first day
    counts, one the day before does not."""
    program = make_program(vendor_admin, one_tier())
    on_as_of, after, on_first, before = partners(4)
    sell(on_as_of, as_of, 100)
    sell(after, as_of + dt.timedelta(days=1), 100)
    sell(on_first, first_day, 100)
    sell(before, first_day - dt.timedelta(days=1), 100)
    results = by_org(preview(vendor_admin, program, as_of))
    key = "revenue@trailing_12"
    assert Decimal(results[on_as_of.pk].values[key]) == 100
    assert Decimal(results[after.pk].values[key]) == 0
    assert Decimal(results[on_first.pk].values[key]) == 100
    assert Decimal(results[before.pk].values[key]) == 0
    assert results[on_as_of.pk].qualified_tier == "member"
    assert results[after.pk].qualified_tier == ""
    assert results[on_first.pk].qualified_tier == "member"
    assert results[before.pk].qualified_tier == ""


@pytest.mark.parametrize(
    ("window", "as_of", "first_day"),
    [
        ("quarter", D(2026, 5, 20), D(2026, 4, 1)),
        ("month", D(2026, 5, 20), D(2026, 5, 1)),
        ("year", D(2026, 5, 20), D(2026, 1, 1)),
        ("trailing_3", D(2026, 5, 20), D(2026, 3, 1)),
    ],
)
def test_calendar_windows_are_half_open(
    vendor_admin: Any, window: str, as_of: dt.date, first_day: dt.date
) -> None:
    program = make_program(vendor_admin, one_tier(window))
    on_as_of, after, on_first, before = partners(4)
    sell(on_as_of, as_of, 100)
    sell(after, as_of + dt.timedelta(days=1), 100)
    sell(on_first, first_day, 100)
    sell(before, first_day - dt.timedelta(days=1), 100)
    results = by_org(preview(vendor_admin, program, as_of))
    qualified = {org: results[org.pk].qualified_tier for org in (on_as_of, after, on_first, before)}
    assert qualified == {on_as_of: "member", after: "", on_first: "member", before: ""}


def test_certified_staff_on_the_day(vendor_admin: Any) -> None:
    """A certification counts from earned_on; expires_on is its first invalid day."""
    as_of = D(2026, 6, 30)
    program = make_program(vendor_admin, one_tier("month", 1, metric="certified_staff"))
    expires_today, expires_tomorrow, earned_today, earned_tomorrow = partners(4)
    certify(expires_today, 1, earned=D(2025, 1, 1), expires=as_of)
    certify(expires_tomorrow, 1, earned=D(2025, 1, 1), expires=as_of + dt.timedelta(days=1))
    certify(earned_today, 1, earned=as_of, expires=None)
    certify(earned_tomorrow, 1, earned=as_of + dt.timedelta(days=1), expires=None)
    results = by_org(preview(vendor_admin, program, as_of))
    assert {
        org: results[org.pk].qualified_tier
        for org in (expires_today, expires_tomorrow, earned_today, earned_tomorrow)
    } == {
        expires_today: "",
        expires_tomorrow: "member",
        earned_today: "member",
        earned_tomorrow: "",
    }


def test_scope_kinds_regions_tags(vendor_admin: Any, vendor: Organisation) -> None:
    gold = Tag.objects.create(name="gold-club")
    inside = OrganisationFactory(kind="reseller", country="CN", region="Jiangsu")
    inside.tags.add(gold)
    by_country = OrganisationFactory(kind="reseller", country="DE")
    by_country.tags.add(gold)
    wrong_kind = OrganisationFactory(kind="supplier", country="CN")
    wrong_kind.tags.add(gold)
    untagged = OrganisationFactory(kind="reseller", country="CN", region="Jiangsu")
    terminated = OrganisationFactory(
        kind="reseller", country="CN", status=Organisation.Status.TERMINATED
    )
    terminated.tags.add(gold)
    program = make_program(
        vendor_admin,
        one_tier(),
        kinds=["reseller"],
        regions=["Jiangsu", "DE"],
        tags=["gold-club"],
    )
    run = preview(vendor_admin, program, D(2026, 3, 31))
    assert set(by_org(run)) == {inside.pk, by_country.pk}
    assert run.organisation_count == 2
    assert vendor.pk not in by_org(run)
    assert wrong_kind.pk not in by_org(run) and untagged.pk not in by_org(run)
    assert terminated.pk not in by_org(run)
    # No scope: every partner (never the vendor, never a terminated one).
    everyone = make_program(vendor_admin, one_tier(), code="everyone")
    orgs = set(by_org(preview(vendor_admin, everyone, D(2026, 3, 31))))
    assert orgs == {inside.pk, by_country.pk, wrong_kind.pk, untagged.pk}


def test_metric_versions_are_pinned_at_publish(vendor_admin: Any) -> None:
    """Criteria are pinned on the metric's current version when the version goes live: a
    later metric version (here revenue redefined as sell-through) changes nothing."""
    content = {**one_tier(), "cost_basis_metric": "orders"}
    program = make_program(vendor_admin, content)
    assert list(
        Criterion.objects.filter(tier__version__program=program).values_list(
            "metric_version", flat=True
        )
    ) == [1]
    seller = partners(1)[0]
    sell(seller, D(2026, 3, 1), 150)
    sell(seller, D(2026, 3, 2), 90, direction="sell_through")
    before = by_org(preview(vendor_admin, program, D(2026, 3, 31)))[seller.pk]
    define_metric(
        actor=vendor_admin, code="revenue", data={"params": {"direction": "sell_through"}}
    )
    after = by_org(preview(vendor_admin, program, D(2026, 3, 31)))[seller.pk]
    assert before.values == after.values
    assert after.values["revenue@trailing_12"] == "150.00"
    assert after.qualified_tier == "member"
    assert after.run.inputs["rules"]["tiers"][0]["criteria"][0]["spec"] == "revenue@1"
    # A draft published afterwards pins the new version.
    save_draft(actor=vendor_admin, program=program, content=content)
    publish_version(actor=vendor_admin, program=program)
    newer = by_org(preview(vendor_admin, program, D(2026, 3, 31)))[seller.pk]
    assert newer.values["revenue@trailing_12"] == "90.00"
    assert newer.qualified_tier == ""


def test_a_new_version_of_the_cost_basis_metric_does_not_break_evaluation(
    vendor_admin: Any,
) -> None:
    program = make_program(vendor_admin, one_tier())  # cost basis: revenue, trailing_12
    seller = partners(1)[0]
    sell(seller, D(2026, 3, 1), 150)
    before = preview(vendor_admin, program, D(2026, 3, 31))
    define_metric(
        actor=vendor_admin, code="revenue", data={"params": {"direction": "sell_through"}}
    )
    after = preview(vendor_admin, program, D(2026, 3, 31))
    assert by_org(after)[seller.pk].values == by_org(before)[seller.pk].values
    assert after.summary["cost"] == before.summary["cost"]


@pytest.mark.parametrize(
    ("cadence", "as_of", "expected"),
    [
        ("quarter", D(2026, 3, 31), D(2026, 6, 30)),
        ("quarter", D(2026, 9, 30), D(2026, 12, 31)),  # quarter ends stay quarter ends
        ("quarter", D(2026, 11, 30), D(2027, 2, 28)),
        ("month", D(2026, 2, 28), D(2026, 3, 31)),
        ("month", D(2026, 2, 27), D(2026, 3, 27)),
        ("quarter", D(2025, 11, 30), D(2026, 2, 28)),  # a shorter month: its last day
        ("quarter", D(2026, 1, 15), D(2026, 4, 15)),
        ("month", D(2026, 1, 31), D(2026, 2, 28)),
        ("month", D(2024, 1, 31), D(2024, 2, 29)),
        ("month", D(2026, 12, 10), D(2027, 1, 10)),
    ],
)
def test_next_evaluation_is_one_cadence_later(
    vendor_admin: Any, cadence: str, as_of: dt.date, expected: dt.date
) -> None:
    program = make_program(vendor_admin, one_tier(), cadence=cadence)
    assert next_evaluation(program, as_of) == expected


def test_values_of_every_criterion_are_computed_once_per_window(vendor_admin: Any) -> None:
    """Two tiers on revenue and one on csat: each (metric, window) is one stored value."""
    content = {
        "grace_days": 30,
        "hysteresis_pct": "5",
        "tiers": [
            tier("a", criterion(100)),
            tier("b", criterion(1000), criterion("4", metric="csat", window="trailing_12")),
            tier("c", criterion(500, window="quarter")),
        ],
    }
    program = make_program(vendor_admin, content)
    seller = partners(1)[0]
    sell(seller, D(2026, 2, 1), 600)
    result = by_org(preview(vendor_admin, program, D(2026, 3, 31)))[seller.pk]
    assert result.values == {
        "revenue@trailing_12": "600.00",
        "csat@trailing_12": None,
        "revenue@quarter": "600.00",
    }
    # c (rank 2) passes on its own: qualification is the highest passing tier.
    assert result.qualified_tier == "c"
