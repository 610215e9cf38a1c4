"""Survey answers by side: the vendor's own answers about a partner (relationship health
checks) stay with the vendor; the partner reads its customers' and its own side's."""

from __future__ import annotations

import datetime as dt

import pytest

from accord.accounts.models import User
from accord.channel.models import SurveyResponse
from accord.partners.models import Organisation

pytestmark = pytest.mark.django_db


def test_partners_do_not_read_the_vendor_sides_answers(
    partner_a: Organisation, partner_a_user: User, analyst: User, regional_coordinator: User
) -> None:
    for number, side in enumerate(SurveyResponse.Side.values):
        SurveyResponse.objects.create(
            organisation=partner_a,
            date=dt.date(2026, 10, 1),
            respondent_side=side,
            csat=4,
            source_key=f"side-{number}",
        )
    partner_sees = SurveyResponse.objects.restrict(partner_a_user, "view")
    assert set(partner_sees.values_list("respondent_side", flat=True)) == {"customer", "partner"}
    for staff in (analyst, regional_coordinator):
        sides = SurveyResponse.objects.restrict(staff, "view").values_list(
            "respondent_side", flat=True
        )
        assert set(sides) == {"customer", "partner", "vendor"}
