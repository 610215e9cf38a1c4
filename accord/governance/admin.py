"""Admin registrations for governance: read-only (governance moves only through the services,
which check sides, audit and notify), rows through restrict()."""

from __future__ import annotations

from django.contrib import admin

from accord.core.admin import ReadOnlyAdmin, RestrictedInline
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


class IssueEventInline(RestrictedInline):
    model = IssueEvent
    fields = ["at", "kind", "from_tier", "to_tier", "actor", "note"]
    readonly_fields = fields


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
