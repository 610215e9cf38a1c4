"""Governance writes: cadence templates and the meeting calendar planned from them, meeting
records (attendees, agenda, minutes, decisions), action items, and the overdue flags."""

from __future__ import annotations

import calendar as month_calendar
import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, cast

from django.db import models, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from accord.core.errors import Http404, InvalidTransition, PermissionDenied, ValidationError
from accord.core.models import AuditEntry
from accord.core.services import (
    apply_changes,
    ensure_model_permitted,
    ensure_permitted,
    ensure_still_visible,
    record,
    snapshot,
    validate,
)
from accord.governance.models import (
    ActionItem,
    CadenceTemplate,
    ContactSlot,
    Frequency,
    GovernanceSettings,
    Issue,
    Meeting,
    RoleAssignment,
)
from accord.governance.people import notify_contacts
from accord.governance.selectors.meetings import overdue_actions, overdue_meetings
from accord.partners.models import Contact, Organisation

CADENCE_FIELDS = frozenset(
    {
        "name",
        "name_zh",
        "tier",
        "frequency",
        "partner_tiers",
        "duration_minutes",
        "agenda",
        "active",
    }
)
MEETING_FIELDS = frozenset({"title", "tier", "starts_at", "duration_minutes", "location", "agenda"})
# A change to these makes calendar clients update the event (its SEQUENCE goes up).
CALENDAR_FIELDS = frozenset({"title", "starts_at", "duration_minutes", "location", "agenda"})
ACTION_FIELDS = frozenset({"title", "owner", "due_on", "status"})
MEETING_HOUR = dt.time(10, 0)
MAX_MONTHS = 36
MONTHS_BETWEEN = {Frequency.MONTHLY: 1, Frequency.QUARTERLY: 3, Frequency.ANNUAL: 12}


# -- shared helpers (the issues services use them too) ----------------------------------


def is_partner(actor: Any) -> bool:
    return actor is not None and getattr(actor, "is_partner", False)


def forbid_partner(actor: Any) -> None:
    """Steps only the vendor's people take (resolve, assign, plan meetings, ...)."""
    if is_partner(actor):
        raise PermissionDenied


