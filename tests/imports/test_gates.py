"""A scorecard standing that blocks orders: new sell-in lines of that organisation dated after
the scoring are refused — through an import (row-level report) and through the service."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from accord.channel.models import SalesLine
from accord.channel.services import record_sales_lines
from accord.core import gates
from accord.core.errors import ValidationError
from accord.programs.models import Score, ScorecardTemplate, Standing
from tests.channel.factories import sales_line
from tests.imports.conftest import SALES_MAPPING

pytestmark = pytest.mark.django_db

SCORED = dt.date(2017, 9, 30)
HEADER = "Order,Date,Reseller,Product,Qty,Amount,UnitCost\n"


@pytest.fixture
def probation(keyed):
    """Partner A on probation (orders blocked) as of 2017-09-30; partner B preferred."""
    template = ScorecardTemplate.objects.create(code="suppliers", name="Supplier scorecard")
    Standing.objects.create(
        template=template,
        code="probation",
        name="Probation",
        min_score=0,
        max_score=50,
        orders="block",
        deal_registration="warn",
        review_meeting=True,
    )
    Standing.objects.create(
        template=template, code="preferred", name="Preferred", min_score=50, max_score=100
    )
    for org, standing, overall in (
        (keyed["a"], "probation", "31.5"),
        (keyed["b"], "preferred", "88"),
    ):
        Score.objects.create(
            template=template,
            organisation=org,
            period_start=dt.date(2017, 7, 1),
            period_end=dt.date(2017, 10, 1),
            as_of=SCORED,
            score=Decimal(overall),
            overall=Decimal(overall),
            standing=standing,
        )
    return keyed


def test_blocked_lists_only_organisations_whose_standing_blocks(probation):
    blocked = gates.blocked("orders")
    assert set(blocked) == {probation["a"].pk}
    assert blocked[probation["a"].pk].since == SCORED
    assert "Probation" in blocked[probation["a"].pk].reason
    assert gates.blocked("mdf_requests") == {}
    verdict = gates.check("deal_registration", probation["a"].pk)
    assert verdict.level == "warn" and verdict.review_meeting
    assert gates.check("orders", probation["b"].pk).level == "none"


def test_import_refuses_new_orders_of_a_blocked_organisation(probation, vendor_admin, do_import):
    data = (
        HEADER
        + "SO1,9/30/2017 9:45,R-A,P-1,1,10.00,1\n"  # on the scoring day: before the block
        + "SO2,10/01/2017 9:45,R-A,P-1,1,10.00,1\n"  # after it: refused
        + "SO3,10/01/2017 9:45,R-B,P-1,1,10.00,1\n"  # another organisation: fine
    )
    result = do_import(vendor_admin, "sales_lines", data, SALES_MAPPING)
    assert result.status == "rejected"
    assert [(issue.row, issue.column) for issue in result.issues] == [(3, "Reseller")]
    assert "Probation" in result.issues[0].reason
    assert not SalesLine.objects.exists()  # all or nothing
    skipped = do_import(vendor_admin, "sales_lines", data, SALES_MAPPING, skip_invalid=True)
    assert skipped.status == "applied"
    assert set(SalesLine.objects.values_list("order_number", flat=True)) == {"SO1", "SO3"}


def test_sell_through_is_not_an_order(probation, vendor_admin, do_import):
    mapping = SALES_MAPPING.replace('direction = "sell_in"', 'direction = "sell_through"')
    data = HEADER + "SO2,10/01/2017 9:45,R-A,P-1,1,10.00,1\n"
    assert do_import(vendor_admin, "sales_lines", data, mapping).status == "applied"


def test_service_refuses_new_orders_of_a_blocked_organisation(probation):
    late = sales_line(probation["a"], date=dt.date(2017, 10, 2))
    with pytest.raises(ValidationError) as error:
        record_sales_lines(actor=None, lines=[late])
    assert "Probation" in str(error.value.message_dict["organisation"])
    assert not SalesLine.objects.exists()
    early = sales_line(probation["a"], date=dt.date(2017, 9, 1))
    assert record_sales_lines(actor=None, lines=[early]) == 1
