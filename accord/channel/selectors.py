"""Reads of accord.channel: every row that reaches a user comes through ``restrict()``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Q, Sum

from accord.channel.models import (
    Certification,
    Delivery,
    ExchangeRate,
    InventorySnapshot,
    Product,
    ProductCategory,
    SalesLine,
    SurveyResponse,
)
from accord.channel.money import base_currency
from accord.partners.models import Organisation
from accord.partners.selectors import get_restricted

EXPIRY_WARNING_DAYS = 60

PRODUCT_SORTS = {
    "key": ("key", "pk"),
    "-key": ("-key", "-pk"),
    "name": ("name", "pk"),
    "-name": ("-name", "-pk"),
    "list_price": ("list_price", "key"),
    "-list_price": ("-list_price", "key"),
}
SALES_SORTS = {
    "date": ("date", "order_number", "pk"),
    "-date": ("-date", "order_number", "pk"),
    "amount": ("amount_base", "pk"),
    "-amount": ("-amount_base", "-pk"),
}


# -- master data (shared) -------------------------------------------------------
def search_products(
    user: Any,
    *,
    q: str | None = None,
    category: int | None = None,
    active: bool | None = None,
    sort: str = "key",
) -> models.QuerySet[Product]:
    """Products ``user`` may see, searched in key, name and product line."""
    queryset = Product.objects.restrict(user, "view").select_related("category")
    if q:
        queryset = queryset.filter(
            Q(key__icontains=q) | Q(name__icontains=q) | Q(product_line__icontains=q)
        )
    if category is not None:
        queryset = queryset.filter(Q(category_id=category) | Q(category__parent_id=category))
    if active is not None:
        queryset = queryset.filter(active=active)
    return queryset.order_by(*PRODUCT_SORTS.get(sort, PRODUCT_SORTS["key"]))


def get_product(user: Any, pk: Any) -> Product:
    return get_restricted(Product.objects.select_related("category"), user, pk)


def search_product_categories(
    user: Any, *, q: str | None = None
) -> models.QuerySet[ProductCategory]:
    queryset = ProductCategory.objects.restrict(user, "view").annotate(
        product_count=models.Count("products")
    )
    if q:
        queryset = queryset.filter(Q(key__icontains=q) | Q(name__icontains=q))
    return queryset.order_by("name", "pk")


def category_choices(user: Any) -> models.QuerySet[ProductCategory]:
    return ProductCategory.objects.restrict(user, "view").order_by("name", "pk")


def search_exchange_rates(
    user: Any, *, currency: str | None = None, valid_on: dt.date | None = None
) -> models.QuerySet[ExchangeRate]:
    """Rates ``user`` may see; ``valid_on`` keeps, per currency, the rate in force that day."""
    queryset = ExchangeRate.objects.restrict(user, "view")
    if currency:
        queryset = queryset.filter(currency=currency.upper())
    if valid_on is not None:
        latest = (
            ExchangeRate.objects.filter(
                currency=models.OuterRef("currency"), valid_from__lte=valid_on
            )
            .order_by("-valid_from")
            .values("valid_from")[:1]
        )
        queryset = queryset.filter(valid_from=models.Subquery(latest))
    return queryset.order_by("currency", "-valid_from", "pk")


# -- organisation-owned facts ----------------------------------------------------------
def organisation_choices(user: Any) -> list[tuple[int, str]]:
    """(id, name) of the organisations ``user`` sees, for a filter's choices."""
    return list(
        Organisation.objects.restrict(user, "view").order_by("name", "pk").values_list("pk", "name")
    )


def _owned_in_range(
    queryset: models.QuerySet,
    organisation: int | None,
    date_field: str,
    date_from: dt.date | None,
    date_to: dt.date | None,
) -> models.QuerySet:
    """One organisation's rows (when given) in the half-open range [date_from, date_to)."""
    if organisation is not None:
        queryset = queryset.filter(organisation_id=organisation)
    if date_from is not None:
        queryset = queryset.filter(**{f"{date_field}__gte": date_from})
    if date_to is not None:
        queryset = queryset.filter(**{f"{date_field}__lt": date_to})
    return queryset


