"""Channel rows on both sides: partner A (and its child) and partner B, plus shared master data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from accord.accounts.models import Role, User
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
from tests.factories import UserFactory


@pytest.fixture
def channel(partner_a, partner_a_child, partner_b) -> dict[str, Any]:
    """One row of each fact for A, A's child and B; the ids keyed ``a_*`` / ``b_*``."""
    category = ProductCategoryFactory(key="bikes", name="Bikes")
    bike = ProductFactory(key="BK-1", name="Road bike", category=category)
    helmet = ProductFactory(key="HL-1", name="Helmet", category=ProductCategoryFactory())
    ExchangeRateFactory(currency="EUR", valid_from=dt.date(2026, 1, 1), rate=Decimal("1.1"))
    ExchangeRateFactory(currency="EUR", valid_from=dt.date(2026, 3, 1), rate=Decimal("1.2"))
    ExchangeRateFactory(currency="CNY", valid_from=dt.date(2026, 1, 1), rate=Decimal("0.14"))
    lines = {
        "a_line": sales_line(partner_a, product=bike, source_key="a-1", order_number="SO-A1"),
        "a_through": sales_line(
            partner_a,
            product=helmet,
            direction="sell_through",
            source_key="a-2",
            order_number="ST-A2",
            date=dt.date(2026, 4, 2),
            amount=Decimal("700.00"),
            currency="CNY",
            end_customer_key="c-1",
            end_customer_name="Shanghai Cycling Club",
            end_customer_city="Shanghai",
        ),
        "child_line": sales_line(partner_a_child, product=bike, source_key="child-1"),
        "b_line": sales_line(
            partner_b,
            product=bike,
            source_key="b-1",
            order_number="SO-B1",
            amount=Decimal("80.00"),
            currency="EUR",
        ),
    }
    record_sales_lines(actor=None, lines=list(lines.values()))
    ids: dict[str, Any] = {key: line.pk for key, line in lines.items()}
    ids.update(
        a=partner_a.pk,
        a_child=partner_a_child.pk,
        b=partner_b.pk,
        bike=bike.pk,
        helmet=helmet.pk,
        bikes=category.pk,
    )
    for prefix, org in (("a", partner_a), ("b", partner_b)):
        ids[f"{prefix}_inventory"] = InventorySnapshotFactory(organisation=org, product=bike).pk
        ids[f"{prefix}_delivery"] = DeliveryFactory(organisation=org, product=bike).pk
        ids[f"{prefix}_survey"] = SurveyResponseFactory(organisation=org).pk
        ids[f"{prefix}_cert"] = CertificationFactory(
            organisation=org, person=f"Engineer of {org.name}"
        ).pk
    ids["a_expired_cert"] = CertificationFactory(
        organisation=partner_a,
        person="Expired Ed",
        earned_on=dt.date(2023, 1, 1),
        expires_on=dt.date(2025, 1, 1),
    ).pk
    return ids


@pytest.fixture
def no_channel_user(vendor) -> User:
    """Vendor staff with a role that sees organisations but no channel data."""
    role = Role.objects.create(
        code="org_reader",
        name="Organisation reader",
        scope="all",
        permissions=["partners.view_organisation"],
    )
    user = UserFactory(organisation=vendor, email="orgs@vendor.test")
    user.roles.set([role])
    return User.objects.get(pk=user.pk)