def json_safe(value: Any) -> Any:
    """Snapshot values the audit log's JSON can hold (UUIDs as text)."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes):
        return None
    return value


def create_recorded(*, actor: Any, obj: models.Model, skip: Iterable[str] = ()) -> models.Model:
    """Validate, insert and audit ``obj`` like ``create_audited``, leaving ``skip`` fields
    (file contents) out of the log and writing UUIDs as text."""
    validate(obj)
    obj.save(force_insert=True)
    changes = {
        name: [None, json_safe(value)]
        for name, value in snapshot(obj).items()
        if name not in skip and value not in (None, "", [])
    }
    record(actor=actor, obj=obj, action=AuditEntry.Action.CREATE, changes=changes)
    ensure_still_visible(actor, obj)
    return obj


def relationship_organisation(actor: Any, organisation: Any, *, own: bool = False) -> Organisation:
    """The organisation of a relationship as ``actor`` may act on it: invisible or missing
    is a 404; the vendor itself is not a relationship; with ``own`` a partner may act only
    on its own organisation (a visible child organisation is a 403)."""
    organisation_id = organisation.pk if isinstance(organisation, Organisation) else organisation
    queryset = (
        Organisation.objects.restrict(actor, "view") if actor is not None else Organisation.objects
    )
    try:
        found = queryset.filter(pk=organisation_id).first()
    except (TypeError, ValueError, OverflowError):
        found = None
    if found is None:
        raise Http404
    if found.is_vendor:
        raise ValidationError(
            {
                "organisation": [
                    _(
                        "Governance applies to the organisations the vendor works with, "
                        "not to the vendor itself."
                    )
                ]
            }
        )
    if own and is_partner(actor) and found.pk != actor.organisation_id:
        raise PermissionDenied
    return found


def person(
    actor: Any,
    organisation: Organisation,
    value: Any,
    *,
    field: str,
    side: str | None = None,
    required: bool = True,
) -> Contact | None:
    """The contact ``value`` (a Contact or an id) checked for a write about the relationship
    with ``organisation``: visible to ``actor``, active, and a person of the vendor or of the
    relationship's organisation (only of the one ``side`` names, when given)."""
    if value is None or value == "":
        if required:
            raise ValidationError({field: [_("Choose a person.")]})
        return None
    vendor = Organisation.objects.vendor()
    allowed = {
        "vendor": [vendor.pk],
        "partner": [organisation.pk],
        None: [vendor.pk, organisation.pk],
    }[side]
    if side == "vendor":
        message = _("Choose a person of %(organisation)s.") % {"organisation": vendor.name}
    elif side == "partner":
        message = _("Choose a person of %(organisation)s.") % {"organisation": organisation.name}
    else:
        message = _("Choose a person of %(vendor)s or of %(organisation)s.") % {
            "vendor": vendor.name,
            "organisation": organisation.name,
        }
    contact_id = value.pk if isinstance(value, Contact) else value
    if isinstance(contact_id, bool) or not isinstance(contact_id, int | str):
        raise ValidationError({field: [message]})
    try:
        found = (
            Contact.objects.select_related("organisation", "user")
            .filter(pk=int(contact_id), organisation_id__in=allowed)
            .first()
        )
    except (TypeError, ValueError, OverflowError):
        found = None
    # The vendor's people see the vendor's own staff whatever their scope (a regional
    # coordinator's territories hold partners, not the vendor); partner-side people and,
    # for partners, everyone, only as restrict shows them.
    if (
        found is not None
        and actor is not None
        and (is_partner(actor) or found.organisation_id != vendor.pk)
        and not Contact.objects.restrict(actor, "view").filter(pk=found.pk).exists()
    ):
        found = None
    if found is None:
        raise ValidationError({field: [message]})
    if not found.active:
        raise ValidationError(
            {field: [_("%(name)s has left; choose someone else.") % {"name": found.full_name}]}
        )
    return found


def people(
    actor: Any, organisation: Organisation, values: Iterable[Any], *, field: str
) -> list[Contact]:
    """Several contacts checked like ``person`` (duplicates dropped, order kept)."""
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ValidationError({field: [_("Expected a list of people.")]})
    found: dict[int, Contact] = {}
    for value in values:
        contact = person(actor, organisation, value, field=field)
        if contact is not None:
            found.setdefault(contact.pk, contact)
    return list(found.values())


def own_side_contact(actor: Any, contact: Contact | None) -> bool:
    """Whether ``contact`` is a person of the partner ``actor``'s own organisation."""
    return contact is not None and contact.organisation_id == actor.organisation_id


def tier_people(organisation_id: int, tier: str) -> list[Contact]:
    """The paired people at ``tier`` of a relationship, vendor side first, both sides of
    every contact-map slot at that tier (empty sides skipped)."""
    slots = (
        ContactSlot.objects.filter(organisation_id=organisation_id, tier=tier)
        .select_related("vendor_contact__user", "partner_contact__user")
        .order_by("function", "pk")
    )
    found: list[Contact] = []
    for slot in slots:
        found.extend(c for c in (slot.vendor_contact, slot.partner_contact) if c is not None)
    return found


def role_holder(organisation_id: int, role: str) -> Contact | None:
    assignment = (
        RoleAssignment.objects.filter(organisation_id=organisation_id, role=role)
        .select_related("holder__user")
        .first()
    )
    return assignment.holder if assignment is not None else None


def active_unique(contacts: Iterable[Contact | None]) -> list[Contact]:
    """The active contacts, each once, in order: whom ``notify_contacts`` will reach."""
    seen: set[int] = set()
    found = []
    for contact in contacts:
        if contact is None or not contact.active or contact.pk in seen:
            continue
        seen.add(contact.pk)
        found.append(contact)
    return found