def search_sales_lines(
    user: Any,
    *,
    organisation: int | None = None,
    direction: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    product: int | None = None,
    q: str | None = None,
    sort: str = "-date",
) -> models.QuerySet[SalesLine]:
    """Sales lines ``user`` may see: the drill-down behind the KPIs.

    ``date_from`` is inclusive and ``date_to`` exclusive (a half-open period).
    """
    queryset = _owned_in_range(
        SalesLine.objects.restrict(user, "view").select_related("organisation", "product"),
        organisation,
        "date",
        date_from,
        date_to,
    )
    if direction:
        queryset = queryset.filter(direction=direction)
    if product is not None:
        queryset = queryset.filter(product_id=product)
    if q:
        queryset = queryset.filter(
            Q(order_number__icontains=q)
            | Q(end_customer_name__icontains=q)
            | Q(end_customer_city__icontains=q)
        )
    return queryset.order_by(*SALES_SORTS.get(sort, SALES_SORTS["-date"]))


def sales_totals(queryset: models.QuerySet[SalesLine]) -> dict[str, Any]:
    """Lines, quantity and base-currency amount of a (restricted, filtered) sales queryset."""
    totals = queryset.order_by().aggregate(
        lines=models.Count("pk"), quantity=Sum("quantity"), amount=Sum("amount_base")
    )
    return {key: value or 0 for key, value in totals.items()}


def get_sales_line(user: Any, pk: Any) -> SalesLine:
    return get_restricted(SalesLine.objects.select_related("organisation", "product"), user, pk)


