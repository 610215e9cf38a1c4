"""The demo network's channel data: catalogue, rates, sales, stock, deliveries, surveys, staff.

Planned per organisation from its own ``random.Random`` (seeded with the app's name, so the
organisations' own plan does not change) over the ``MONTHS`` months up to the day of the
run. Every row has a natural ``source_key`` starting with ``demo:``; the loader inserts the
rows that are missing with ``bulk_create`` and refreshes the sales rollups of what it
inserted, so a second run on the same day changes nothing.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from django.db import models, transaction

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
from accord.channel.money import RateTable, base_currency
from accord.channel.rollups import refresh_sales_rollups
from accord.demo import data
from accord.partners.models import Organisation

MONTHS = 24
# Channel data is planned for the first this-many organisations only (the demo-sized
# network); a 100,000-organisation load keeps its channel tables for the benchmark.
CHANNEL_LIMIT = 1000
BATCH_SIZE = 2000
KEY_PREFIX = "demo:"
CENT = Decimal("0.01")

Kind = Organisation.Kind
Status = Organisation.Status
SELLING_KINDS = frozenset(
    {Kind.DISTRIBUTOR, Kind.WHOLESALER, Kind.RETAILER, Kind.RESELLER, Kind.VAR, Kind.ECOMMERCE}
)
SELL_THROUGH_KINDS = frozenset({Kind.DISTRIBUTOR, Kind.RETAILER, Kind.ECOMMERCE, Kind.VAR})
STOCK_KINDS = frozenset({Kind.DISTRIBUTOR, Kind.WHOLESALER, Kind.RETAILER, Kind.ECOMMERCE})
DELIVERING_KINDS = frozenset({Kind.SUPPLIER, Kind.LOGISTICS})
KIND_SIZE = {
    Kind.DISTRIBUTOR: 2.6,
    Kind.WHOLESALER: 2.0,
    Kind.ECOMMERCE: 1.8,
    Kind.VAR: 1.0,
    Kind.RETAILER: 1.0,
    Kind.RESELLER: 0.9,
}
# Approximate USD value of one unit of each currency at the start of the window.
BASE_RATES = {
    "CNY": Decimal("0.1390"),
    "EUR": Decimal("1.0850"),
    "GBP": Decimal("1.2700"),
    "CAD": Decimal("0.7350"),
}
# Hand-set stories for featured organisations: (growth a year, size, certified people).
FEATURED_PROFILES = {0: (0.35, 3.0, 6), 1: (0.15, 1.2, 3), 2: (-0.2, 1.0, 2), 10: (0.1, 1.2, 2)}
FEATURED_PROFILES[11] = (-0.3, 2.4, 3)


# --- the plan -----------------------------------------------------------------------
@dataclass
class ChannelPlan:
    """Every channel row of the demo, unsaved, keyed by ``source_key``."""

    categories: list[ProductCategory] = field(default_factory=list)
    products: list[Product] = field(default_factory=list)
    rates: list[ExchangeRate] = field(default_factory=list)
    # Facts reference organisations by external key and products by product key until
    # the writer resolves them to ids.
    sales: list[dict[str, Any]] = field(default_factory=list)
    inventory: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    surveys: list[dict[str, Any]] = field(default_factory=list)
    certifications: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Month:
    key: int  # yyyymm
    first: dt.date
    days: int
    position: int  # 0 for the window's first month


def window(today: dt.date, months: int = MONTHS) -> list[Month]:
    """The ``months`` calendar months ending with ``today``'s month, oldest first."""
    index = today.year * 12 + today.month - 1
    result = []
    for position, offset in enumerate(range(index - months + 1, index + 1)):
        year, month = divmod(offset, 12)
        first = dt.date(year, month + 1, 1)
        result.append(
            Month(month_key(first), first, calendar.monthrange(year, month + 1)[1], position)
        )
    return result