def as_date(value: Any, field: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    parsed = None
    if isinstance(value, str):
        try:
            parsed = parse_date(value.strip())
        except ValueError:
            parsed = None
    if parsed is None:
        raise ValidationError({field: [_("Enter a valid date.")]})
    return parsed


def as_datetime(value: Any, field: str) -> dt.datetime:
    """An aware datetime from a datetime or ISO text (naive means the server's time zone)."""
    parsed = value if isinstance(value, dt.datetime) else None
    if parsed is None and isinstance(value, str):
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
    if parsed is None:
        raise ValidationError({field: [_("Enter a valid date and time.")]})
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_default_timezone())
    return parsed


def text(value: Any, field: str, *, required: bool = False, max_length: int | None = None) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError({field: [_("Expected text.")]})
    value = value.strip()
    if required and not value:
        raise ValidationError({field: [_("This field is required.")]})
    if "\x00" in value:
        raise ValidationError({field: [_("Null characters are not allowed.")]})
    if max_length is not None and len(value) > max_length:
        raise ValidationError(
            {field: [_("Use at most %(count)s characters.") % {"count": max_length}]}
        )
    return value


def unknown_fields(data: Mapping[str, Any], allowed: frozenset[str]) -> None:
    if not isinstance(data, Mapping):
        raise ValidationError({"data": [_("Expected an object.")]})
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed here.")] for name in unknown})


def utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def notify(
    contacts: Iterable[Contact | None],
    *,
    subject: Callable[[], str],
    body: Callable[[], str],
    link: str,
    organisation: Organisation | None,
    skip_user: Any = None,
) -> list[int]:
    """Notify ``contacts`` (see ``notify_contacts``); the ids of the people reached."""
    reached = [
        contact
        for contact in active_unique(contacts)
        if skip_user is None
        or contact.user_id is None
        or contact.user_id != getattr(skip_user, "pk", None)
    ]
    notify_contacts(
        reached,
        subject=subject,
        body=body,
        link=link,
        organisation=organisation,
        skip_user=skip_user,
    )
    return [contact.pk for contact in reached]


def _meeting_link(meeting: Meeting) -> str:
    return f"/governance/meetings/{meeting.pk}/"


def _action_link(item: ActionItem) -> str:
    if item.meeting_id:
        return f"/governance/meetings/{item.meeting_id}/"
    if item.issue_id:
        return f"/governance/issues/{item.issue_id}/"
    return f"/governance/relationships/{item.organisation_id}/?tab=meetings"


# -- cadence templates --------------------------------------------------------------


def _cadence_data(data: Mapping[str, Any]) -> dict[str, Any]:
    unknown_fields(data, CADENCE_FIELDS)
    cleaned = dict(data)
    if "partner_tiers" in cleaned:
        tiers = cleaned["partner_tiers"]
        if tiers is None:
            tiers = []
        if isinstance(tiers, str) or not isinstance(tiers, Sequence):
            raise ValidationError({"partner_tiers": [_("Expected a list of tier codes.")]})
        codes = []
        for code in tiers:
            if not isinstance(code, str) or not code.strip() or len(code) > 40:
                raise ValidationError({"partner_tiers": [_("Expected a list of tier codes.")]})
            if code.strip() not in codes:
                codes.append(code.strip())
        cleaned["partner_tiers"] = codes
    for name in ("name", "name_zh", "agenda"):
        if name in cleaned:
            cleaned[name] = text(cleaned[name], name)
    return cleaned


@transaction.atomic(durable=True)
def create_cadence_template(*, actor: Any, data: Mapping[str, Any]) -> CadenceTemplate:
    """A new cadence template (network-wide: manage permission)."""
    ensure_model_permitted(actor, "add", CadenceTemplate)
    forbid_partner(actor)
    template = CadenceTemplate(**_cadence_data(data))
    return create_recorded(actor=actor, obj=template)