def search_inventory(
    user: Any,
    *,
    organisation: int | None = None,
    product: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> models.QuerySet[InventorySnapshot]:
    queryset = _owned_in_range(
        InventorySnapshot.objects.restrict(user, "view").select_related("product"),
        organisation,
        "date",
        date_from,
        date_to,
    )
    if product is not None:
        queryset = queryset.filter(product_id=product)
    return queryset.order_by("-date", "organisation_id", "location", "product_id", "pk")


def search_deliveries(
    user: Any,
    *,
    organisation: int | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    late: bool | None = None,
) -> models.QuerySet[Delivery]:
    """Deliveries by promised date; ``late``: delivered after the promise (or not yet)."""
    queryset = _owned_in_range(
        Delivery.objects.restrict(user, "view").select_related("product"),
        organisation,
        "promised_date",
        date_from,
        date_to,
    )
    if late is not None:
        condition = Q(actual_date__gt=models.F("promised_date"))
        queryset = queryset.filter(condition) if late else queryset.exclude(condition)
    return queryset.order_by("-promised_date", "reference", "pk")


def search_survey_responses(
    user: Any,
    *,
    organisation: int | None = None,
    side: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> models.QuerySet[SurveyResponse]:
    queryset = _owned_in_range(
        SurveyResponse.objects.restrict(user, "view"), organisation, "date", date_from, date_to
    )
    if side:
        queryset = queryset.filter(respondent_side=side)
    return queryset.order_by("-date", "pk")


def valid_condition(day: dt.date) -> Q:
    """Certifications earned on or before ``day`` and not yet expired on it."""
    return Q(earned_on__lte=day) & (Q(expires_on__isnull=True) | Q(expires_on__gt=day))


def search_certifications(
    user: Any,
    *,
    organisation: int | None = None,
    valid_on: dt.date | None = None,
    expiring_before: dt.date | None = None,
    q: str | None = None,
) -> models.QuerySet[Certification]:
    """Certifications; ``valid_on`` keeps those in force that day; ``expiring_before`` those
    that expire before that date (and are still valid on ``valid_on`` when given)."""
    queryset = Certification.objects.restrict(user, "view")
    if organisation is not None:
        queryset = queryset.filter(organisation_id=organisation)
    if valid_on is not None:
        queryset = queryset.filter(valid_condition(valid_on))
    if expiring_before is not None:
        queryset = queryset.filter(expires_on__isnull=False, expires_on__lt=expiring_before)
    if q:
        queryset = queryset.filter(Q(person__icontains=q) | Q(name__icontains=q))
    return queryset.order_by("-earned_on", "person", "pk")


# -- an organisation's channel summary (the tab on its page) -------------------------------
@dataclass
class ChannelSummary:
    """What the organisation page shows about one organisation's channel data."""

    sell_in: dict[str, Any]
    sell_through: dict[str, Any]
    last_sale_on: dt.date | None
    inventory_on: dt.date | None
    inventory: list[InventorySnapshot]
    certifications: list[Certification]
    expiring: int
    deliveries: dict[str, Any]
    surveys: dict[str, Any]


def organisation_channel_summary(
    user: Any, organisation_id: int, *, as_of: dt.date, months: int = 12
) -> ChannelSummary:
    """Sales of the last ``months`` months to ``as_of``, the latest inventory snapshot,
    certifications valid on ``as_of`` and deliveries/surveys of the same window.

    A fixed number of queries, every one through ``restrict()``.
    """
    start = _months_before(as_of, months)
    end = as_of + dt.timedelta(days=1)
    lines = SalesLine.objects.restrict(user, "view").filter(
        organisation_id=organisation_id, date__gte=start, date__lt=end
    )
    by_direction = {
        row["direction"]: row
        for row in lines.order_by()
        .values("direction")
        .annotate(
            lines=models.Count("pk"),
            amount=Sum("amount_base"),
            customers=models.Count("end_customer_key", distinct=True),
        )
    }
    empty = {"lines": 0, "amount": 0, "customers": 0}
    last_sale_on = (
        SalesLine.objects.restrict(user, "view")
        .filter(organisation_id=organisation_id, date__lt=end)
        .order_by()
        .aggregate(last=models.Max("date"))["last"]
    )
    stock = InventorySnapshot.objects.restrict(user, "view").filter(
        organisation_id=organisation_id, date__lt=end
    )
    inventory_on = stock.order_by().aggregate(last=models.Max("date"))["last"]
    inventory = (
        list(
            stock.filter(date=inventory_on)
            .select_related("product")
            .order_by("location", "product__key")[:20]
        )
        if inventory_on
        else []
    )
    certifications = search_certifications(user, organisation=organisation_id, valid_on=as_of)
    soon = as_of + dt.timedelta(days=EXPIRY_WARNING_DAYS)
    certification_rows = list(certifications.order_by("expires_on", "person", "pk")[:20])
    expiring = certifications.filter(expires_on__isnull=False, expires_on__lt=soon).count()
    deliveries = (
        Delivery.objects.restrict(user, "view")
        .filter(organisation_id=organisation_id, promised_date__gte=start, promised_date__lt=end)
        .order_by()
        .aggregate(
            count=models.Count("pk"),
            on_time=models.Count(
                "pk",
                filter=Q(actual_date__isnull=False, actual_date__lte=models.F("promised_date")),
            ),
            ordered=Sum("ordered_quantity"),
            filled=Sum("filled_quantity"),
        )
    )
    surveys = (
        SurveyResponse.objects.restrict(user, "view")
        .filter(organisation_id=organisation_id, date__gte=start, date__lt=end)
        .order_by()
        .aggregate(
            count=models.Count("pk"),
            csat=models.Avg("csat"),
            promoters=models.Count("pk", filter=Q(nps__gte=9)),
            detractors=models.Count("pk", filter=Q(nps__lte=6)),
            nps_answers=models.Count("nps"),
        )
    )
    nps = None
    if surveys["nps_answers"]:
        nps = round(100 * (surveys["promoters"] - surveys["detractors"]) / surveys["nps_answers"])
    return ChannelSummary(
        sell_in=by_direction.get(SalesLine.Direction.SELL_IN, empty),
        sell_through=by_direction.get(SalesLine.Direction.SELL_THROUGH, empty),
        last_sale_on=last_sale_on,
        inventory_on=inventory_on,
        inventory=inventory,
        certifications=certification_rows,
        expiring=expiring,
        deliveries={
            **deliveries,
            "on_time_rate": _share(deliveries["on_time"], deliveries["count"]),
            "fill_rate": _share(deliveries["filled"], deliveries["ordered"]),
        },
        surveys={**surveys, "nps": nps},
    )


def _share(part: Any, whole: Any) -> int | None:
    """``part / whole`` as a whole percentage, None when there is nothing to divide."""
    if not whole:
        return None
    return round(100 * Decimal(part or 0) / Decimal(whole))


def _months_before(day: dt.date, months: int) -> dt.date:
    """The first day of the month ``months - 1`` months before ``day``'s month."""
    index = day.year * 12 + day.month - 1 - (months - 1)
    return dt.date(index // 12, index % 12 + 1, 1)


def organisation_channel_context(
    user: Any, organisation_id: int, as_of: dt.date, months: int = 12
) -> dict[str, Any]:
    """Template context of the organisation page's "Channel data" tab."""
    return {
        "channel_summary": organisation_channel_summary(
            user, organisation_id, as_of=as_of, months=months
        ),
        "channel_start": _months_before(as_of, months),
        "channel_end": as_of + dt.timedelta(days=1),
        "channel_as_of": as_of,
        "channel_soon": as_of + dt.timedelta(days=EXPIRY_WARNING_DAYS),
        "channel_currency": base_currency(),
    }
