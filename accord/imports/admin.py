"""Admin registration for import runs: read-only, rows through restrict()."""

from __future__ import annotations

from django.contrib import admin

from accord.channel.admin import ReadOnlyAdmin
from accord.imports.models import ImportBatch


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "kind",
        "file_name",
        "status",
        "organisation",
        "started_at",
        "created_count",
        "updated_count",
        "rows_rejected",
    ]
    list_filter = ["kind", "status"]
    search_fields = ["file_name"]
    list_select_related = ["organisation"]
