"""The KPI engine against hand-computed figures (see the facts fixture in conftest.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accord.channel.services import record_sales_lines
from accord.metrics.engine import Period, compute, periods_for
from accord.partners.models import Organisation
from tests.metrics.conftest import line

D = dt.date


def orgs(*organisations: Any) -> Any:
    return Organisation.objects.filter(pk__in=[o.pk for o in organisations])


def values(table: Any, organisation: Any, start: dt.date | None = None) -> dict[str, Any]:
    for row in table.rows:
        if row.organisation_id == organisation.pk and (start is None or row.period.start == start):
            return row.values
    raise AssertionError("no row")


def inputs(table: Any, organisation: Any, code: str, start: dt.date | None = None) -> dict:
    for row in table.rows:
        if row.organisation_id == organisation.pk and (start is None or row.period.start == start):
            return row.inputs[code]
    raise AssertionError("no row")


# -- periods --------------------------------------------------------------------
def test_periods_are_half_open_and_end_with_the_one_holding_as_of() -> None:
    assert periods_for("quarter", D(2026, 5, 15), 3) == [
        Period("quarter", D(2025, 10, 1), D(2026, 1, 1), True),
        Period("quarter", D(2026, 1, 1), D(2026, 4, 1), True),
        Period("quarter", D(2026, 4, 1), D(2026, 7, 1), False),
    ]
    assert periods_for("month", D(2026, 3, 31)) == [
        Period("month", D(2026, 3, 1), D(2026, 4, 1), True)
    ]
    assert periods_for("year", D(2026, 1, 1)) == [
        Period("year", D(2026, 1, 1), D(2027, 1, 1), False)
    ]


def test_trailing_periods_are_cut_at_as_of_and_roll_by_a_month() -> None:
    assert periods_for("trailing_3", D(2026, 3, 15), 2) == [
        Period("trailing_3", D(2025, 12, 1), D(2026, 3, 1), True),
        Period("trailing_3", D(2026, 1, 1), D(2026, 3, 16), True),
    ]


@pytest.mark.parametrize("kind", ["week", "trailing_0", "trailing_x", "", "trailing_999"])
def test_unknown_period_kinds_are_refused(kind: str) -> None:
    with pytest.raises(ValueError, match="period"):
        periods_for(kind, D(2026, 1, 1))


# -- sales ----------------------------------------------------------------------
def test_quarterly_sales_metrics_by_hand(facts: dict) -> None:
    a, b = facts["a"], facts["b"]
    table = compute(
        ["revenue", "gross_margin", "orders", "average_order_value", "distinct_products"],
        period="quarter",
        as_of=D(2026, 3, 31),
        organisations=orgs(a, b),
    )
    # 100 + 200 + 50 + 110 (100 EUR at 1.1) + 40; 2026-04-01 is next quarter's.
    assert values(table, a) == {
        "revenue": Decimal("500.00"),
        "gross_margin": Decimal("0.400000"),  # only SO-1 is costed: (100 - 60) / 100
        "orders": Decimal(4),
        "average_order_value": Decimal("125.00"),
        "distinct_products": Decimal(2),
    }
    assert values(table, b) == {
        "revenue": Decimal("0.00"),
        "gross_margin": None,
        "orders": Decimal(0),
        "average_order_value": None,
        "distinct_products": Decimal(0),
    }
    assert inputs(table, a, "revenue") == {
        "direction": "sell_in",
        "window": "[2026-01-01, 2026-04-01)",
        "source": "quarter rollup",
        "revenue": "500.00",
        "currency": "USD",
    }
    assert inputs(table, b, "revenue")["activity"] == "none"


def test_growth_against_previous_period_and_last_year(facts: dict) -> None:
    a, b = facts["a"], facts["b"]
    table = compute(
        ["growth", "growth_yoy"], period="quarter", as_of=D(2026, 3, 31), organisations=orgs(a, b)
    )
    # (500 - 300) / 300 and (500 - 80) / 80
    assert values(table, a) == {"growth": Decimal("0.666667"), "growth_yoy": Decimal("5.250000")}
    # B sold 500 in Q4 2025 and nothing since: -100 %; nothing a year ago: undefined.
    assert values(table, b) == {"growth": Decimal("-1.000000"), "growth_yoy": None}
    explained = inputs(table, a, "growth")
    assert explained["current"] == "500.00"
    assert explained["previous"] == "300.00"
    assert explained["previous_window"] == "[2025-10-01, 2026-01-01)"
    assert inputs(table, b, "growth_yoy")["undefined"] == "previous revenue is zero"


def test_growth_with_zero_previous_is_none(facts: dict) -> None:
    a = facts["a"]
    table = compute(["growth"], period="month", as_of=D(2025, 1, 31), organisations=orgs(a))
    assert values(table, a) == {"growth": None}


def test_a_line_on_the_end_date_belongs_to_the_next_period(facts: dict) -> None:
    a = facts["a"]
    table = compute(
        ["revenue"], period="quarter", as_of=D(2026, 4, 1), periods=2, organisations=orgs(a)
    )
    assert [row.values["revenue"] for row in table.rows] == [Decimal("500.00"), Decimal("1000.00")]
    assert [row.period.complete for row in table.rows] == [True, False]


def test_as_of_inside_a_period_excludes_later_lines_and_says_so(facts: dict) -> None:
    a = facts["a"]
    table = compute(
        ["revenue", "orders", "growth"],
        period="quarter",
        as_of=D(2026, 3, 15),
        organisations=orgs(a),
    )
    # The 03-20 line (40) is after as_of.
    assert values(table, a) == {
        "revenue": Decimal("460.00"),
        "orders": Decimal(3),
        "growth": Decimal("0.533333"),
    }
    assert table.rows[0].period.complete is False
    # Distinct counts need the raw lines of the open period; revenue shares that query.
    assert inputs(table, a, "orders")["source"] == "raw lines (period incomplete at as_of)"
    assert inputs(table, a, "revenue")["source"] == "raw lines (period incomplete at as_of)"
    alone = compute(["revenue"], period="quarter", as_of=D(2026, 3, 15), organisations=orgs(a))
    assert values(alone, a) == {"revenue": Decimal("460.00")}
    assert inputs(alone, a, "revenue")["source"] == (
        "2 month rollups + raw lines [2026-03-01, 2026-03-16)"
    )
    assert inputs(table, a, "growth")["note"] == "current window cut at as_of"


def test_trailing_window_reads_months_and_the_cut_month(facts: dict) -> None:
    a = facts["a"]
    table = compute(
        ["revenue", "distinct_products"],
        period="trailing_3",
        as_of=D(2026, 3, 15),
        organisations=orgs(a),
    )
    assert values(table, a) == {"revenue": Decimal("460.00"), "distinct_products": Decimal(2)}
    table = compute(["revenue"], period="trailing_4", as_of=D(2026, 2, 28), organisations=orgs(a))
    assert values(table, a) == {"revenue": Decimal("650.00")}  # 300 + 100 + 250
    assert inputs(table, a, "revenue")["source"] == "4 month rollups"


def test_currencies_are_converted_at_the_line_date(facts: dict) -> None:
    a = facts["a"]
    table = compute(["revenue"], period="month", as_of=D(2026, 3, 31), organisations=orgs(a))
    assert values(table, a) == {"revenue": Decimal("150.00")}  # 100 EUR x 1.1 + 40 USD


def test_sell_through_revenue_and_distinct_customers(facts: dict) -> None:
    a = facts["a"]
    table = compute(
        ["sell_through_revenue", "distinct_customers"],
        period="month",
        as_of=D(2026, 3, 31),
        organisations=orgs(a),
    )
    assert values(table, a) == {
        "sell_through_revenue": Decimal("130.00"),
        "distinct_customers": Decimal(2),
    }


# -- operations, market ------------------------------------------------------------
def test_inventory_turnover_and_weeks_of_supply(facts: dict) -> None:
    a, b = facts["a"], facts["b"]
    table = compute(
        ["inventory_turnover", "weeks_of_supply"],
        period="month",
        as_of=D(2026, 3, 31),
        organisations=orgs(a, b),
    )
    # Sold through 12 units; snapshots 16 and 8 units: average 12 -> 1 turn.
    # Weekly sales 12 / (31 / 7); latest on hand 8 -> 8 * 31 / (7 * 12) = 2.952381 weeks.
    assert values(table, a) == {
        "inventory_turnover": Decimal("1.000000"),
        "weeks_of_supply": Decimal("2.952381"),
    }
    assert values(table, b) == {"inventory_turnover": None, "weeks_of_supply": None}
    assert inputs(table, a, "weeks_of_supply")["latest_on_hand"] == "8.000"


def test_fill_rate_and_on_time_delivery(facts: dict) -> None:
    a, b = facts["a"], facts["b"]
    table = compute(
        ["fill_rate", "on_time_delivery"],
        period="month",
        as_of=D(2026, 3, 31),
        organisations=orgs(a, b),
    )
    # Filled 8 + 5 of 10 + 5 + 4 ordered; 1 of 2 delivered on time.
    assert values(table, a) == {
        "fill_rate": Decimal("0.684211"),
        "on_time_delivery": Decimal("0.500000"),
    }
    assert values(table, b) == {"fill_rate": None, "on_time_delivery": None}
    # As of 03-15: promised by then 10 + 5, the late one (03-20) not delivered yet: 8 of 15.
    early = compute(
        ["fill_rate", "on_time_delivery"],
        period="month",
        as_of=D(2026, 3, 15),
        organisations=orgs(a),
    )
    assert values(early, a) == {
        "fill_rate": Decimal("0.533333"),
        "on_time_delivery": Decimal("1.000000"),
    }


def test_csat_and_nps_of_end_customers(facts: dict) -> None:
    a, b = facts["a"], facts["b"]
    table = compute(["csat", "nps"], period="month", as_of=D(2026, 3, 31), organisations=orgs(a, b))
    assert values(table, a) == {"csat": Decimal("3.666667"), "nps": Decimal("25.000000")}
    assert values(table, b) == {"csat": None, "nps": None}
    assert inputs(table, a, "nps") == {
        "window": "[2026-03-01, 2026-04-01)",
        "source": "survey responses in the window",
        "respondent_side": "customer",
        "formula": "100 * (promoters - detractors) / responses",
        "promoters": "2",
        "detractors": "1",
        "responses": "4",
    }


def test_certified_staff_at_period_end_or_as_of(facts: dict) -> None:
    a, b = facts["a"], facts["b"]
    table = compute(
        ["certified_staff"],
        period="month",
        as_of=D(2026, 4, 30),
        periods=2,
        organisations=orgs(a, b),
    )
    # End of March: Ann, Bo (expires 03-31, valid on 03-31? no: expires_on is the first
    # invalid day) -> Ann only... Bo's certificate ends on 03-31, so on 03-31 only Ann.
    assert [row.values["certified_staff"] for row in table.rows if row.organisation_id == a.pk] == [
        Decimal(1),
        Decimal(2),  # end of April: Ann and Cy
    ]
    assert values(table, b) == {"certified_staff": Decimal(0)}
    mid_april = compute(
        ["certified_staff"], period="month", as_of=D(2026, 4, 1), organisations=orgs(a)
    )
    assert values(mid_april, a) == {"certified_staff": Decimal(1)}  # Cy not yet
    assert inputs(mid_april, a, "certified_staff")["valid_on"] == "2026-04-01"
    march_30 = compute(
        ["certified_staff"], period="month", as_of=D(2026, 3, 30), organisations=orgs(a)
    )
    assert values(march_30, a) == {"certified_staff": Decimal(2)}  # Ann and Bo


# -- engine properties --------------------------------------------------------------
def test_unknown_metric_is_a_clear_value_error(facts: dict) -> None:
    with pytest.raises(ValueError, match=r"Unknown metric: nope\. Known metrics: .*revenue"):
        compute(["revenue", "nope"], period="month", as_of=D(2026, 3, 1), organisations=orgs())


def test_specific_versions_can_be_named(facts: dict) -> None:
    a = facts["a"]
    table = compute(["revenue@1"], period="month", as_of=D(2026, 3, 31), organisations=orgs(a))
    assert values(table, a) == {"revenue": Decimal("150.00")}
    with pytest.raises(ValueError, match="revenue@7"):
        compute(["revenue@7"], period="month", as_of=D(2026, 3, 31), organisations=orgs(a))


ALL = [
    "revenue",
    "sell_through_revenue",
    "gross_margin",
    "growth",
    "growth_yoy",
    "orders",
    "average_order_value",
    "distinct_products",
    "distinct_customers",
    "inventory_turnover",
    "weeks_of_supply",
    "fill_rate",
    "on_time_delivery",
    "csat",
    "nps",
    "certified_staff",
]


def _count_queries(organisations: Any, period: str, as_of: dt.date) -> int:
    with CaptureQueriesContext(connection) as captured:
        table = compute(ALL, period=period, as_of=as_of, periods=3, organisations=organisations)
        for row in table.rows:
            assert row.inputs.keys() == row.values.keys()
    return len(captured)


@pytest.mark.parametrize(
    ("period", "as_of"),
    [("quarter", D(2026, 3, 31)), ("month", D(2026, 3, 15)), ("trailing_3", D(2026, 3, 15))],
)
def test_query_count_does_not_grow_with_organisations(
    facts: dict, period: str, as_of: dt.date
) -> None:
    from tests.factories import OrganisationFactory

    few = [facts["a"], facts["b"], OrganisationFactory()]
    many = few + OrganisationFactory.create_batch(27)
    assert len(many) == 30
    assert _count_queries(orgs(*few), period, as_of) == _count_queries(orgs(*many), period, as_of)


def test_same_as_of_gives_the_same_values(facts: dict) -> None:
    a, b = facts["a"], facts["b"]
    first = compute(ALL, period="month", as_of=D(2026, 3, 15), periods=4, organisations=orgs(a, b))
    # Facts dated after as_of arrive later; the past evaluation does not move.
    record_sales_lines(actor=None, lines=[line(a, D(2026, 3, 16), "999", order_number="LATE")])
    second = compute(ALL, period="month", as_of=D(2026, 3, 15), periods=4, organisations=orgs(a, b))
    assert [(r.organisation_id, r.period, r.values) for r in first.rows] == [
        (r.organisation_id, r.period, r.values) for r in second.rows
    ]


def test_overlapping_windows_share_one_query_per_fact_family(facts: dict) -> None:
    a = facts["a"]
    table = compute(
        ["csat", "nps", "fill_rate", "inventory_turnover"],
        period="trailing_3",
        as_of=D(2026, 3, 15),
        periods=2,
        organisations=orgs(a),
    )
    first, second = (row.values for row in table.rows)
    assert first == {"csat": None, "nps": None, "fill_rate": None, "inventory_turnover": None}
    # [2026-01-01, 2026-03-16): the four March answers up to the 15th, deliveries promised
    # by then (8 of 15), one snapshot date (16 units) against 10 units sold through.
    assert second == {
        "csat": Decimal("3.666667"),
        "nps": Decimal("25.000000"),
        "fill_rate": Decimal("0.533333"),
        "inventory_turnover": Decimal("0.625000"),
    }


def test_a_two_year_monthly_history_of_every_metric_is_a_few_dozen_queries(facts: dict) -> None:
    with CaptureQueriesContext(connection) as captured:
        table = compute(
            ALL, period="month", as_of=D(2026, 3, 15), periods=24, organisations=orgs(facts["a"])
        )
    assert len(table.rows) == 24
    # Sales: one query per rollup grain + the open month's raw lines; inventory, deliveries,
    # surveys, certifications: one each.
    assert len(captured) <= 10, [q["sql"][:80] for q in captured]


def test_two_versions_of_one_metric_in_one_computation_are_refused(
    facts: dict, channel_manager: Any
) -> None:
    from accord.metrics.services import define_metric

    define_metric(actor=channel_manager, code="revenue", data={"name": "Revenue v2"})
    with pytest.raises(ValueError, match="Name metric revenue once"):
        compute(["revenue@1", "revenue"], period="month", as_of=D(2026, 3, 1), organisations=orgs())


def test_rows_are_a_sequence_made_on_demand(facts: dict) -> None:
    a, b = facts["a"], facts["b"]
    table = compute(
        ["revenue"],
        period="quarter",
        as_of=D(2026, 4, 1),
        periods=2,
        organisations=orgs(a, b).order_by("name"),
    )
    rows = table.rows
    listed = list(rows)
    assert len(rows) == len(listed) == 4
    # Organisation-major, oldest period first; indexing and slicing agree with iteration.
    keys = [(row.organisation_id, row.period.start) for row in listed]
    assert (
        keys
        == [(rows[i].organisation_id, rows[i].period.start) for i in range(-4, 0)]
        == [(r.organisation_id, r.period.start) for r in rows[0:4]]
    )
    assert [k[0] for k in keys] == [a.pk, a.pk, b.pk, b.pk]
    assert rows[-1].values == listed[3].values
    with pytest.raises(IndexError):
        rows[4]
