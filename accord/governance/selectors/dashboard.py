"""Reads of the governance dashboard (staff: the network's overdue cadence, escalations,
health trend and coverage; partners: their own relationship) and of the pages around it
(people to choose, what a handover moved, the network-wide templates). Restricted."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, Q, QuerySet
from django.utils import timezone

from accord.governance.models import (
    TIER_ORDER,
    ActionItem,
    CadenceTemplate,
    ContactSlot,
    Course,
    GovernanceSettings,
    HealthSurvey,
    Issue,
    KeyPerson,
    Meeting,
    OnboardingTask,
    OnboardingTemplate,
    Relationship,
    RoleAssignment,
    Side,
    Tier,
)
from accord.governance.selectors import continuity as continuity_selectors
from accord.governance.selectors import issues as issue_selectors
from accord.governance.selectors import meetings as meeting_selectors
from accord.governance.selectors import structure as structure_selectors
from accord.partners.models import Contact, Organisation

LIST_LIMIT = 10
TREND_PERIODS = 12


def _settings() -> GovernanceSettings:
    return GovernanceSettings.current()


# -- pieces of the dashboard --------------------------------------------------------------
def issues_by_tier(user: Any) -> list[dict[str, Any]]:
    """Open issues per current management tier, and how many of them escalated (one query)."""
    counts = {
        row["tier"]: row
        for row in Issue.objects.restrict(user, "view")
        .filter(status__in=Issue.OPEN_STATUSES)
        .values("tier")
        .annotate(open=Count("pk"), escalated=Count("pk", filter=Q(escalations__gt=0)))
        .order_by()
    }
    labels = dict(Tier.choices)
    return [
        {
            "tier": tier,
            "label": labels[tier],
            "open": counts.get(tier, {}).get("open", 0),
            "escalated": counts.get(tier, {}).get("escalated", 0),
        }
        for tier in TIER_ORDER
    ]


def network_health_trend(user: Any, periods: int = TREND_PERIODS) -> list[dict[str, Any]]:
    """Per period of closed health checks: the mean score of the relationships scored in it,
    how many were scored and how many of them were misaligned; the latest ``periods``."""
    rows = list(
        HealthSurvey.objects.restrict(user, "view")
        .filter(status=HealthSurvey.Status.CLOSED, score__isnull=False)
        .values("period")
        .annotate(
            score=Avg("score"),
            relationships=Count("organisation", distinct=True),
            misaligned_count=Count("pk", filter=Q(misaligned=True)),
        )
        .order_by("-period")[:periods]
    )
    rows.reverse()
    return [
        {
            "period": row["period"],
            "score": Decimal(row["score"]).quantize(Decimal("0.1")),
            "relationships": row["relationships"],
            "misaligned": row["misaligned_count"] > 0,
            "misaligned_count": row["misaligned_count"],
        }
        for row in rows
    ]


def coverage_counts(user: Any) -> dict[str, int]:
    """How many relationships ``user`` sees lost cover, and their problems: the rules of
    ``continuity.coverage_report`` counted by the database in four queries (the report builds
    every row and its labels: seconds for a network of thousands, too slow for a dashboard)."""
    visible = Relationship.objects.restrict(user, "view")
    problems = dict.fromkeys(visible.values_list("organisation_id", flat=True), 0)
    if not problems:
        return {"relationships": 0, "problems": 0}
    mine = {"organisation_id__in": visible.values("organisation_id")}

    def per_relationship(queryset: QuerySet, **counts: Any) -> Iterable[tuple[int, ...]]:
        names = list(counts)
        return (
            queryset.filter(**mine)
            .values("organisation_id")
            .annotate(**counts)
            .order_by()
            .values_list("organisation_id", *names)
        )

    def count(condition: Q) -> Count:
        return Count("pk", filter=condition)

    roles = structure_selectors.ROLES
    for organisation_id in problems:
        problems[organisation_id] = len(roles)  # every role missing until one is held
    for organisation_id, held, left in per_relationship(
        RoleAssignment.objects.restrict(user, "view").filter(role__in=roles),
        held=Count("pk"),
        left=count(Q(holder__active=False)),
    ):
        if organisation_id in problems:
            problems[organisation_id] += left - held
    for organisation_id, empty, inactive in per_relationship(
        ContactSlot.objects.restrict(user, "view"),
        empty=count(Q(vendor_contact__isnull=True)) + count(Q(partner_contact__isnull=True)),
        inactive=count(Q(vendor_contact__active=False)) + count(Q(partner_contact__active=False)),
    ):
        if organisation_id in problems:
            problems[organisation_id] += empty + inactive
    for organisation_id, left, no_backup, backup_left in per_relationship(
        KeyPerson.objects.restrict(user, "view"),
        left=count(Q(person__active=False)),
        no_backup=count(Q(backup__isnull=True)),
        backup_left=count(Q(backup__active=False)),
    ):
        if organisation_id in problems:
            problems[organisation_id] += left + no_backup + backup_left
    return {
        "relationships": sum(1 for n in problems.values() if n),
        "problems": sum(problems.values()),
    }


def dashboard(user: Any, now: dt.datetime | None = None) -> dict[str, Any]:
    """The governance dashboard of ``user`` at ``now``, every figure over what they see.

    Lists hold the first ``LIST_LIMIT`` rows, ``counts`` how many there are in all:
    {"overdue_meetings", "overdue_action_items", "open_escalations_by_tier": {tier: n},
    "issues_by_tier": [{"tier", "label", "open", "escalated"}], "health_trend": [{"period",
    "score", "relationships", "misaligned", "misaligned_count"}], "misaligned",
    "expiring_certifications", "coverage_problems", "roles_incomplete" (a count),
    "roles_incomplete_rows", "counts": {...}, "warning_days", "grace_days"}
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    settings = GovernanceSettings.current()
    meetings = meeting_selectors.list_meetings(user, {"overdue": True}, now=now)
    actions = meeting_selectors.list_action_items(user, {"overdue": True}, now=now).select_related(
        "owner"
    )
    by_tier = issues_by_tier(user)
    misaligned = structure_selectors.list_relationships(user, {"misaligned": True}, now=now)
    incomplete = structure_selectors.list_relationships(
        user, {"roles": "incomplete_or_doubled"}, now=now
    )
    expiring = continuity_selectors.expiring_certifications(
        user, today, settings.certification_warning_days
    )
    coverage = coverage_counts(user)
    counts = {
        "overdue_meetings": meetings.count(),
        "overdue_action_items": actions.count(),
        "open_issues": sum(row["open"] for row in by_tier),
        "escalated_open": sum(row["escalated"] for row in by_tier),
        "misaligned": misaligned.count(),
        "expiring_certifications": expiring.count(),
        "coverage_relationships": coverage["relationships"],
        "coverage_problems": coverage["problems"],
        "roles_incomplete": incomplete.count(),
    }
    return {
        "now": now,
        "today": today,
        "overdue_meetings": list(meetings[:LIST_LIMIT]),
        "overdue_action_items": list(actions[:LIST_LIMIT]),
        "open_escalations_by_tier": {row["tier"]: row["escalated"] for row in by_tier},
        "issues_by_tier": by_tier,
        "health_trend": network_health_trend(user),
        "misaligned": list(misaligned[:LIST_LIMIT]),
        "expiring_certifications": list(expiring[:LIST_LIMIT]),
        "coverage_problems": coverage["problems"],
        "roles_incomplete": counts["roles_incomplete"],
        "roles_incomplete_rows": list(incomplete[:LIST_LIMIT]),
        "counts": counts,
        "warning_days": settings.certification_warning_days,
        "grace_days": settings.meeting_grace_days,
    }