def catalogue() -> tuple[list[ProductCategory], list[Product]]:
    categories, products = [], []
    for number, (key, name, line, models_) in enumerate(data.CATALOGUE, 1):
        categories.append(ProductCategory(key=key, name=name))
        for position, (model, price) in enumerate(models_, 1):
            list_price = Decimal(price)
            cost = (list_price * Decimal("0.62") + position).quantize(Decimal("0.01"))
            products.append(
                Product(
                    key=f"AC-{number:02d}{position:02d}",
                    name=model,
                    category=categories[-1],
                    product_line=line,
                    list_price=list_price,
                    standard_cost=cost,
                    currency="USD",
                )
            )
    return categories, products


def exchange_rates(seed: int, months: Sequence[Month]) -> list[ExchangeRate]:
    """One rate a month for each currency the demo organisations use: a smooth drift."""
    rates = []
    for currency, base in BASE_RATES.items():
        rng = random.Random(f"accord-demo-rates:{seed}:{currency}")
        phase, amplitude = rng.uniform(0, 6), rng.uniform(0.02, 0.05)
        for month in months:
            wave = math.sin(phase + month.key / 100 * 2.1 + month.key % 100 / 2.5)
            rate = base * Decimal(str(round(1 + amplitude * wave, 6)))
            rates.append(
                ExchangeRate(
                    currency=currency, valid_from=month.first, rate=rate.quantize(Decimal("1e-6"))
                )
            )
    return rates


@dataclass(frozen=True)
class _Profile:
    size: float
    growth: float  # a year, as a rate: 0.3 is +30 % a year
    season: float
    quality: float  # CSAT centre, 1-5
    categories: tuple[int, ...]
    first: int  # first month position with sales
    last: int  # last month position with sales


def _profile(
    rng: random.Random, index: int, kind: str, status: str, months: int
) -> _Profile | None:
    """How organisation ``index`` trades, or None when it has no sales at all."""
    if kind not in SELLING_KINDS:
        return None
    size = KIND_SIZE[kind] * math.exp(rng.gauss(0, 0.45))
    growth = rng.uniform(-0.35, 0.55)
    no_sales = rng.random() < 0.08
    season = rng.uniform(0.08, 0.3)
    quality = rng.uniform(3.0, 4.7)
    categories = tuple(sorted(rng.sample(range(len(data.CATALOGUE)), rng.randint(2, 5))))
    if index in FEATURED_PROFILES:
        growth, size, _ = FEATURED_PROFILES[index]
        no_sales = False
    first, last = 0, months - 1
    if status == Status.ACTIVE:
        first = rng.choice((0, 0, 0, 0, rng.randint(1, 12)))
    elif status == Status.SUSPENDED:
        last = months - 1 - rng.randint(2, 6)
    elif status == Status.TERMINATED:
        last = rng.randint(6, 12)
    elif status == Status.ONBOARDING:
        first = months - 2
    else:
        return None
    if no_sales:
        return None
    return _Profile(size, growth, season, quality, categories, first, last)


def _seasonality(month: int, country: str, kind: str, amplitude: float) -> float:
    """Q4 peak everywhere; in China a Spring Festival dip and a Singles' Day (11.11) spike."""
    factor = 1 + amplitude * math.cos((month - 11.5) / 12 * 2 * math.pi)
    if country == "CN":
        if month == 2:
            factor *= 0.6
        if month == 11:
            factor *= 1.6 if kind == Kind.ECOMMERCE else 1.2
    return factor


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def _end_customers(
    rng: random.Random, spec: Any, count: int
) -> list[tuple[str, str, str, str, str]]:
    """(key, name, country, region, city) of the organisation's end customers."""
    country = spec.fields["country"]
    region = spec.fields["region"]
    cities = _PROVINCE_CITIES.get(region) or [spec.fields["city"]]
    customers = []
    for number in range(count):
        zh, en = rng.choice(data.END_CUSTOMER_INDUSTRIES)
        city, cust_region = rng.choice(cities), region
        if rng.random() < 0.05:  # a few outside the partner's own province
            cust_region, other_cities = rng.choice(_COUNTRY_PROVINCES[country])
            city = rng.choice(other_cities)
        if country == "CN":
            brand, _ = rng.choice(data.CN_BRANDS)
            name = f"{city.removesuffix('市')}{brand}{zh}有限公司"
        elif rng.random() < 0.3:
            name = f"{rng.choice(data.WEST_FIRST_NAMES)} {rng.choice(data.WEST_LAST_NAMES)}"
        else:
            suffix = rng.choice(data.LEGAL_SUFFIX.get(country, ("Ltd",)))
            name = f"{rng.choice(data.WEST_BRANDS)} {en} {suffix}"
        key = f"{spec.external_key}-C{number + 1:03d}"
        customers.append((key, name, country, cust_region, city))
    return customers