@transaction.atomic(durable=True)
def update_cadence_template(
    *, actor: Any, template: CadenceTemplate, data: Mapping[str, Any]
) -> CadenceTemplate:
    ensure_permitted(actor, "change", template)
    forbid_partner(actor)
    return apply_changes(actor=actor, obj=template, data=_cadence_data(data))


def _add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, month_calendar.monthrange(year, month)[1]))


def _weekday(day: dt.date) -> dt.date:
    """A Saturday or Sunday moves to the Monday after."""
    return day + dt.timedelta(days=(7 - day.weekday()) % 7) if day.weekday() >= 5 else day


def occurrences(frequency: str, start: dt.date, months: int) -> list[dt.date]:
    """The days a cadence of ``frequency`` meets in ``[start, start + months)``."""
    end = _add_months(start, months)
    days: list[dt.date] = []
    if frequency == Frequency.WEEKLY:
        day = _weekday(start)
        while day < end:
            days.append(day)
            day += dt.timedelta(days=7)
        return days
    step = MONTHS_BETWEEN[frequency]
    index = 0
    while (day := _add_months(start, step * index)) < end:
        days.append(_weekday(day))
        index += 1
    return days


def partner_tier(organisation: Organisation, on: dt.date) -> str:
    """The organisation's effective tier code in the governance tier program ('' if none)."""
    from accord.programs.models import Membership

    program_id = GovernanceSettings.current().tier_program_id
    if program_id is None:
        return ""
    membership = Membership.objects.filter(program_id=program_id, organisation=organisation).first()
    return membership.effective_tier(on) if membership is not None else ""


def cadences_for(organisation: Organisation, on: dt.date) -> list[CadenceTemplate]:
    """The active cadence templates that apply to ``organisation``'s partner tier on ``on``."""
    tier = partner_tier(organisation, on)
    return [
        template
        for template in CadenceTemplate.objects.filter(active=True).order_by("tier", "name", "pk")
        if not template.partner_tiers or tier in template.partner_tiers
    ]


@transaction.atomic(durable=True)
def apply_cadences(
    *,
    actor: Any,
    organisation: Any,
    start: dt.date | None = None,
    months: int = 12,
    now: dt.datetime | None = None,
) -> list[Meeting]:
    """Plan the meetings of every cadence that applies to the relationship, from ``start``
    over ``months``, at 10:00 local time; meetings already planned are not planned again.
    Returns the meetings it planned (none on a second run)."""
    ensure_model_permitted(actor, "add", Meeting)
    forbid_partner(actor)
    organisation = relationship_organisation(actor, organisation)
    now = now or timezone.now()
    start = as_date(start, "start") if start is not None else timezone.localdate(now)
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= MAX_MONTHS:
        raise ValidationError(
            {"months": [_("Choose 1 to %(count)s months.") % {"count": MAX_MONTHS}]}
        )
    zone = timezone.get_default_timezone()
    planned: list[Meeting] = []
    attendees_by_tier: dict[str, list[Contact]] = {}
    for template in cadences_for(organisation, start):
        moments = [
            timezone.make_aware(dt.datetime.combine(day, MEETING_HOUR), zone)
            for day in occurrences(template.frequency, start, months)
        ]
        taken = set(
            Meeting.objects.filter(
                organisation=organisation, cadence=template, starts_at__in=moments
            ).values_list("starts_at", flat=True)
        )
        if template.tier not in attendees_by_tier:
            attendees_by_tier[template.tier] = active_unique(
                tier_people(organisation.pk, template.tier)
            )
        for moment in moments:
            if moment in taken:
                continue
            meeting = Meeting(
                organisation=organisation,
                cadence=template,
                title=template.name,
                title_zh=template.name_zh,
                tier=template.tier,
                starts_at=moment,
                duration_minutes=template.duration_minutes,
                agenda=template.agenda,
                created_at=now,
            )
            create_recorded(actor=actor, obj=meeting)
            meeting.attendees.set(attendees_by_tier[template.tier])
            planned.append(meeting)
    return planned


