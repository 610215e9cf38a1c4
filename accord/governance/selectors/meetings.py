"""Governance reads: meetings, action items and cadence templates as each user may see
them (through restrict), with the overdue filters the dashboards and lists use."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from accord.core.errors import Http404, ValidationError
from accord.governance.models import (
    ActionItem,
    CadenceTemplate,
    GovernanceSettings,
    Meeting,
    Tier,
)

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


def flag(value: Any, field: str) -> bool | None:
    """A filter's yes/no from a bool or query-string text; None when not given."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE | FALSE:
        return value.strip().lower() in TRUE if value.strip() else None
    raise ValidationError({field: [_("Expected yes or no.")]})


def identifier(value: Any, field: str) -> int | None:
    """A filter's id (an object, an int or digits); None when not given."""
    if value is None or value == "":
        return None
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    else:
        raise ValidationError({field: [_("Expected an id.")]})
    if not 0 < number < 2**63:
        raise ValidationError({field: [_("Expected an id.")]})
    return number


def choice(value: Any, choices: Any, field: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value not in choices.values:
        raise ValidationError(
            {field: [_("Choose one of: %(choices)s.") % {"choices": ", ".join(choices.values)}]}
        )
    return value


def moment(value: Any, field: str, *, end: bool = False) -> dt.datetime | None:
    """A datetime filter from a datetime, a date (its start, or the next day's start for
    an end bound) or ISO text; None when not given."""
    if value is None or value == "":
        return None
    parsed: Any = value
    if isinstance(value, str):
        text = value.strip()
        try:
            # A bare date first: fromisoformat (under parse_datetime) reads it as midnight.
            parsed = parse_date(text) if len(text) == 10 else parse_datetime(text)
        except ValueError:
            parsed = None
    if isinstance(parsed, dt.datetime):
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed, timezone.get_default_timezone())
        return parsed
    if isinstance(parsed, dt.date):
        day = parsed + dt.timedelta(days=1) if end else parsed
        return timezone.make_aware(
            dt.datetime.combine(day, dt.time.min), timezone.get_default_timezone()
        )
    raise ValidationError({field: [_("Enter a valid date.")]})


def meetings(user: Any) -> QuerySet:
    return Meeting.objects.restrict(user, "view").select_related("organisation", "cadence")


def list_meetings(
    user: Any, filters: Mapping[str, Any] | None = None, *, now: dt.datetime | None = None
) -> QuerySet:
    """Meetings ``user`` may see, soonest first. Filters: ``organisation`` (id), ``status``,
    ``tier``, ``overdue`` (planned and past the grace days), ``from`` / ``to`` (start
    within; a bare ``to`` date includes that day)."""
    filters = filters or {}
    now = now or timezone.now()
    queryset = meetings(user)
    organisation_id = identifier(filters.get("organisation"), "organisation")
    if organisation_id is not None:
        queryset = queryset.filter(organisation_id=organisation_id)
    status = choice(filters.get("status"), Meeting.Status, "status")
    if status is not None:
        queryset = queryset.filter(status=status)
    tier = choice(filters.get("tier"), Tier, "tier")
    if tier is not None:
        queryset = queryset.filter(tier=tier)
    overdue = flag(filters.get("overdue"), "overdue")
    if overdue is not None:
        condition = overdue_meetings(now)
        queryset = queryset.filter(condition) if overdue else queryset.exclude(condition)
    start = moment(filters.get("from"), "from")
    if start is not None:
        queryset = queryset.filter(starts_at__gte=start)
    end = moment(filters.get("to"), "to", end=True)
    if end is not None:
        queryset = queryset.filter(starts_at__lt=end)
    return queryset.order_by("starts_at", "pk")


def overdue_meetings(now: dt.datetime) -> Q:
    """Planned meetings whose start plus the grace days has passed."""
    grace = GovernanceSettings.current().meeting_grace_days
    return Q(status=Meeting.Status.PLANNED, starts_at__lt=now - dt.timedelta(days=grace))


def is_overdue(meeting: Meeting, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    grace = GovernanceSettings.current().meeting_grace_days
    return meeting.status == Meeting.Status.PLANNED and meeting.starts_at < now - dt.timedelta(
        days=grace
    )


def get_meeting(user: Any, pk: Any) -> Meeting:
    """One meeting with its attendees and action items (404 when invisible)."""
    try:
        found = (
            meetings(user)
            .prefetch_related("attendees__organisation", "action_items__owner")
            .filter(pk=pk)
            .first()
        )
    except (TypeError, ValueError, OverflowError):
        found = None
    if found is None:
        raise Http404
    return found


def action_items(user: Any) -> QuerySet:
    return ActionItem.objects.restrict(user, "view").select_related(
        "organisation", "owner__organisation", "meeting", "issue"
    )


def overdue_actions(today: dt.date) -> Q:
    return Q(status=ActionItem.Status.OPEN, due_on__lt=today)


def list_action_items(
    user: Any, filters: Mapping[str, Any] | None = None, *, now: dt.datetime | None = None
) -> QuerySet:
    """Action items ``user`` may see, the earliest due first. Filters: ``organisation``,
    ``owner`` (contact id), ``meeting``, ``issue``, ``status``, ``overdue`` (open and past
    the due date)."""
    filters = filters or {}
    queryset = action_items(user)
    organisation_id = identifier(filters.get("organisation"), "organisation")
    if organisation_id is not None:
        queryset = queryset.filter(organisation_id=organisation_id)
    for name in ("owner", "meeting", "issue"):
        related_id = identifier(filters.get(name), name)
        if related_id is not None:
            queryset = queryset.filter(**{f"{name}_id": related_id})
    status = choice(filters.get("status"), ActionItem.Status, "status")
    if status is not None:
        queryset = queryset.filter(status=status)
    overdue = flag(filters.get("overdue"), "overdue")
    if overdue is not None:
        condition = overdue_actions(timezone.localdate(now or timezone.now()))
        queryset = queryset.filter(condition) if overdue else queryset.exclude(condition)
    return queryset.order_by("due_on", "pk")


def get_action_item(user: Any, pk: Any) -> ActionItem:
    try:
        found = action_items(user).filter(pk=pk).first()
    except (TypeError, ValueError, OverflowError):
        found = None
    if found is None:
        raise Http404
    return found


def list_cadence_templates(user: Any, *, active: bool | None = None) -> QuerySet:
    queryset = CadenceTemplate.objects.restrict(user, "view")
    if active is not None:
        queryset = queryset.filter(active=active)
    return queryset.order_by("tier", "name", "pk")


def get_cadence_template(user: Any, pk: Any) -> CadenceTemplate:
    try:
        found = CadenceTemplate.objects.restrict(user, "view").filter(pk=pk).first()
    except (TypeError, ValueError, OverflowError):
        found = None
    if found is None:
        raise Http404
    return found