def partner_overview(user: Any, now: dt.datetime | None = None) -> dict[str, Any]:
    """A partner user's own relationship: its open issues, the open action items and
    onboarding tasks of their side (``mine`` counts the user's own), the next meetings and
    the last health score."""
    now = now or timezone.now()
    organisation_id = user.organisation_id
    relationship = (
        Relationship.objects.restrict(user, "view")
        .filter(organisation_id=organisation_id)
        .select_related("organisation")
        .first()
    )
    last_survey = (
        HealthSurvey.objects.restrict(user, "view")
        .filter(status=HealthSurvey.Status.CLOSED, organisation_id=organisation_id)
        .order_by("-closed_at", "-pk")
        .first()
    )
    issues = issue_selectors.list_issues(
        user, {"status": "unresolved", "organisation": organisation_id}
    ).order_by("resolve_by", "pk")
    actions = (
        meeting_selectors.list_action_items(user, {"status": ActionItem.Status.OPEN}, now=now)
        .filter(owner__organisation_id=organisation_id)
        .select_related("owner")
    )
    tasks = (
        OnboardingTask.objects.restrict(user, "view")
        .filter(done_at__isnull=True)
        .filter(
            Q(owner__organisation_id=organisation_id) | Q(owner__isnull=True, side=Side.PARTNER)
        )
        .select_related("plan", "owner")
        .order_by("due_on", "position", "pk")
    )
    meetings = meeting_selectors.list_meetings(
        user, {"status": Meeting.Status.PLANNED, "from": now}, now=now
    )
    mine = Q(owner__user=user)
    return {
        "now": now,
        "today": timezone.localdate(now),
        "relationship": relationship,
        "last_survey": last_survey,
        "open_issues": {"count": issues.count(), "rows": list(issues[:LIST_LIMIT])},
        "action_items": {
            "count": actions.count(),
            "mine": actions.filter(mine).count(),
            "rows": list(actions[: LIST_LIMIT * 2]),
        },
        "tasks": {
            "count": tasks.count(),
            "mine": tasks.filter(mine).count(),
            "rows": list(tasks[: LIST_LIMIT * 2]),
        },
        "meetings": {"count": meetings.count(), "rows": list(meetings[:LIST_LIMIT])},
    }


