"""Admin base class that reads through the access chokepoint; the audit log is read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from accord.core.models import AuditEntry


class RestrictedAdmin(admin.ModelAdmin):
    """Rows in the admin reach the user through ``restrict()``, as everywhere else."""

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return super().get_queryset(request).restrict(request.user, "view")


class ReadOnly:
    """No adding, changing or deleting: the rows move only through the services, which
    validate, audit and notify."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(ReadOnly, RestrictedAdmin):
    """A read-only admin page whose rows come through ``restrict()``."""


class RestrictedInline(ReadOnly, admin.TabularInline):
    """A read-only inline whose rows come through ``restrict()``."""

    extra = 0

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).restrict(request.user, "view")


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor_label", "action", "content_type", "object_repr"]
    list_filter = ["action", "content_type"]
    search_fields = ["object_repr", "actor_label"]
    date_hierarchy = "at"
