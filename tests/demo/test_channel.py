"""The demo network's channel data: realistic, deterministic, idempotent, rollups exact."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db.models import Count, F, Q, Sum

from accord.channel.models import (
    Certification,
    Delivery,
    ExchangeRate,
    InventorySnapshot,
    Product,
    ProductCategory,
    SalesLine,
    SalesRollup,
    SurveyResponse,
)
from accord.channel.rollups import period_key
from accord.demo.channel import SELLING_KINDS, plan_channel, window
from accord.demo.network import load_demo_network, plan_network
from accord.partners.models import Organisation

TODAY = dt.date(2026, 3, 15)
SIZE = 120
CHANNEL_MODELS = (
    Product,
    ExchangeRate,
    SalesLine,
    SalesRollup,
    InventorySnapshot,
    Delivery,
    SurveyResponse,
    Certification,
)


@pytest.fixture
def demo(db: None):
    return load_demo_network(SIZE, 7, method="bulk", today=TODAY, channel=True)


def fingerprint() -> dict[str, tuple[int, int | None]]:
    return {
        model.__name__: (
            model.objects.count(),
            model.objects.order_by("-pk").values_list("pk", flat=True).first(),
        )
        for model in CHANNEL_MODELS
    }


def test_plan_is_deterministic() -> None:
    specs = list(plan_network(60, 7, TODAY))
    first, second = plan_channel(specs, 7, TODAY), plan_channel(specs, 7, TODAY)
    assert first.sales == second.sales
    assert first.certifications == second.certifications
    assert plan_channel(specs, 8, TODAY).sales != first.sales
    assert all(row["date"] < TODAY for row in first.sales)
    assert {row["date"].replace(day=1) for row in first.sales} == {m.first for m in window(TODAY)}


def check_catalogue_and_rates() -> None:
    assert ProductCategory.objects.count() == 8
    assert 55 <= Product.objects.count() <= 65
    assert not Product.objects.filter(
        Q(list_price__isnull=True) | Q(category__isnull=True)
    ).exists()
    for currency in ("CNY", "EUR"):
        months = ExchangeRate.objects.filter(currency=currency).values_list("valid_from", flat=True)
        assert len(months) == 24
        assert {day.day for day in months} == {1}


def check_most_active_partners_sell_with_trends_and_end_customers() -> None:
    active = Organisation.objects.filter(status="active", kind__in=SELLING_KINDS)
    selling = set(SalesLine.objects.values_list("organisation_id", flat=True).distinct())
    with_sales = active.filter(pk__in=selling).count()
    assert with_sales >= 0.8 * active.count()
    assert with_sales < active.count(), "a few active partners have no sales"
    through = SalesLine.objects.filter(direction="sell_through")
    assert through.exists()
    assert not through.filter(end_customer_name="").exists()
    assert not through.filter(end_customer_city="").exists()
    assert SalesLine.objects.filter(currency="CNY").exists()
    # Growth differs between partners: some grow year on year, some decline.
    last_year, this_year = (dt.date(2024, 3, 1), dt.date(2025, 3, 1)), (dt.date(2025, 3, 1), TODAY)
    revenue = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for index, (start, end) in enumerate((last_year, this_year)):
        rows = (
            SalesLine.objects.filter(direction="sell_in", date__gte=start, date__lt=end)
            .values("organisation_id")
            .annotate(total=Sum("amount_base"))
        )
        for row in rows:
            revenue[row["organisation_id"]][index] = row["total"]
    growing = sum(
        1 for before, after in revenue.values() if before and after > before * Decimal("1.1")
    )
    shrinking = sum(
        1 for before, after in revenue.values() if before and after < before * Decimal("0.9")
    )
    assert growing >= 5 and shrinking >= 5
    huanan = Organisation.objects.get(name="华南电子分销有限公司")
    before, after = revenue[huanan.pk]
    assert after > before > 0


def check_rollups_equal_the_raw_sums() -> None:
    raw: dict[tuple, list] = defaultdict(lambda: [Decimal(0), 0])
    for org, direction, month, amount, lines in (
        SalesLine.objects.values_list("organisation_id", "direction", "month")
        .annotate(total=Sum("amount_base"), n=Count("pk"))
        .order_by()
    ):
        for period in ("month", "quarter", "year"):
            cell = raw[(org, direction, period, period_key(period, month))]
            cell[0] += amount
            cell[1] += lines
    stored = {
        (r.organisation_id, r.direction, r.period, r.period_key): [r.revenue, r.lines]
        for r in SalesRollup.objects.all()
    }
    assert stored == dict(raw)
    assert len(stored) > 1000


def check_operations_data_tells_stories() -> None:
    deliveries = Delivery.objects.all()
    assert deliveries.filter(actual_date__gt=F("promised_date")).exists()
    assert deliveries.filter(filled_quantity__lt=F("ordered_quantity")).exists()
    assert deliveries.filter(
        actual_date__lte=F("promised_date"), filled_quantity=F("ordered_quantity")
    ).exists()
    assert set(deliveries.values_list("organisation__kind", flat=True)) <= {"supplier", "logistics"}
    assert SurveyResponse.objects.filter(csat__lte=2).exists()
    assert SurveyResponse.objects.filter(nps__gte=9).exists()
    assert SurveyResponse.objects.filter(respondent_side="partner").exists()
    assert (
        InventorySnapshot.objects.filter(date__lt=TODAY).count()
        == InventorySnapshot.objects.count()
        > 0
    )
    certificates = Certification.objects.all()
    assert certificates.filter(expires_on__lt=TODAY).exists()
    soon = certificates.filter(expires_on__gte=TODAY, expires_on__lt=TODAY + dt.timedelta(days=60))
    assert soon.filter(organisation__name="华南电子分销有限公司").exists()


def test_demo_channel_data(demo) -> None:
    """One load (a few seconds), every property checked on it."""
    check_catalogue_and_rates()
    check_most_active_partners_sell_with_trends_and_end_customers()
    check_rollups_equal_the_raw_sums()
    check_operations_data_tells_stories()


def test_rerunning_changes_nothing(demo) -> None:
    before = fingerprint()
    again = load_demo_network(SIZE, 7, method="bulk", today=TODAY, channel=True)
    assert again.channel.total() == 0
    assert not again.created_anything()
    assert fingerprint() == before


def test_demo_stays_within_the_line_budget() -> None:
    specs = list(plan_network(300, 2025, TODAY))
    lines = len(plan_channel(specs, 2025, TODAY).sales)
    assert 20_000 < lines <= 100_000


def test_accord_demo_loads_channel_data_unless_told_not_to(db: None) -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("demo", "--organisations", "20", "--no-serve", "--no-channel", stdout=out)
    assert "Channel data" not in out.getvalue()
    assert not SalesLine.objects.exists()
    call_command("demo", "--organisations", "20", "--no-serve", stdout=out)
    assert "Channel data:" in out.getvalue()
    assert SalesLine.objects.exists() and SalesRollup.objects.exists()
