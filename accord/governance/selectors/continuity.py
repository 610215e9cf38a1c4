"""Governance reads: handovers, the coverage report (relationships that lost cover),
onboarding templates and plans with their progress, and enablement (courses, required
certifications per partner tier, who holds what, and what expires soon)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.channel.models import Certification
from accord.core.errors import Http404, ValidationError
from accord.governance.models import (
    CertificationRequirement,
    ContactSlot,
    Course,
    GovernanceSettings,
    Handover,
    KeyPerson,
    OnboardingPlan,
    OnboardingTask,
    OnboardingTemplate,
    Relationship,
    RoleAssignment,
    Tier,
)
from accord.governance.selectors.structure import ROLES, object_id
from accord.partners.models import Organisation
from accord.programs.models import Membership

# -- handovers --------------------------------------------------------------------------


def list_handovers(user: Any, filters: dict[str, Any] | None = None) -> QuerySet:
    """Handovers ``user`` may see, newest first; ``organisation`` (id) and ``person`` (a
    contact id, as predecessor or successor) narrow them."""
    filters = dict(filters or {})
    queryset = Handover.objects.restrict(user, "view").select_related(
        "organisation", "predecessor", "successor", "actor"
    )
    errors: dict[str, list[str]] = {}
    for name in ("organisation", "person"):
        raw = filters.get(name)
        if raw in (None, ""):
            continue
        try:
            value = object_id(raw)
        except Http404:
            errors[name] = [_("Enter a valid id.")]
            continue
        if name == "organisation":
            queryset = queryset.filter(organisation_id=value)
        else:
            queryset = queryset.filter(Q(predecessor_id=value) | Q(successor_id=value))
    if errors:
        raise ValidationError(errors)
    return queryset.order_by("-at", "-pk")


def get_handover(user: Any, pk: Any) -> Handover:
    found = list_handovers(user).filter(pk=object_id(pk)).first()
    if found is None:
        raise Http404
    return found


# -- coverage -----------------------------------------------------------------------------


def _problem(kind: str, label: str, detail: str) -> dict[str, str]:
    return {"kind": kind, "label": label, "detail": detail}


def _slot_label(slot: ContactSlot) -> str:
    return f"{slot.get_tier_display()} · {slot.get_function_display()}"


def coverage_report(user: Any, organisation: Any = None) -> list[dict[str, Any]]:
    """Every relationship ``user`` may see (or just ``organisation``'s) that lost cover, with
    what it lacks: roles no one (or a leaver) holds, contact-map slots with a side empty or
    held by a leaver, key people who left, lack a backup, or whose backup left. Four
    queries, whatever the size."""
    visible = Relationship.objects.restrict(user, "view")
    if organisation is not None:
        visible = visible.filter(organisation_id=getattr(organisation, "pk", organisation))
    relationships = list(
        visible.select_related("organisation").order_by("organisation__name", "pk")
    )
    if not relationships:
        return []
    ids = [relationship.organisation_id for relationship in relationships]
    roles: dict[int, dict[str, RoleAssignment]] = defaultdict(dict)
    for assignment in (
        RoleAssignment.objects.restrict(user, "view")
        .filter(organisation_id__in=ids)
        .select_related("holder")
    ):
        roles[assignment.organisation_id][assignment.role] = assignment
    slots: dict[int, list[ContactSlot]] = defaultdict(list)
    tier_rank = {tier: index for index, tier in enumerate(Tier.values)}
    for slot in (
        ContactSlot.objects.restrict(user, "view")
        .filter(organisation_id__in=ids)
        .select_related("vendor_contact", "partner_contact")
    ):
        slots[slot.organisation_id].append(slot)
    people: dict[int, list[KeyPerson]] = defaultdict(list)
    for row in (
        KeyPerson.objects.restrict(user, "view")
        .filter(organisation_id__in=ids)
        .select_related("person", "backup")
        .order_by("person__full_name", "pk")
    ):
        people[row.organisation_id].append(row)
    report: list[dict[str, Any]] = []
    for relationship in relationships:
        organisation_id = relationship.organisation_id
        problems: list[dict[str, str]] = []
        for role in ROLES:
            label = str(RoleAssignment.Role(role).label)
            assignment = roles[organisation_id].get(role)
            if assignment is None:
                problems.append(_problem("role_missing", label, _("No one holds this role.")))
            elif not assignment.holder.active:
                problems.append(
                    _problem(
                        "role_inactive",
                        label,
                        _("Held by %(name)s, who has left.") % {"name": assignment.holder},
                    )
                )
        for slot in sorted(
            slots[organisation_id], key=lambda s: (tier_rank.get(s.tier, 9), s.function, s.pk)
        ):
            for person, side in (
                (slot.vendor_contact, _("vendor")),
                (slot.partner_contact, _("partner")),
            ):
                if person is None:
                    problems.append(
                        _problem(
                            "slot_empty",
                            _slot_label(slot),
                            _("No %(side)s person named.") % {"side": side},
                        )
                    )
                elif not person.active:
                    problems.append(
                        _problem(
                            "slot_inactive",
                            _slot_label(slot),
                            _("%(name)s (%(side)s) has left.") % {"name": person, "side": side},
                        )
                    )
        for row in people[organisation_id]:
            label = str(row.person)
            if not row.person.active:
                problems.append(
                    _problem(
                        "key_person_inactive", label, _("%(name)s has left.") % {"name": label}
                    )
                )
            if row.backup is None:
                problems.append(_problem("no_backup", label, _("No backup named.")))
            elif not row.backup.active:
                problems.append(
                    _problem(
                        "backup_inactive",
                        label,
                        _("The backup, %(name)s, has left.") % {"name": row.backup},
                    )
                )
        if problems:
            report.append({"organisation": relationship.organisation, "problems": problems})
    return report


# -- onboarding ---------------------------------------------------------------------------


def list_onboarding_templates(user: Any, filters: dict[str, Any] | None = None) -> QuerySet:
    """Onboarding templates; ``kind`` (partner/staff) and ``active`` narrow them."""
    filters = dict(filters or {})
    queryset = OnboardingTemplate.objects.restrict(user, "view")
    kind = filters.get("kind")
    if kind not in (None, ""):
        if kind not in OnboardingTemplate.Kind.values:
            raise ValidationError({"kind": [_("Choose partner or staff.")]})
        queryset = queryset.filter(kind=kind)
    active = filters.get("active")
    if active is not None and active != "":
        text = str(active).lower()
        if text not in ("true", "false", "1", "0"):
            raise ValidationError({"active": [_("Enter yes or no.")]})
        queryset = queryset.filter(active=text in ("true", "1"))
    return queryset.order_by("kind", "name", "pk")


def get_onboarding_template(user: Any, pk: Any) -> OnboardingTemplate:
    found = OnboardingTemplate.objects.restrict(user, "view").filter(pk=object_id(pk)).first()
    if found is None:
        raise Http404
    return found


def list_onboarding_plans(
    user: Any, filters: dict[str, Any] | None = None, *, today: dt.date | None = None
) -> QuerySet:
    """Onboarding plans ``user`` may see, with ``tasks_total``, ``tasks_done`` and
    ``tasks_overdue`` counted in the same query; ``organisation`` (id) narrows them."""
    filters = dict(filters or {})
    today = today or timezone.localdate()
    queryset = (
        OnboardingPlan.objects.restrict(user, "view")
        .select_related("organisation", "template", "subject")
        .annotate(
            tasks_total=Count("tasks"),
            tasks_done=Count("tasks", filter=Q(tasks__done_at__isnull=False)),
            tasks_overdue=Count(
                "tasks", filter=Q(tasks__done_at__isnull=True, tasks__due_on__lt=today)
            ),
        )
    )
    raw = filters.get("organisation")
    if raw not in (None, ""):
        try:
            queryset = queryset.filter(organisation_id=object_id(raw))
        except Http404 as error:
            raise ValidationError({"organisation": [_("Enter a valid id.")]}) from error
    return queryset.order_by("-started_on", "-pk")


def get_plan(user: Any, pk: Any) -> OnboardingPlan:
    found = list_onboarding_plans(user).filter(pk=object_id(pk)).first()
    if found is None:
        raise Http404
    return found


def plan_tasks(user: Any, plan: OnboardingPlan) -> QuerySet:
    return (
        OnboardingTask.objects.restrict(user, "view")
        .filter(plan=plan)
        .select_related("owner", "owner__organisation")
        .order_by("position", "pk")
    )


def get_task(user: Any, pk: Any) -> OnboardingTask:
    found = (
        OnboardingTask.objects.restrict(user, "view")
        .select_related("plan", "owner")
        .filter(pk=object_id(pk))
        .first()
    )
    if found is None:
        raise Http404
    return found


def plan_progress(plan: OnboardingPlan, today: dt.date | None = None) -> dict[str, int]:
    """{"done", "total", "pct" (whole percent), "overdue" (open tasks past due)}."""
    today = today or timezone.localdate()
    tasks = list(plan.tasks.all())
    total = len(tasks)
    done = sum(1 for task in tasks if task.done_at is not None)
    overdue = sum(1 for task in tasks if task.done_at is None and task.due_on < today)
    return {
        "done": done,
        "total": total,
        "pct": round(done * 100 / total) if total else 0,
        "overdue": overdue,
    }


# -- enablement ---------------------------------------------------------------------------


def list_courses(user: Any, filters: dict[str, Any] | None = None) -> QuerySet:
    filters = dict(filters or {})
    queryset = Course.objects.restrict(user, "view")
    if filters.get("active") in (True, "true", "1"):
        queryset = queryset.filter(active=True)
    return queryset.order_by("name", "pk")


def get_course(user: Any, pk: Any) -> Course:
    found = Course.objects.restrict(user, "view").filter(pk=object_id(pk)).first()
    if found is None:
        raise Http404
    return found


def requirements(user: Any, tier_code: str | None = None) -> QuerySet:
    """Certification requirements per partner tier (of one tier when given)."""
    queryset = CertificationRequirement.objects.restrict(user, "view").select_related("course")
    if tier_code:
        queryset = queryset.filter(tier_code=tier_code)
    return queryset.order_by("tier_code", "course__name", "pk")


def partner_tier(organisation: Organisation | int, on: dt.date) -> str | None:
    """The partner's effective tier on ``on`` in the governance tier program (None without
    a program or a tier)."""
    program_id = GovernanceSettings.current().tier_program_id
    if program_id is None:
        return None
    membership = Membership.objects.filter(
        program_id=program_id, organisation_id=getattr(organisation, "pk", organisation)
    ).first()
    if membership is None:
        return None
    return membership.effective_tier(on) or None


def certification_status(certification: Certification, on: dt.date, warning_days: int) -> str:
    """ok, expiring (within the warning window) or expired, on ``on``."""
    expires = certification.expires_on
    if expires is None:
        return "ok"
    if expires < on:
        return "expired"
    if expires <= on + dt.timedelta(days=warning_days):
        return "expiring"
    return "ok"


def _person_key(certification: Certification) -> tuple[str, Any]:
    if certification.contact_id is not None:
        return ("contact", certification.contact_id)
    return ("name", " ".join(certification.person.split()).casefold())


def enablement(user: Any, organisation: Organisation | int, on: dt.date | None = None) -> dict:
    """The partner's people with their certifications (status ok | expiring | expired on
    ``on``), its effective tier, and that tier's requirements with how many people meet each
    (a certification counts when earned by ``on`` and not expired)."""
    on = on or timezone.localdate()
    organisation_id = getattr(organisation, "pk", organisation)
    found = (
        Organisation.objects.restrict(user, "view")
        .filter(pk=object_id(organisation_id), is_vendor=False)
        .first()
    )
    if found is None:
        raise Http404
    warning_days = GovernanceSettings.current().certification_warning_days
    certifications = list(
        Certification.objects.restrict(user, "view")
        .filter(organisation=found, earned_on__lte=on)
        .select_related("contact")
        .order_by("person", "name", "-earned_on", "pk")
    )
    courses = {
        course.certification: course
        for course in Course.objects.filter(
            certification__in={certification.name for certification in certifications}
        )
    }
    people: dict[tuple[str, Any], dict[str, Any]] = {}
    valid: dict[str, set[tuple[str, Any]]] = defaultdict(set)
    for certification in certifications:
        key = _person_key(certification)
        person = people.setdefault(
            key,
            {
                "contact": certification.contact,
                "person": str(certification.contact or certification.person),
                "certifications": [],
            },
        )
        status = certification_status(certification, on, warning_days)
        person["certifications"].append(
            {
                "certification": certification,
                "name": certification.name,
                "course": courses.get(certification.name),
                "earned_on": certification.earned_on,
                "expires_on": certification.expires_on,
                "status": status,
            }
        )
        if status != "expired":
            valid[certification.name].add(key)
    tier = partner_tier(found, on)
    needed: list[dict[str, Any]] = []
    if tier:
        for requirement in requirements(user, tier):
            met = len(valid.get(requirement.course.certification, ()))
            needed.append(
                {
                    "requirement": requirement,
                    "course": requirement.course,
                    "minimum": requirement.minimum,
                    "met": met,
                    "missing": max(0, requirement.minimum - met),
                    "ok": met >= requirement.minimum,
                }
            )
    return {
        "organisation": found,
        "on": on,
        "tier": tier,
        "warning_days": warning_days,
        "people": sorted(people.values(), key=lambda p: (p["person"].casefold(), p["person"])),
        "requirements": needed,
        "complete": all(item["ok"] for item in needed),
    }


def expiring_certifications(
    user: Any, on: dt.date | None = None, days: int | None = None
) -> QuerySet:
    """Certifications ``user`` may see that expire within ``days`` of ``on`` (the settings'
    warning window by default), soonest first."""
    on = on or timezone.localdate()
    if days is None:
        days = GovernanceSettings.current().certification_warning_days
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 3650:
        raise ValidationError({"days": [_("Enter a whole number of days from 0 to 3650.")]})
    return (
        Certification.objects.restrict(user, "view")
        .filter(expires_on__gte=on, expires_on__lte=on + dt.timedelta(days=days))
        .select_related("organisation", "contact")
        .order_by("expires_on", "pk")
    )