def _sales(
    plan: ChannelPlan,
    seed: int,
    spec: Any,
    profile: _Profile,
    months: Sequence[Month],
    today: dt.date,
    products: Sequence[Product],
    local_rate: Decimal,
) -> None:
    ext, kind, country = spec.external_key, spec.kind, spec.fields["country"]
    currency = spec.fields["currency"]
    own_products = [
        p for p in products if _CATEGORY_INDEX[p.category.key] in set(profile.categories)
    ]
    customer_rng = random.Random(f"accord-demo-customers:{seed}:{spec.index}")
    customers = _end_customers(customer_rng, spec, max(8, int(30 * profile.size)))
    discount = Decimal(str(round(random.Random(f"{seed}:{ext}:disc").uniform(0.2, 0.34), 2)))
    for month in months:
        if not profile.first <= month.position <= profile.last:
            continue
        rng = random.Random(f"accord-demo-sales:{seed}:{spec.index}:{month.key}")
        level = profile.size * math.exp(profile.growth * (month.position - len(months) + 1) / 12)
        level *= _seasonality(month.first.month, country, kind, profile.season)
        orders = max(0, round(rng.gauss(level * 3, 0.6)))
        for order in range(orders):
            day = month.first + dt.timedelta(days=rng.randrange(month.days))
            if day >= today:
                continue
            for line in range(rng.randint(1, 3)):
                product = rng.choice(own_products)
                quantity = max(1, round(rng.gauss(12, 6) * min(profile.size, 3)))
                price = _money(product.list_price * (1 - discount) * local_rate)
                plan.sales.append(
                    {
                        "source_key": f"{KEY_PREFIX}{ext}:si:{month.key}:{order}:{line}",
                        "organisation": ext,
                        "direction": SalesLine.Direction.SELL_IN,
                        "order_number": f"SO-{ext[-6:]}-{month.key}-{order:02d}",
                        "date": day,
                        "product": product.key,
                        "quantity": Decimal(quantity),
                        "unit_price": price,
                        "amount": _money(price * quantity),
                        "currency": currency,
                        "cost_base": _money(product.standard_cost * quantity),
                    }
                )
        if kind not in SELL_THROUGH_KINDS:
            continue
        retail = kind in (Kind.RETAILER, Kind.ECOMMERCE)
        count = max(0, round(rng.gauss(level * (12 if retail else 5), 1.2)))
        for number in range(count):
            day = month.first + dt.timedelta(days=rng.randrange(month.days))
            product = rng.choice(own_products)
            quantity = rng.randint(1, 3) if retail else rng.randint(2, 12)
            price = _money(product.list_price * Decimal(str(rng.uniform(0.9, 1.05))) * local_rate)
            key, name, cust_country, region, city = rng.choice(customers)
            if day >= today:
                continue
            plan.sales.append(
                {
                    "source_key": f"{KEY_PREFIX}{ext}:st:{month.key}:{number}",
                    "organisation": ext,
                    "direction": SalesLine.Direction.SELL_THROUGH,
                    "order_number": f"ST-{ext[-6:]}-{month.key}-{number:03d}",
                    "date": day,
                    "product": product.key,
                    "quantity": Decimal(quantity),
                    "unit_price": price,
                    "amount": _money(price * quantity),
                    "currency": currency,
                    # The partner's cost: what it paid the vendor.
                    "cost_base": _money(product.list_price * (1 - discount) * quantity),
                    "end_customer_key": key,
                    "end_customer_name": name,
                    "end_customer_country": cust_country,
                    "end_customer_region": region,
                    "end_customer_city": city,
                }
            )
    if kind in STOCK_KINDS:
        _inventory(plan, seed, spec, profile, months, today, own_products)


