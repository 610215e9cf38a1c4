"""Governance reads: issues, their history and attachments, the severity SLAs, and issue
metrics (time to resolve, escalations per relationship) as each user may see them."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from accord.core.errors import Http404
from accord.governance.models import (
    TIER_ORDER,
    Issue,
    IssueAttachment,
    IssueEvent,
    SeveritySla,
    Tier,
)
from accord.governance.selectors.meetings import choice, flag, identifier
from accord.partners.models import Organisation

MAX_QUERY = 200


def issues(user: Any) -> QuerySet:
    return Issue.objects.restrict(user, "view").select_related(
        "organisation", "owner__organisation", "raised_by"
    )


def list_issues(user: Any, filters: Mapping[str, Any] | None = None) -> QuerySet:
    """Issues ``user`` may see, the newest first. Filters: ``organisation`` (id),
    ``status`` (a status, or ``unresolved`` for open and responded), ``severity``,
    ``tier``, ``escalated`` (escalated at least once), ``overdue`` (unresolved past its
    resolution deadline), ``owner`` (contact id), ``q`` (number, title or description)."""
    filters = filters or {}
    queryset = issues(user)
    organisation_id = identifier(filters.get("organisation"), "organisation")
    if organisation_id is not None:
        queryset = queryset.filter(organisation_id=organisation_id)
    status = filters.get("status")
    if status == "unresolved":
        queryset = queryset.filter(status__in=Issue.OPEN_STATUSES)
    else:
        status = choice(status, Issue.Status, "status")
        if status is not None:
            queryset = queryset.filter(status=status)
    severity = choice(filters.get("severity"), Issue.Severity, "severity")
    if severity is not None:
        queryset = queryset.filter(severity=severity)
    tier = choice(filters.get("tier"), Tier, "tier")
    if tier is not None:
        queryset = queryset.filter(tier=tier)
    escalated = flag(filters.get("escalated"), "escalated")
    if escalated is not None:
        queryset = (
            queryset.filter(escalations__gt=0) if escalated else queryset.filter(escalations=0)
        )
    overdue = flag(filters.get("overdue"), "overdue")
    if overdue is not None:
        condition = Q(status__in=Issue.OPEN_STATUSES, resolve_by__lt=timezone.now())
        queryset = queryset.filter(condition) if overdue else queryset.exclude(condition)
    owner_id = identifier(filters.get("owner"), "owner")
    if owner_id is not None:
        queryset = queryset.filter(owner_id=owner_id)
    q = filters.get("q")
    if isinstance(q, str) and q.strip():
        q = q.strip().replace("\x00", "")[:MAX_QUERY]
        queryset = queryset.filter(
            Q(number__icontains=q) | Q(title__icontains=q) | Q(description__icontains=q)
        )
    return queryset.order_by("-raised_at", "-pk")


def get_issue(user: Any, pk: Any) -> Issue:
    """One issue (404 when invisible), with its attachments' names and sizes (not their
    contents) and its corrective actions."""
    try:
        found = issues(user).prefetch_related("corrective_actions__owner").filter(pk=pk).first()
    except (TypeError, ValueError, OverflowError):
        found = None
    if found is None:
        raise Http404
    return found


def issue_events(user: Any, issue: Issue) -> QuerySet:
    """The history of ``issue``, oldest first."""
    return (
        IssueEvent.objects.restrict(user, "view")
        .filter(issue=issue)
        .select_related("actor")
        .order_by("at", "pk")
    )


def issue_attachments(user: Any, issue: Issue) -> QuerySet:
    """The attachments of ``issue`` without their contents (for lists)."""
    return (
        IssueAttachment.objects.restrict(user, "view")
        .filter(issue=issue)
        .defer("content")
        .select_related("uploaded_by")
        .order_by("uploaded_at", "pk")
    )


def attachments_by_issue(user: Any, issues: Iterable[Issue]) -> dict[int, list[IssueAttachment]]:
    """The attachments of several issues (a page of a list) without their contents, by
    issue id, in one query."""
    found: dict[int, list[IssueAttachment]] = {}
    rows = (
        IssueAttachment.objects.restrict(user, "view")
        .filter(issue__in=[issue.pk for issue in issues])
        .defer("content")
        .order_by("uploaded_at", "pk")
    )
    for row in rows:
        found.setdefault(row.issue_id, []).append(row)
    return found


def get_attachment(user: Any, pk: Any) -> IssueAttachment:
    """One attachment with its content, for download (404 when invisible)."""
    try:
        found = (
            IssueAttachment.objects.restrict(user, "view")
            .select_related("issue")
            .filter(pk=pk)
            .first()
        )
    except (TypeError, ValueError, OverflowError):
        found = None
    if found is None:
        raise Http404
    return found


def list_severity_slas(user: Any) -> list[SeveritySla]:
    """The SLA of every severity, most urgent first: the stored row, else an unsaved row
    with the defaults."""
    if not user.has_perm("governance.view_severitysla"):
        raise Http404
    stored = {row.severity: row for row in SeveritySla.objects.restrict(user, "view")}
    rows = []
    for severity in Issue.Severity.values:
        row = stored.get(severity)
        if row is None:
            response, resolution = SeveritySla.DEFAULTS[severity]
            row = SeveritySla(
                severity=severity, response_hours=response, resolution_hours=resolution
            )
        rows.append(row)
    return rows


def issue_metrics(user: Any, organisation: Any = None) -> dict[str, Any]:
    """Open issues (and how many escalated), open issues per tier, mean and median hours
    from raising to resolution of resolved issues, and escalations per relationship (the
    most first), over the issues ``user`` may see (of one organisation, when given)."""
    queryset = Issue.objects.restrict(user, "view")
    organisation_id = identifier(organisation, "organisation")
    if organisation_id is not None:
        queryset = queryset.filter(organisation_id=organisation_id)
    unresolved = queryset.filter(status__in=Issue.OPEN_STATUSES)
    counts = unresolved.aggregate(
        open=Count("pk"), escalated_open=Count("pk", filter=Q(escalations__gt=0))
    )
    by_tier = dict.fromkeys(TIER_ORDER, 0)
    for row in unresolved.values("tier").annotate(n=Count("pk")).order_by():
        by_tier[row["tier"]] = row["n"]
    durations = [
        (resolved_at - raised_at).total_seconds() / 3600
        for raised_at, resolved_at in queryset.filter(
            status=Issue.Status.RESOLVED, resolved_at__isnull=False
        ).values_list("raised_at", "resolved_at")
    ]
    per_organisation = (
        queryset.values("organisation_id")
        .annotate(n=Sum("escalations"))
        .filter(n__gt=0)
        .order_by("-n", "organisation_id")
    )
    rows = list(per_organisation)
    names = Organisation.objects.in_bulk([row["organisation_id"] for row in rows])
    return {
        "open": counts["open"],
        "escalated_open": counts["escalated_open"],
        "by_tier": by_tier,
        "resolved": len(durations),
        "mean_hours_to_resolve": round(statistics.fmean(durations), 1) if durations else None,
        "median_hours_to_resolve": round(statistics.median(durations), 1) if durations else None,
        "escalations_per_relationship": [
            (names[row["organisation_id"]], row["n"])
            for row in rows
            if row["organisation_id"] in names
        ],
    }
