"""KPI fixtures: hand-countable sales, stock, deliveries, surveys and certifications."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from accord.channel.services import record_sales_lines
from tests.channel.factories import (
    CertificationFactory,
    DeliveryFactory,
    ExchangeRateFactory,
    InventorySnapshotFactory,
    ProductCategoryFactory,
    ProductFactory,
    SurveyResponseFactory,
    sales_line,
)

D = dt.date


def line(organisation: Any, day: dt.date, amount: str, **fields: Any) -> Any:
    fields.setdefault("quantity", Decimal("1"))
    return sales_line(organisation, date=day, amount=Decimal(amount), unit_price=None, **fields)


@pytest.fixture
def facts(partner_a: Any, partner_b: Any) -> dict[str, Any]:
    """Partner A's facts (the figures in the docstrings of the tests); B has sales in 2025 only.

    Sell-in of A, USD unless said: 2025-01-15 80 (SO-Y) · 2025-12-31 300 (SO-0) ·
    Q1 2026: 01-10 SO-1 bike x2 100 cost 60 · 02-20 SO-2 helmet 200 + bike 50 ·
    03-05 SO-4 bike 100 EUR (x1.1 = 110.00) · 03-20 SO-5 helmet 40 · 04-01 SO-3 1000.
    """
    bikes = ProductCategoryFactory(key="bikes", name="Bikes")
    road = ProductCategoryFactory(key="road", name="Road", parent=bikes)
    bike = ProductFactory(key="BK-1", category=road)
    helmet = ProductFactory(key="HL-1", category=ProductCategoryFactory(key="gear"))
    ExchangeRateFactory(currency="EUR", valid_from=D(2025, 1, 1), rate=Decimal("1.1"))
    a, b = partner_a, partner_b
    record_sales_lines(
        actor=None,
        lines=[
            line(a, D(2025, 1, 15), "80", order_number="SO-Y", product=bike),
            line(a, D(2025, 12, 31), "300", order_number="SO-0", product=bike),
            line(
                a,
                D(2026, 1, 10),
                "100",
                order_number="SO-1",
                product=bike,
                quantity=Decimal("2"),
                cost_base=Decimal("60"),
            ),
            line(a, D(2026, 2, 20), "200", order_number="SO-2", product=helmet),
            line(a, D(2026, 2, 20), "50", order_number="SO-2", product=bike),
            line(a, D(2026, 3, 5), "100", order_number="SO-4", product=bike, currency="EUR"),
            line(a, D(2026, 3, 20), "40", order_number="SO-5", product=helmet),
            line(a, D(2026, 4, 1), "1000", order_number="SO-3", product=bike),
            # sell-through of A to end customers
            line(
                a,
                D(2026, 3, 2),
                "70",
                direction="sell_through",
                order_number="R-1",
                product=bike,
                quantity=Decimal("6"),
                end_customer_key="C1",
            ),
            line(
                a,
                D(2026, 3, 9),
                "30",
                direction="sell_through",
                order_number="R-2",
                product=helmet,
                quantity=Decimal("4"),
                end_customer_key="C2",
            ),
            line(
                a,
                D(2026, 3, 25),
                "30",
                direction="sell_through",
                order_number="R-3",
                product=helmet,
                quantity=Decimal("2"),
                end_customer_key="C1",
            ),
            line(b, D(2025, 11, 3), "500", order_number="B-1", product=bike),
        ],
    )
    # Stock of A: 03-01 10+6 units, 03-31 8 units (March average 12, latest 8).
    InventorySnapshotFactory(organisation=a, product=bike, date=D(2026, 3, 1), on_hand=10)
    InventorySnapshotFactory(
        organisation=a, product=helmet, date=D(2026, 3, 1), on_hand=6, location="Shop"
    )
    InventorySnapshotFactory(organisation=a, product=bike, date=D(2026, 3, 31), on_hand=8)
    # Deliveries of A promised in March: 10/8 on time, 5/5 late, 4/0 not yet delivered.
    DeliveryFactory(organisation=a, promised_date=D(2026, 3, 10), actual_date=D(2026, 3, 10))
    DeliveryFactory(
        organisation=a,
        promised_date=D(2026, 3, 12),
        actual_date=D(2026, 3, 20),
        ordered_quantity=5,
        filled_quantity=5,
    )
    DeliveryFactory(
        organisation=a,
        promised_date=D(2026, 3, 30),
        actual_date=None,
        ordered_quantity=4,
        filled_quantity=0,
    )
    DeliveryFactory(organisation=a, promised_date=D(2026, 4, 1))  # next month
    # Surveys of A in March: csat 5, 4, 2 (mean 11/3); nps 10, 9, 7, 3 -> (2-1)/4 = 25.
    SurveyResponseFactory(organisation=a, date=D(2026, 3, 1), csat=5, nps=10)
    SurveyResponseFactory(organisation=a, date=D(2026, 3, 2), csat=4, nps=9)
    SurveyResponseFactory(organisation=a, date=D(2026, 3, 3), csat=2, nps=7)
    SurveyResponseFactory(organisation=a, date=D(2026, 3, 4), csat=None, nps=3)
    SurveyResponseFactory(
        organisation=a, date=D(2026, 3, 5), csat=1, nps=0, respondent_side="partner"
    )
    # Certifications of A: Ann x2 (counts once), Bo expires 2026-03-31, Cy earned 2026-04-02.
    CertificationFactory(organisation=a, person="Ann", name="Sales", earned_on=D(2025, 1, 1))
    CertificationFactory(
        organisation=a, person="Ann", name="Tech", earned_on=D(2025, 1, 1), expires_on=None
    )
    CertificationFactory(
        organisation=a, person="Bo", earned_on=D(2025, 1, 1), expires_on=D(2026, 3, 31)
    )
    CertificationFactory(organisation=a, person="Cy", earned_on=D(2026, 4, 2))
    return {"a": a, "b": b, "bike": bike, "helmet": helmet}