def _inventory(
    plan: ChannelPlan,
    seed: int,
    spec: Any,
    profile: _Profile,
    months: Sequence[Month],
    today: dt.date,
    products: Sequence[Product],
) -> None:
    """Month-end stock of the organisation's leading products over the last 12 months."""
    ext = spec.external_key
    rng = random.Random(f"accord-demo-stock:{seed}:{spec.index}")
    stocked = rng.sample(list(products), min(4, len(products)))
    places = data.WAREHOUSES.get(spec.fields["country"], data.WAREHOUSES["default"])
    location = places[0] if spec.kind != Kind.RETAILER else places[1]
    weeks = rng.uniform(3, 10)  # how many weeks of sales it tends to hold
    for month in months[-12:]:
        if not profile.first <= month.position <= profile.last:
            continue
        day = month.first + dt.timedelta(days=month.days - 1)
        if day >= today:
            continue
        month_rng = random.Random(f"accord-demo-stock:{seed}:{spec.index}:{month.key}")
        for product in stocked:
            on_hand = max(0, round(profile.size * weeks * month_rng.uniform(2, 6)))
            on_order = max(0, round(on_hand * month_rng.uniform(0, 0.6)))
            plan.inventory.append(
                {
                    "source_key": f"{KEY_PREFIX}{ext}:inv:{month.key}:{product.key}",
                    "organisation": ext,
                    "location": location,
                    "product": product.key,
                    "date": day,
                    "on_hand": Decimal(on_hand),
                    "on_order": Decimal(on_order),
                }
            )


def _deliveries(
    plan: ChannelPlan,
    seed: int,
    spec: Any,
    months: Sequence[Month],
    today: dt.date,
    products: Sequence[Product],
) -> None:
    """Deliveries by a supplier or logistics provider: some late, some partially filled."""
    ext = spec.external_key
    rng = random.Random(f"accord-demo-deliveries:{seed}:{spec.index}")
    on_time, full = rng.uniform(0.6, 0.98), rng.uniform(0.7, 0.99)
    supplied = rng.sample(list(products), 6)
    last = len(months) - 1 - (rng.randint(2, 6) if spec.status == Status.SUSPENDED else 0)
    for month in months:
        if month.position > last:
            continue
        month_rng = random.Random(f"accord-demo-deliveries:{seed}:{spec.index}:{month.key}")
        for number in range(month_rng.randint(2, 6)):
            promised = month.first + dt.timedelta(days=month_rng.randrange(month.days))
            if promised >= today:
                continue
            actual: dt.date | None = promised - dt.timedelta(days=month_rng.randint(0, 2))
            if month_rng.random() > on_time:
                actual = promised + dt.timedelta(days=month_rng.randint(1, 15))
            if actual >= today:
                actual = None
            ordered = month_rng.randint(20, 400)
            filled = ordered
            if month_rng.random() > full:
                filled = round(ordered * month_rng.uniform(0.4, 0.95))
            if actual is None:
                filled = 0
            plan.deliveries.append(
                {
                    "source_key": f"{KEY_PREFIX}{ext}:dlv:{month.key}:{number}",
                    "organisation": ext,
                    "reference": f"PO-{ext[-6:]}-{month.key}-{number:02d}",
                    "product": month_rng.choice(supplied).key,
                    "promised_date": promised,
                    "actual_date": actual,
                    "ordered_quantity": Decimal(ordered),
                    "filled_quantity": Decimal(filled),
                }
            )


