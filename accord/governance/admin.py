"""Admin registrations for governance: read-only (governance moves only through the services,
which check sides, audit and notify), rows through restrict()."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from accord.core.admin import RestrictedAdmin
from accord.governance.models import (
    ActionItem,
    Handover,
    HealthSurvey,
    Issue,
    IssueEvent,
    Meeting,
    Relationship,
    RoleAssignment,
)


class ReadOnlyAdmin(RestrictedAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class IssueEventInline(admin.TabularInline):
    model = IssueEvent
    fields = ["at", "kind", "from_tier", "to_tier", "actor", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).restrict(request.user, "view")


@admin.register(Relationship)
class RelationshipAdmin(ReadOnlyAdmin):
    list_display = ["organisation", "health_frequency", "health_score", "misaligned"]
    list_filter = ["health_frequency", "misaligned"]
    search_fields = ["organisation__name"]


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(ReadOnlyAdmin):
    list_display = ["organisation", "role", "holder", "assigned_on"]
    list_filter = ["role"]


@admin.register(Issue)
class IssueAdmin(ReadOnlyAdmin):
    list_display = ["number", "organisation", "title", "severity", "status", "tier", "resolve_by"]
    list_filter = ["status", "severity", "tier", "category"]
    search_fields = ["number", "title"]
    inlines = [IssueEventInline]


@admin.register(Meeting)
class MeetingAdmin(ReadOnlyAdmin):
    list_display = ["title", "organisation", "tier", "starts_at", "status"]
    list_filter = ["status", "tier"]


@admin.register(ActionItem)
class ActionItemAdmin(ReadOnlyAdmin):
    list_display = ["title", "organisation", "owner", "due_on", "status"]
    list_filter = ["status"]


@admin.register(HealthSurvey)
class HealthSurveyAdmin(ReadOnlyAdmin):
    list_display = ["organisation", "period", "status", "score", "misaligned"]
    list_filter = ["status", "misaligned"]


@admin.register(Handover)
class HandoverAdmin(ReadOnlyAdmin):
    list_display = ["at", "predecessor", "successor", "leaving"]
