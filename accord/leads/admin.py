"""Admin registrations for leads: read-only (leads move only through the services, which
route, audit and notify), rows through restrict()."""

from __future__ import annotations

from django.contrib import admin

from accord.core.admin import ReadOnlyAdmin, RestrictedInline
from accord.leads.models import Lead, LeadSettings, RoutingEvent, RoutingRule


class RoutingEventInline(RestrictedInline):
    model = RoutingEvent
    fields = ["at", "kind", "organisation", "actor", "reason"]
    readonly_fields = fields


@admin.register(Lead)
class LeadAdmin(ReadOnlyAdmin):
    list_display = ["number", "company_name", "status", "assigned_to", "accept_by", "created_at"]
    list_filter = ["status", "source"]
    search_fields = ["number", "company_name", "external_key", "contact_email"]
    date_hierarchy = "created_at"
    list_select_related = ["assigned_to"]
    inlines = [RoutingEventInline]


@admin.register(RoutingEvent)
class RoutingEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "lead", "kind", "organisation", "actor"]
    list_filter = ["kind"]
    search_fields = ["lead__number", "lead__company_name"]
    list_select_related = ["lead", "organisation", "actor"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(ReadOnlyAdmin):
    list_display = ["position", "name", "kind", "required", "active"]


@admin.register(LeadSettings)
class LeadSettingsAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "acceptance_hours", "tier_program", "max_offers"]