def _surveys(
    plan: ChannelPlan,
    seed: int,
    spec: Any,
    profile: _Profile,
    months: Sequence[Month],
    today: dt.date,
) -> None:
    """A few end-customer answers (CSAT 1-5, NPS 0-10) a quarter, one partner answer a year."""
    ext = spec.external_key
    for month in months:
        if month.first.month % 3 != 1 or not profile.first <= month.position <= profile.last:
            continue
        rng = random.Random(f"accord-demo-surveys:{seed}:{spec.index}:{month.key}")
        trend = profile.growth / 2 * (month.position - len(months) / 2) / 12
        for number in range(rng.randint(1, 4)):
            day = month.first + dt.timedelta(days=rng.randrange(80))
            if day >= today:
                continue
            centre = profile.quality + trend
            side = SurveyResponse.Side.CUSTOMER
            if number == 0 and month.first.month == 1:
                side = SurveyResponse.Side.PARTNER
            plan.surveys.append(
                {
                    "source_key": f"{KEY_PREFIX}{ext}:srv:{month.key}:{number}",
                    "organisation": ext,
                    "date": day,
                    "respondent_side": side,
                    "csat": min(5, max(1, round(rng.gauss(centre, 0.8)))),
                    "nps": min(10, max(0, round(rng.gauss(centre * 2 - 0.5, 1.8)))),
                }
            )


def _certifications(
    plan: ChannelPlan, seed: int, spec: Any, today: dt.date, people: int | None = None
) -> None:
    """Certificates of the partner's staff, valid two years: some expired, some expiring."""
    ext = spec.external_key
    rng = random.Random(f"accord-demo-certificates:{seed}:{spec.index}")
    count = people if people is not None else rng.choice((0, 1, 1, 2, 2, 3, 4, 5))
    for number in range(count):
        if spec.fields["country"] == "CN":
            person = rng.choice(data.CN_SURNAMES) + rng.choice(data.CN_GIVEN_NAMES)
        else:
            person = f"{rng.choice(data.WEST_FIRST_NAMES)} {rng.choice(data.WEST_LAST_NAMES)}"
        for held, name in enumerate(rng.sample(data.CERTIFICATIONS, rng.randint(1, 2))):
            earned = today - dt.timedelta(days=rng.randint(20, 1000))
            if number == 0 and held == 0 and people is not None:
                earned = today - dt.timedelta(days=700)  # a featured story: expiring soon
            plan.certifications.append(
                {
                    "source_key": f"{KEY_PREFIX}{ext}:cert:{number}:{held}",
                    "organisation": ext,
                    "person": person,
                    "name": name,
                    "earned_on": earned,
                    "expires_on": earned + dt.timedelta(days=730),
                }
            )


def plan_channel(specs: Sequence[Any], seed: int, today: dt.date) -> ChannelPlan:
    """The channel rows for the organisations ``specs`` (deterministic for seed and day)."""
    months = window(today)
    plan = ChannelPlan()
    plan.categories, plan.products = catalogue()
    plan.rates = exchange_rates(seed, months)
    start_rates = {r.currency: r.rate for r in plan.rates if r.valid_from == months[0].first}
    for spec in specs:
        if spec.index >= CHANNEL_LIMIT:
            continue
        rng = random.Random(f"accord-demo-channel:{seed}:{spec.index}")
        if spec.kind in DELIVERING_KINDS and spec.status in (Status.ACTIVE, Status.SUSPENDED):
            _deliveries(plan, seed, spec, months, today, plan.products)
            continue
        profile = _profile(rng, spec.index, spec.kind, spec.status, len(months))
        if profile is None:
            continue
        currency = spec.fields["currency"]
        # Local prices: list prices in USD over the currency's value at the window start.
        local_rate = 1 / start_rates[currency] if currency in start_rates else Decimal(1)
        _sales(plan, seed, spec, profile, months, today, plan.products, local_rate)
        _surveys(plan, seed, spec, profile, months, today)
        featured = FEATURED_PROFILES.get(spec.index)
        _certifications(plan, seed, spec, today, featured[2] if featured else None)
    return plan


