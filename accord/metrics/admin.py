"""Admin registrations for metric definitions and KPI snapshots: read-only, through restrict()."""

from __future__ import annotations

from django.contrib import admin

from accord.channel.admin import ReadOnlyAdmin
from accord.metrics.models import KpiRun, KpiValue, MetricDefinition


@admin.register(MetricDefinition)
class MetricDefinitionAdmin(ReadOnlyAdmin):
    list_display = ["code", "version", "name", "dimension", "unit", "is_current", "builtin"]
    list_filter = ["dimension", "is_current", "builtin"]
    search_fields = ["code", "name"]


@admin.register(KpiRun)
class KpiRunAdmin(ReadOnlyAdmin):
    list_display = ["pk", "as_of", "period", "organisation_count", "created_at"]


@admin.register(KpiValue)
class KpiValueAdmin(ReadOnlyAdmin):
    list_display = ["organisation", "metric", "period_start", "period_end", "value"]
    raw_id_fields = ["organisation", "run"]
    list_select_related = ["organisation", "metric"]
