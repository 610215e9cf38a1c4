"""factory_boy factories for channel facts, import batches and KPI values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory

from accord.channel.models import (
    Certification,
    Delivery,
    ExchangeRate,
    InventorySnapshot,
    Product,
    ProductCategory,
    SalesLine,
    SurveyResponse,
    month_key,
)
from accord.imports.models import ImportBatch
from accord.metrics.models import KpiRun, KpiValue, MetricDefinition
from tests.factories import OrganisationFactory


class ProductCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductCategory

    key = factory.Sequence(lambda n: f"cat-{n}")
    name = factory.Sequence(lambda n: f"Category {n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    key = factory.Sequence(lambda n: f"P-{n:04d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    category = factory.SubFactory(ProductCategoryFactory)
    standard_cost = Decimal("60.0000")
    list_price = Decimal("100.0000")


class ExchangeRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExchangeRate

    currency = "EUR"
    valid_from = dt.date(2026, 1, 1)
    rate = Decimal("1.1000000000")


def sales_line(organisation, *, save: bool = False, **fields) -> SalesLine:
    """An unsaved sell-in line of 2 x 50 USD on 2026-03-15 (``save`` inserts it as is)."""
    values = {
        "organisation": organisation,
        "direction": SalesLine.Direction.SELL_IN,
        "order_number": "SO-1",
        "date": dt.date(2026, 3, 15),
        "quantity": Decimal("2"),
        "unit_price": Decimal("50"),
        "amount": Decimal("100.00"),
        "currency": "USD",
        "source_key": f"line-{next(_keys)}",
    }
    values.update(fields)
    line = SalesLine(**values)
    if save:
        line.month = month_key(line.date)
        if getattr(line, "amount_base", None) is None:
            line.amount_base = line.amount
        line.save()
    return line


_keys = iter(range(1, 10**9))


class InventorySnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InventorySnapshot

    organisation = factory.SubFactory(OrganisationFactory)
    product = factory.SubFactory(ProductFactory)
    location = "Main warehouse"
    date = dt.date(2026, 3, 31)
    on_hand = Decimal("10")
    on_order = Decimal("5")
    source_key = factory.Sequence(lambda n: f"inv-{n}")


class DeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Delivery

    organisation = factory.SubFactory(OrganisationFactory)
    reference = factory.Sequence(lambda n: f"DLV-{n}")
    promised_date = dt.date(2026, 3, 10)
    actual_date = dt.date(2026, 3, 12)
    ordered_quantity = Decimal("10")
    filled_quantity = Decimal("8")
    source_key = factory.Sequence(lambda n: f"dlv-{n}")


class SurveyResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SurveyResponse

    organisation = factory.SubFactory(OrganisationFactory)
    date = dt.date(2026, 3, 1)
    respondent = factory.Sequence(lambda n: f"Respondent {n}")
    csat = 4
    nps = 9
    source_key = factory.Sequence(lambda n: f"srv-{n}")


class CertificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Certification

    organisation = factory.SubFactory(OrganisationFactory)
    person = factory.Sequence(lambda n: f"Engineer {n}")
    name = "Certified Sales Professional"
    earned_on = dt.date(2025, 6, 1)
    expires_on = dt.date(2027, 6, 1)
    source_key = factory.Sequence(lambda n: f"cert-{n}")


class ImportBatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImportBatch

    organisation = factory.SubFactory(OrganisationFactory)
    kind = "sales_lines"
    file_name = factory.Sequence(lambda n: f"sales-{n}.csv")
    file_sha256 = "0" * 64


class MetricDefinitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MetricDefinition
        django_get_or_create = ("code", "version")

    code = "revenue"
    version = 1
    name = "Revenue"
    dimension = MetricDefinition.Dimension.FINANCIAL
    calculation = "revenue"
    unit = "USD"


class KpiRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KpiRun

    as_of = dt.date(2026, 4, 1)
    period = "month"
    metrics = ["revenue@1"]


class KpiValueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KpiValue

    run = factory.SubFactory(KpiRunFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    metric = factory.SubFactory(MetricDefinitionFactory)
    period_start = dt.date(2026, 3, 1)
    period_end = dt.date(2026, 4, 1)
    value = Decimal("100")