# --- writing ---------------------------------------------------------------------------
@dataclass
class ChannelSummary:
    """Rows one run inserted (zero everywhere on a re-run)."""

    products: int = 0
    rates: int = 0
    sales_lines: int = 0
    inventory: int = 0
    deliveries: int = 0
    surveys: int = 0
    certifications: int = 0

    def total(self) -> int:
        return sum(self.__dict__.values())


def _missing(model: type[models.Model], rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    existing = set(
        model._default_manager.filter(source_key__startswith=KEY_PREFIX).values_list(
            "source_key", flat=True
        )
    )
    return [row for row in rows if row["source_key"] not in existing]


def _batches(rows: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(rows), BATCH_SIZE):
        yield rows[start : start + BATCH_SIZE]


@transaction.atomic
def load_demo_channel(specs: Sequence[Any], seed: int, today: dt.date) -> ChannelSummary:
    """Insert the channel rows of ``specs`` that are missing; never updates a row."""
    plan = plan_channel(specs, seed, today)
    summary = ChannelSummary()
    wanted = [c.key for c in plan.categories]
    categories = {c.key: c for c in ProductCategory.objects.filter(key__in=wanted)}
    new_categories = [c for c in plan.categories if c.key not in categories]
    ProductCategory.objects.bulk_create(new_categories)
    categories.update({c.key: c for c in new_categories})
    existing_products = set(Product.objects.values_list("key", flat=True))
    new_products = [p for p in plan.products if p.key not in existing_products]
    for product in new_products:
        product.category = categories[product.category.key]
    Product.objects.bulk_create(new_products)
    summary.products = len(new_products)
    product_ids = dict(Product.objects.values_list("key", "pk"))
    present = set(ExchangeRate.objects.values_list("currency", "valid_from"))
    new_rates = [r for r in plan.rates if (r.currency, r.valid_from) not in present]
    ExchangeRate.objects.bulk_create(new_rates)
    summary.rates = len(new_rates)

    keys = {spec.external_key for spec in specs if spec.index < CHANNEL_LIMIT}
    organisation_ids = dict(
        Organisation.objects.filter(external_key__in=keys).values_list("external_key", "pk")
    )

    def resolve(row: dict[str, Any]) -> dict[str, Any]:
        values = {**row, "organisation_id": organisation_ids[row["organisation"]]}
        del values["organisation"]
        if "product" in values:
            values["product_id"] = product_ids[values.pop("product")]
        return values

    rates = RateTable.load(set(BASE_RATES) | {base_currency()})
    lines = []
    for row in _missing(SalesLine, plan.sales):
        line = SalesLine(**resolve(row))
        line.month = month_key(line.date)
        line.amount_base = rates.to_base(line.amount, line.currency, line.date)
        lines.append(line)
    for batch in _batches(lines):
        SalesLine.objects.bulk_create(batch)
    refresh_sales_rollups({(line.organisation_id, line.month) for line in lines})
    summary.sales_lines = len(lines)
    for model, rows, name in (
        (InventorySnapshot, plan.inventory, "inventory"),
        (Delivery, plan.deliveries, "deliveries"),
        (SurveyResponse, plan.surveys, "surveys"),
        (Certification, plan.certifications, "certifications"),
    ):
        objects = [model(**resolve(row)) for row in _missing(model, rows)]
        for batch in _batches(objects):
            model._default_manager.bulk_create(batch)
        setattr(summary, name, len(objects))
    return summary


# Province name -> its city names; country iso -> [(province name, city names)].
_PROVINCE_CITIES: dict[str, list[str]] = {}
_COUNTRY_PROVINCES: dict[str, list[tuple[str, list[str]]]] = {}
for _group in data.TERRITORY_TREE:
    for _country in _group.countries:
        for _province in _country.provinces:
            _names = [city.name for city in _province.cities]
            _PROVINCE_CITIES[_province.name] = _names
            _COUNTRY_PROVINCES.setdefault(_country.iso, []).append((_province.name, _names))
_CATEGORY_INDEX = {key: number for number, (key, *_rest) in enumerate(data.CATALOGUE)}
