"""Review findings: an organisation's current standing read three ways. The bulk gate
(imports, the sales-line service) read the scorecard's newest period while gates.check and
scorecards.consequence read the organisation's own; the scorecard's organisation page and
the Tiers & scores tab fell back to an older scoring's standing that no longer applies."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from accord.core import gates
from accord.partners.models import Organisation
from accord.programs import scorecards, selectors
from accord.programs.models import Score, ScorecardTemplate, Standing
from tests.programs.builders import D

pytestmark = pytest.mark.django_db


def body(response: Any) -> str:
    return response.content.decode()


@pytest.fixture
def blocking(partner_a: Organisation, partner_b: Organisation) -> ScorecardTemplate:
    """A scored 2026-Q1 with a standing that blocks orders; a later scoring (2026-Q2) has
    only B, A having left the scorecard's scope."""
    template = ScorecardTemplate.objects.create(code="suppliers", name="Supplier scorecard")
    Standing.objects.create(
        template=template,
        code="probation",
        name="Probation",
        min_score=0,
        max_score=50,
        orders="block",
    )
    Standing.objects.create(
        template=template, code="preferred", name="Preferred", min_score=50, max_score=100
    )
    for org, start, standing, overall in (
        (partner_a, D(2026, 1, 1), "probation", "20"),
        (partner_b, D(2026, 1, 1), "preferred", "80"),
        (partner_b, D(2026, 4, 1), "preferred", "85"),
    ):
        Score.objects.create(
            template=template,
            organisation=org,
            period_start=start,
            period_end=start.replace(month=start.month + 3),
            as_of=start.replace(month=start.month + 3) - dt.timedelta(days=1),
            score=Decimal(overall),
            overall=Decimal(overall),
            standing=standing,
        )
    return template


def test_bulk_gate_blocks_what_the_single_check_blocks(
    blocking: ScorecardTemplate, partner_a: Organisation, partner_b: Organisation
) -> None:
    """gates.blocked (imports, the sales-line service) read the scorecard's newest period,
    gates.check and the pages each organisation's own: A's orders showed as blocked while
    its imports went through."""
    assert gates.check("orders", partner_a.pk).level == "block"
    assert gates.check("orders", partner_b.pk).level == "none"
    blocked = gates.blocked("orders")
    assert set(blocked) == {partner_a.pk}
    assert blocked[partner_a.pk].since == D(2026, 3, 31)


@pytest.fixture
def inactive_lately(partner_a: Organisation) -> ScorecardTemplate:
    """A scored 2025-Q2 in probation; the newest scoring (2026-Q3) found no activity in any
    of its periods, so its newest period has no overall score and no standing."""
    template = ScorecardTemplate.objects.create(code="suppliers", name="Supplier scorecard")
    Standing.objects.create(
        template=template,
        code="probation",
        name="Probation",
        min_score=0,
        max_score=50,
        orders="block",
        review_meeting=True,
    )
    Standing.objects.create(
        template=template, code="preferred", name="Preferred", min_score=50, max_score=100
    )
    Score.objects.create(
        template=template,
        organisation=partner_a,
        period_start=D(2025, 4, 1),
        period_end=D(2025, 7, 1),
        as_of=D(2025, 6, 30),
        score=Decimal(20),
        overall=Decimal(20),
        standing="probation",
    )
    Score.objects.create(
        template=template,
        organisation=partner_a,
        period_start=D(2026, 7, 1),
        period_end=D(2026, 10, 1),
        as_of=D(2026, 9, 30),
        no_activity=True,
    )
    return template


def test_pages_show_no_current_standing_when_the_newest_period_has_none(
    login: Any, inactive_lately: ScorecardTemplate, partner_a: Organisation, vendor_admin: Any
) -> None:
    """The scorecard's organisation page and the Tiers & scores tab fell back to the 2025
    standing ("Probation", orders blocked) while the consequences beside it, rightly, said
    nothing is restricted."""
    assert scorecards.consequence(partner_a, "orders").level == "none"
    client = login(vendor_admin)
    page = body(client.get(f"/scorecards/suppliers/organisations/{partner_a.pk}/"))
    current = page.split('id="current-standing"', 1)[1].split('id="verdicts"', 1)[0]
    assert "Probation" not in current
    assert "No standing: no activity in any of the periods scored." in current
    context = selectors.organisation_tiers_context(vendor_admin, partner_a)
    assert context["tier_scores"] == []