# -- meetings -----------------------------------------------------------------------


def _meeting_data(data: Mapping[str, Any]) -> dict[str, Any]:
    unknown_fields(data, MEETING_FIELDS)
    cleaned = dict(data)
    if "starts_at" in cleaned:
        cleaned["starts_at"] = as_datetime(cleaned["starts_at"], "starts_at")
    for name in ("title", "location", "agenda"):
        if name in cleaned:
            cleaned[name] = text(cleaned[name], name)
    return cleaned


def _locked_meeting(meeting: Meeting) -> Meeting:
    found = Meeting.objects.select_for_update(of=("self",)).filter(pk=meeting.pk).first()
    if found is None:
        raise Http404
    return found


def _attendee_ids(meeting: Meeting) -> list[int]:
    return sorted(meeting.attendees.values_list("pk", flat=True))


@transaction.atomic(durable=True)
def create_meeting(
    *, actor: Any, organisation: Any, data: Mapping[str, Any], attendees: Iterable[Any] = ()
) -> Meeting:
    """A meeting planned by hand (not from a cadence), with its attendees from both sides."""
    ensure_model_permitted(actor, "add", Meeting)
    forbid_partner(actor)
    organisation = relationship_organisation(actor, organisation)
    cleaned = _meeting_data(data)
    for name in ("title", "tier", "starts_at"):
        if not cleaned.get(name):
            raise ValidationError({name: [_("This field is required.")]})
    contacts = people(actor, organisation, attendees, field="attendees")
    meeting = Meeting(organisation=organisation, **cleaned)
    create_recorded(actor=actor, obj=meeting)
    meeting.attendees.set(contacts)
    if contacts:
        record(
            actor=actor,
            obj=meeting,
            action=AuditEntry.Action.ASSIGN,
            changes={"attendees": [[], [c.pk for c in contacts]]},
        )
    return meeting


@transaction.atomic(durable=True)
def update_meeting(
    *,
    actor: Any,
    meeting: Meeting,
    data: Mapping[str, Any],
    attendees: Iterable[Any] | None = None,
) -> Meeting:
    """Change a planned meeting; calendar clients see the new version (SEQUENCE + 1)."""
    ensure_permitted(actor, "change", meeting)
    forbid_partner(actor)
    meeting = _locked_meeting(meeting)
    if meeting.status != Meeting.Status.PLANNED:
        raise InvalidTransition(
            _("A meeting that is “%(status)s” cannot be changed.")
            % {"status": meeting.get_status_display()},
            current=meeting.status,
            requested="planned",
        )
    cleaned = _meeting_data(data)
    contacts = (
        people(actor, meeting.organisation, attendees, field="attendees")
        if attendees is not None
        else None
    )
    before = {name: getattr(meeting, name) for name in CALENDAR_FIELDS & set(cleaned)}
    apply_changes(actor=actor, obj=meeting, data=cleaned)
    if any(getattr(meeting, name) != value for name, value in before.items()):
        Meeting.objects.filter(pk=meeting.pk).update(sequence=models.F("sequence") + 1)
        meeting.refresh_from_db(fields=["sequence", "updated_at"])
    if contacts is not None:
        _set_attendees(actor, meeting, contacts)
    return meeting


def _set_attendees(actor: Any, meeting: Meeting, contacts: list[Contact]) -> None:
    old = _attendee_ids(meeting)
    new = sorted(c.pk for c in contacts)
    if old != new:
        meeting.attendees.set(contacts)
        record(
            actor=actor,
            obj=meeting,
            action=AuditEntry.Action.ASSIGN,
            changes={"attendees": [old, new]},
        )


