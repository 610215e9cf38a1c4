"""REST endpoints of accord.channel (mounted under /api/v1/): read-only lists and details.

Thin: every row comes from ``selectors`` (which call ``restrict()``). Products, categories
and exchange rates are vendor master data every permitted user sees; sales lines,
inventory, deliveries, surveys and certifications only within the caller's scope.
Writes arrive through the import engine (``accord.imports``).
"""

from typing import Any

from django.http import HttpRequest
from ninja import Path, Query, Router
from ninja.pagination import paginate

from accord.channel import selectors
from accord.channel.schemas import (
    CertificationFilter,
    CertificationOut,
    DeliveryFilter,
    DeliveryOut,
    ExchangeRateFilter,
    ExchangeRateOut,
    InventoryFilter,
    InventorySnapshotOut,
    ProductCategoryFilter,
    ProductCategoryOut,
    ProductFilter,
    ProductOut,
    SalesLineFilter,
    SalesLineOut,
    SurveyResponseFilter,
    SurveyResponseOut,
)
from accord.core.schemas import ObjectId, Pagination, error_responses

router = Router()
products = Router(tags=["products"])
categories = Router(tags=["products"])
rates = Router(tags=["exchange-rates"])
sales = Router(tags=["sales-lines"])
inventory = Router(tags=["inventory"])
deliveries = Router(tags=["deliveries"])
surveys = Router(tags=["survey-responses"])
certifications = Router(tags=["certifications"])

READ = error_responses(404, 422)
LIST = error_responses(422)


@products.get("", response={200: list[ProductOut], **LIST}, operation_id="products_list")
@paginate(Pagination)
def products_list(request: HttpRequest, filters: Query[ProductFilter]) -> Any:
    """The product catalogue (shared master data)."""
    return selectors.search_products(request.auth, **filters.model_dump())


@products.get("/{id}", response={200: ProductOut, **READ}, operation_id="products_get")
def products_get(request: HttpRequest, id: Path[ObjectId]) -> Any:
    return selectors.get_product(request.auth, id)


@categories.get(
    "",
    response={200: list[ProductCategoryOut], **LIST},
    operation_id="product_categories_list",
)
@paginate(Pagination)
def product_categories_list(request: HttpRequest, filters: Query[ProductCategoryFilter]) -> Any:
    return selectors.search_product_categories(request.auth, **filters.model_dump())


@rates.get("", response={200: list[ExchangeRateOut], **LIST}, operation_id="exchange_rates_list")
@paginate(Pagination)
def exchange_rates_list(request: HttpRequest, filters: Query[ExchangeRateFilter]) -> Any:
    """Dated rates: ``rate`` units of the base currency buy one unit of ``currency`` from
    ``valid_from`` on, until the next rate of that currency."""
    return selectors.search_exchange_rates(request.auth, **filters.model_dump())


@sales.get("", response={200: list[SalesLineOut], **LIST}, operation_id="sales_lines_list")
@paginate(Pagination)
def sales_lines_list(request: HttpRequest, filters: Query[SalesLineFilter]) -> Any:
    """Sales lines the caller may see (the drill-down behind the KPIs); a partner sees its
    own and those of the organisations below it."""
    return selectors.search_sales_lines(request.auth, **filters.model_dump())


@sales.get("/{id}", response={200: SalesLineOut, **READ}, operation_id="sales_lines_get")
def sales_lines_get(request: HttpRequest, id: Path[ObjectId]) -> Any:
    return selectors.get_sales_line(request.auth, id)


@inventory.get(
    "", response={200: list[InventorySnapshotOut], **LIST}, operation_id="inventory_list"
)
@paginate(Pagination)
def inventory_list(request: HttpRequest, filters: Query[InventoryFilter]) -> Any:
    """Inventory snapshots, newest first."""
    return selectors.search_inventory(request.auth, **filters.model_dump())


@deliveries.get("", response={200: list[DeliveryOut], **LIST}, operation_id="deliveries_list")
@paginate(Pagination)
def deliveries_list(request: HttpRequest, filters: Query[DeliveryFilter]) -> Any:
    """Deliveries: promised vs actual date, ordered vs filled quantity."""
    return selectors.search_deliveries(request.auth, **filters.model_dump())


@surveys.get(
    "", response={200: list[SurveyResponseOut], **LIST}, operation_id="survey_responses_list"
)
@paginate(Pagination)
def survey_responses_list(request: HttpRequest, filters: Query[SurveyResponseFilter]) -> Any:
    """Survey answers (CSAT 1-5, NPS 0-10) about organisations the caller may see."""
    return selectors.search_survey_responses(request.auth, **filters.model_dump())


@certifications.get(
    "", response={200: list[CertificationOut], **LIST}, operation_id="certifications_list"
)
@paginate(Pagination)
def certifications_list(request: HttpRequest, filters: Query[CertificationFilter]) -> Any:
    """Certifications earned by partner staff; ``valid_on`` keeps those in force that day."""
    return selectors.search_certifications(request.auth, **filters.model_dump())


router.add_router("/products", products)
router.add_router("/product-categories", categories)
router.add_router("/exchange-rates", rates)
router.add_router("/sales-lines", sales)
router.add_router("/inventory", inventory)
router.add_router("/deliveries", deliveries)
router.add_router("/survey-responses", surveys)
router.add_router("/certifications", certifications)
