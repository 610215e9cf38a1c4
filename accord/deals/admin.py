"""Admin registrations for deals: read-only (registrations, conflicts, end customers and the
rules change only through the services, which detect, audit and notify), rows through
restrict()."""

from __future__ import annotations

from django.contrib import admin

from accord.core.admin import ReadOnlyAdmin, RestrictedInline
from accord.deals.models import (
    Conflict,
    EndCustomer,
    EngagementRules,
    Registration,
    RegistrationLine,
)


class LineInline(RestrictedInline):
    model = RegistrationLine
    fields = ["product_line", "end_customer", "protected"]
    readonly_fields = fields


class ConflictInline(RestrictedInline):
    model = Conflict
    fk_name = "registration"
    fields = ["kind", "other", "end_customer", "holder", "score", "blocking", "resolution"]
    readonly_fields = fields


@admin.register(Registration)
class RegistrationAdmin(ReadOnlyAdmin):
    list_display = [
        "number",
        "customer_name",
        "organisation",
        "status",
        "submitted_at",
        "protected_until",
    ]
    list_filter = ["status"]
    search_fields = ["number", "customer_name", "customer_tax_id", "customer_domain"]
    date_hierarchy = "submitted_at"
    list_select_related = ["organisation"]
    inlines = [LineInline, ConflictInline]


@admin.register(Conflict)
class ConflictAdmin(ReadOnlyAdmin):
    list_display = ["registration", "kind", "other", "score", "blocking", "resolution"]
    list_filter = ["kind", "resolution", "blocking"]
    search_fields = ["registration__number", "other__number"]
    list_select_related = ["registration", "other"]


@admin.register(EndCustomer)
class EndCustomerAdmin(ReadOnlyAdmin):
    list_display = ["name", "country", "tax_key", "domain_key", "named_account"]
    list_filter = ["named_account", "country"]
    search_fields = ["name", "name_key", "tax_key", "domain_key"]


@admin.register(EngagementRules)
class EngagementRulesAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "policy", "auto_approve", "protection_days", "updated_at"]