@transaction.atomic(durable=True)
def record_meeting(
    *,
    actor: Any,
    meeting: Meeting,
    minutes: str,
    decisions: str = "",
    attendees: Iterable[Any] | None = None,
    held_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Meeting:
    """Record that the meeting was held: minutes, decisions and who attended. Either side
    may; a partner's attendee list replaces only its own side's attendees. Recording again
    corrects the record."""
    ensure_permitted(actor, "change", meeting)
    now = now or timezone.now()
    meeting = _locked_meeting(meeting)
    if meeting.status == Meeting.Status.CANCELLED:
        raise InvalidTransition(
            _("A cancelled meeting cannot be recorded."),
            current=meeting.status,
            requested=Meeting.Status.HELD,
        )
    minutes = text(minutes, "minutes", required=True)
    decisions = text(decisions, "decisions")
    if held_at is None:
        held_at = meeting.held_at or min(meeting.starts_at, now)
    else:
        held_at = as_datetime(held_at, "held_at")
    if held_at > now:
        raise ValidationError({"held_at": [_("A meeting cannot be held in the future.")]})
    contacts = None
    if attendees is not None:
        organisation = meeting.organisation
        contacts = people(actor, organisation, attendees, field="attendees")
        if is_partner(actor):
            if any(not own_side_contact(actor, c) for c in contacts):
                raise ValidationError(
                    {
                        "attendees": [
                            _("Choose people of %(organisation)s.")
                            % {"organisation": organisation.name}
                        ]
                    }
                )
            # The vendor's attendees stay as the vendor recorded them.
            contacts = [
                *meeting.attendees.exclude(organisation_id=actor.organisation_id),
                *contacts,
            ]
    before = snapshot(meeting, ["status", "held_at", "minutes", "decisions"])
    meeting.status = Meeting.Status.HELD
    meeting.held_at = held_at
    meeting.minutes = minutes
    meeting.decisions = decisions
    validate(meeting)
    meeting.save()
    after = snapshot(meeting, ["status", "held_at", "minutes", "decisions"])
    changes = {k: [before[k], v] for k, v in after.items() if before[k] != v}
    if changes:
        record(
            actor=actor,
            obj=meeting,
            action=(
                AuditEntry.Action.TRANSITION if "status" in changes else AuditEntry.Action.UPDATE
            ),
            changes=changes,
        )
    if contacts is not None:
        _set_attendees(actor, meeting, contacts)
    return meeting


@transaction.atomic(durable=True)
def cancel_meeting(*, actor: Any, meeting: Meeting, reason: str) -> Meeting:
    """Cancel a planned meeting (the vendor's call); attendees are told, calendars update."""
    ensure_permitted(actor, "change", meeting)
    forbid_partner(actor)
    ensure_model_permitted(actor, "add", Meeting)
    meeting = _locked_meeting(meeting)
    reason = text(reason, "reason", required=True)
    if meeting.status != Meeting.Status.PLANNED:
        raise InvalidTransition(
            _("A meeting that is “%(status)s” cannot be cancelled.")
            % {"status": meeting.get_status_display()},
            current=meeting.status,
            requested=Meeting.Status.CANCELLED,
        )
    meeting.status = Meeting.Status.CANCELLED
    meeting.sequence += 1
    meeting.save()
    record(
        actor=actor,
        obj=meeting,
        action=AuditEntry.Action.TRANSITION,
        changes={"status": [Meeting.Status.PLANNED, Meeting.Status.CANCELLED]},
        reason=reason,
    )
    organisation = meeting.organisation

    def subject() -> str:
        return _("Meeting cancelled: %(title)s") % {"title": meeting.label}

    def body() -> str:
        return _("%(title)s with %(organisation)s on %(when)s is cancelled: %(reason)s") % {
            "title": meeting.label,
            "organisation": organisation.name,
            "when": utc(meeting.starts_at),
            "reason": reason,
        }

    notify(
        meeting.attendees.select_related("user"),
        subject=subject,
        body=body,
        link=_meeting_link(meeting),
        organisation=organisation,
        skip_user=actor,
    )
    return meeting


# -- action items -------------------------------------------------------------------


def _owner_for(actor: Any, organisation: Organisation, value: Any) -> Contact:
    """An action item's owner: a partner names only people of its own organisation."""
    side = "partner" if is_partner(actor) else None
    return cast(Contact, person(actor, organisation, value, field="owner", side=side))


def _notify_owner(actor: Any, item: ActionItem) -> None:
    def subject() -> str:
        return _("Action item for you: %(title)s") % {"title": item.title}

    def body() -> str:
        return _("%(organisation)s: “%(title)s” is yours, due on %(due)s.") % {
            "organisation": item.organisation.name,
            "title": item.title,
            "due": item.due_on.isoformat(),
        }

    notify(
        [item.owner],
        subject=subject,
        body=body,
        link=_action_link(item),
        organisation=item.organisation,
        skip_user=actor,
    )


def create_action_item(
    *,
    actor: Any,
    organisation: Organisation,
    title: Any,
    owner: Any,
    due_on: Any,
    meeting: Meeting | None = None,
    issue: Issue | None = None,
    field_prefix: str = "",
    now: dt.datetime | None = None,
) -> ActionItem:
    """The shared part of ``add_action_item`` and an issue's corrective actions; call
    inside the caller's transaction."""
    item = ActionItem(
        organisation=organisation,
        title=text(title, f"{field_prefix}title", required=True, max_length=300),
        owner=_owner_for(actor, organisation, owner),
        due_on=as_date(due_on, f"{field_prefix}due_on"),
        meeting=meeting,
        issue=issue,
        created_at=now or timezone.now(),
    )
    create_recorded(actor=actor, obj=item)
    _notify_owner(actor, item)
    return item


@transaction.atomic(durable=True)
def add_action_item(
    *,
    actor: Any,
    organisation: Any,
    title: str,
    owner: Any,
    due_on: Any,
    meeting: Meeting | None = None,
    issue: Issue | None = None,
    now: dt.datetime | None = None,
) -> ActionItem:
    """Something someone agreed to do, with an owner (a partner: someone of its own side)
    and a due date, from a meeting or an issue of this relationship, or on its own."""
    ensure_model_permitted(actor, "add", ActionItem)
    organisation = relationship_organisation(actor, organisation, own=True)
    for name, related in (("meeting", meeting), ("issue", issue)):
        if related is None:
            continue
        model = type(related)
        queryset = model.objects.restrict(actor, "view") if actor is not None else model.objects
        if not queryset.filter(pk=related.pk, organisation=organisation).exists():
            raise ValidationError(
                {name: [_("Choose one of %(organisation)s.") % {"organisation": organisation}]}
            )
    return create_action_item(
        actor=actor,
        organisation=organisation,
        title=title,
        owner=owner,
        due_on=due_on,
        meeting=meeting,
        issue=issue,
        now=now,
    )


def _locked_item(item: ActionItem) -> ActionItem:
    found = (
        ActionItem.objects.select_for_update(of=("self",))
        .select_related("owner", "organisation")
        .filter(pk=item.pk)
        .first()
    )
    if found is None:
        raise Http404
    return found


@transaction.atomic(durable=True)
def complete_action_item(
    *, actor: Any, item: ActionItem, now: dt.datetime | None = None
) -> ActionItem:
    """Mark an open action item done (a partner: only its own side's); done stays done."""
    ensure_permitted(actor, "change", item)
    item = _locked_item(item)
    if is_partner(actor) and not own_side_contact(actor, item.owner):
        raise PermissionDenied
    if item.status == ActionItem.Status.DONE:
        return item
    if item.status != ActionItem.Status.OPEN:
        raise InvalidTransition(
            _("An action item that is “%(status)s” cannot be completed.")
            % {"status": item.get_status_display()},
            current=item.status,
            requested=ActionItem.Status.DONE,
        )
    item.status = ActionItem.Status.DONE
    item.done_at = now or timezone.now()
    item.save()
    record(
        actor=actor,
        obj=item,
        action=AuditEntry.Action.TRANSITION,
        changes={
            "status": [ActionItem.Status.OPEN, ActionItem.Status.DONE],
            "done_at": [None, item.done_at.isoformat()],
        },
    )
    return item


@transaction.atomic(durable=True)
def update_action_item(*, actor: Any, item: ActionItem, data: Mapping[str, Any]) -> ActionItem:
    """Change an action item's title, owner or due date, or cancel / reopen it. A partner
    changes only its own side's items and keeps them on its side; only the vendor cancels."""
    ensure_permitted(actor, "change", item)
    item = _locked_item(item)
    if is_partner(actor) and not own_side_contact(actor, item.owner):
        raise PermissionDenied
    unknown_fields(data, ACTION_FIELDS)
    cleaned: dict[str, Any] = {}
    if "title" in data:
        cleaned["title"] = text(data["title"], "title", required=True, max_length=300)
    if "owner" in data:
        cleaned["owner"] = _owner_for(actor, item.organisation, data["owner"])
    if "due_on" in data:
        cleaned["due_on"] = as_date(data["due_on"], "due_on")
    if "status" in data:
        status = data["status"]
        if status not in (ActionItem.Status.OPEN, ActionItem.Status.CANCELLED):
            raise ValidationError({"status": [_("Choose open or cancelled.")]})
        if status != item.status:
            forbid_partner(actor)
            cleaned["status"] = status
            cleaned["done_at"] = None
    previous_owner = item.owner_id
    apply_changes(actor=actor, obj=item, data=cleaned)
    if item.owner_id != previous_owner and item.status == ActionItem.Status.OPEN:
        _notify_owner(actor, item)
    return item


# -- overdue ------------------------------------------------------------------------


@transaction.atomic(durable=True)
def flag_overdue(*, now: dt.datetime) -> dict[str, int]:
    """Tell people, once, about meetings that did not happen (the relationship-management
    role holder and the attendees) and action items past their due date (the owner)."""
    meetings = list(
        Meeting.objects.select_for_update(of=("self",))
        .filter(overdue_meetings(now), overdue_notified_at__isnull=True)
        .select_related("organisation")
        .prefetch_related("attendees__user")
        .order_by("pk")
    )
    for meeting in meetings:
        organisation = meeting.organisation
        holder = role_holder(organisation.pk, RoleAssignment.Role.RELATIONSHIP)

        def subject(meeting: Meeting = meeting) -> str:
            return _("Meeting overdue: %(title)s") % {"title": meeting.label}

        def body(meeting: Meeting = meeting, organisation: Organisation = organisation) -> str:
            return _(
                "%(title)s with %(organisation)s was planned for %(when)s and has not been "
                "recorded as held. Record its minutes, or cancel it."
            ) % {
                "title": meeting.label,
                "organisation": organisation.name,
                "when": utc(meeting.starts_at),
            }

        notify(
            [holder, *meeting.attendees.all()],
            subject=subject,
            body=body,
            link=_meeting_link(meeting),
            organisation=organisation,
        )
        meeting.overdue_notified_at = now
        Meeting.objects.filter(pk=meeting.pk).update(overdue_notified_at=now)
    today = timezone.localdate(now)
    items = list(
        ActionItem.objects.select_for_update(of=("self",))
        .filter(overdue_actions(today), overdue_notified_at__isnull=True)
        .select_related("organisation", "owner__user")
        .order_by("pk")
    )
    for item in items:

        def item_subject(item: ActionItem = item) -> str:
            return _("Action item overdue: %(title)s") % {"title": item.title}

        def item_body(item: ActionItem = item) -> str:
            return _("%(organisation)s: “%(title)s” was due on %(due)s and is still open.") % {
                "organisation": item.organisation.name,
                "title": item.title,
                "due": item.due_on.isoformat(),
            }

        notify(
            [item.owner],
            subject=item_subject,
            body=item_body,
            link=_action_link(item),
            organisation=item.organisation,
        )
        ActionItem.objects.filter(pk=item.pk).update(overdue_notified_at=now)
    return {"meetings": len(meetings), "action_items": len(items)}