# -- people ----------------------------------------------------------------------------------
def people(user: Any, organisation: Organisation) -> dict[str, list[Contact]]:
    """The active people ``user`` may name on each side of the relationship with
    ``organisation`` (a partner user: only its own side)."""
    return {
        side: list(structure_selectors.selectable_people(user, organisation, side))
        for side in (Side.VENDOR, Side.PARTNER)
    }


def handover_people(user: Any) -> QuerySet[Contact]:
    """Everyone who can hand over or take over: visible people of the vendor and of the
    organisations with a relationship (inactive ones too: a person who already left still
    hands over what they held)."""
    relationships = Relationship.objects.restrict(user, "view").values("organisation")
    return (
        structure_selectors.visible_contacts(user)
        .filter(Q(organisation__is_vendor=True) | Q(organisation__in=relationships))
        .select_related("organisation")
        .order_by("-organisation__is_vendor", "organisation__name", "full_name", "pk")
    )


def contact_names(user: Any, ids: Iterable[int]) -> dict[int, str]:
    """Names of the people ``ids`` that ``user`` sees (others are left out)."""
    wanted = {int(pk) for pk in ids if isinstance(pk, int) or str(pk).isdigit()}
    if not wanted:
        return {}
    return dict(
        structure_selectors.visible_contacts(user)
        .filter(pk__in=wanted)
        .values_list("pk", "full_name")
    )


def moved_rows(user: Any, moved: Mapping[str, Iterable[int]]) -> dict[str, list[Any]]:
    """The rows a handover lists as moved, as far as ``user`` sees them, by kind."""
    models: dict[str, tuple[Any, tuple[str, ...]]] = {
        "roles": (RoleAssignment, ("organisation", "holder")),
        "slots": (ContactSlot, ("organisation", "vendor_contact", "partner_contact")),
        "key_people": (KeyPerson, ("organisation", "person", "backup")),
        "backups": (KeyPerson, ("organisation", "person", "backup")),
        "issues": (Issue, ("organisation", "owner")),
        "action_items": (ActionItem, ("organisation", "owner")),
        "onboarding_tasks": (OnboardingTask, ("plan__organisation", "owner")),
        "meetings": (Meeting, ("organisation",)),
    }
    found: dict[str, list[Any]] = {}
    for kind, (model, related) in models.items():
        ids = [pk for pk in moved.get(kind) or [] if isinstance(pk, int)]
        found[kind] = (
            list(model.objects.restrict(user, "view").filter(pk__in=ids).select_related(*related))
            if ids
            else []
        )
    found["registrations"] = list(moved.get("registrations") or [])
    return found


# -- templates and settings -------------------------------------------------------------------
def cadence_templates(user: Any) -> QuerySet[CadenceTemplate]:
    return meeting_selectors.list_cadence_templates(user)


def severity_slas(user: Any) -> list[dict[str, Any]]:
    """Each severity's SLA: its row, or the built-in default (``default`` True)."""
    return [
        {
            "severity": row.severity,
            "label": row.get_severity_display(),
            "response_hours": row.response_hours,
            "resolution_hours": row.resolution_hours,
            "default": row.pk is None,
        }
        for row in issue_selectors.list_severity_slas(user)
    ]


def onboarding_templates(user: Any) -> QuerySet[OnboardingTemplate]:
    return continuity_selectors.list_onboarding_templates(user)


def courses(user: Any) -> QuerySet[Course]:
    return continuity_selectors.list_courses(user)


def requirements(user: Any) -> dict[str, dict[int, int]]:
    """{tier code: {course id: minimum}}."""
    found: dict[str, dict[int, int]] = defaultdict(dict)
    for row in continuity_selectors.requirements(user):
        found[row.tier_code][row.course_id] = row.minimum
    return dict(found)


def governance_settings(user: Any) -> GovernanceSettings:
    """The network-wide settings (pages read grace and warning days from them)."""
    return _settings()


def get_template(user: Any, kind: str, pk: int) -> Any:
    """One cadence template, onboarding template or course (404 when invisible)."""
    getter = {
        "cadence": meeting_selectors.get_cadence_template,
        "onboarding": continuity_selectors.get_onboarding_template,
        "course": continuity_selectors.get_course,
    }[kind]
    return getter(user, pk)
