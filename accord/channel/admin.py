"""Admin registrations for channel facts: read-only, rows through restrict()."""

from __future__ import annotations

from django.contrib import admin

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
from accord.core.admin import ReadOnlyAdmin


@admin.register(ProductCategory)
class ProductCategoryAdmin(ReadOnlyAdmin):
    list_display = ["key", "name", "parent"]
    search_fields = ["key", "name"]


@admin.register(Product)
class ProductAdmin(ReadOnlyAdmin):
    list_display = ["key", "name", "category", "list_price", "currency", "active"]
    list_filter = ["active", "category"]
    search_fields = ["key", "name", "product_line"]


@admin.register(ExchangeRate)
class ExchangeRateAdmin(ReadOnlyAdmin):
    list_display = ["currency", "valid_from", "rate"]
    list_filter = ["currency"]


@admin.register(SalesLine)
class SalesLineAdmin(ReadOnlyAdmin):
    list_display = ["date", "organisation", "direction", "order_number", "amount", "currency"]
    list_filter = ["direction", "currency"]
    search_fields = ["order_number", "source_key", "end_customer_name"]
    raw_id_fields = ["organisation", "product", "territory"]
    date_hierarchy = "date"
    list_select_related = ["organisation"]


@admin.register(SalesRollup)
class SalesRollupAdmin(ReadOnlyAdmin):
    list_display = ["organisation", "direction", "period", "period_key", "revenue", "lines"]
    list_filter = ["period", "direction"]
    list_select_related = ["organisation"]


@admin.register(InventorySnapshot)
class InventorySnapshotAdmin(ReadOnlyAdmin):
    list_display = ["date", "organisation", "location", "product", "on_hand", "on_order"]
    raw_id_fields = ["organisation", "product"]
    list_select_related = ["organisation", "product"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "promised_date",
        "actual_date",
        "organisation",
        "reference",
        "ordered_quantity",
        "filled_quantity",
    ]
    raw_id_fields = ["organisation", "product"]
    list_select_related = ["organisation"]


@admin.register(SurveyResponse)
class SurveyResponseAdmin(ReadOnlyAdmin):
    list_display = ["date", "organisation", "respondent_side", "csat", "nps"]
    list_filter = ["respondent_side"]
    raw_id_fields = ["organisation"]
    list_select_related = ["organisation"]


@admin.register(Certification)
class CertificationAdmin(ReadOnlyAdmin):
    list_display = ["person", "name", "organisation", "earned_on", "expires_on"]
    search_fields = ["person", "name"]
    raw_id_fields = ["organisation", "contact"]
    list_select_related = ["organisation"]
