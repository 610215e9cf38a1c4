"""Governance writes for continuity: the handover that moves everything a person holds to a
successor in one audited step, onboarding templates and plans, courses and the required
certifications per partner tier, and the once-only warning of expiring certifications."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accord.channel.models import Certification
from accord.core.errors import Conflict, Http404, PermissionDenied, ValidationError
from accord.core.models import AuditEntry
from accord.core.services import (
    apply_changes,
    create_audited,
    delete_audited,
    ensure_model_permitted,
    ensure_permitted,
    record,
    snapshot,
    validate,
)
from accord.deals.models import Registration
from accord.governance.models import (
    ActionItem,
    CertificationRequirement,
    ContactSlot,
    Course,
    GovernanceSettings,
    Handover,
    Issue,
    IssueEvent,
    KeyPerson,
    Meeting,
    OnboardingPlan,
    OnboardingTask,
    OnboardingTemplate,
    Reminder,
    RoleAssignment,
    Side,
)
from accord.governance.people import contact_for_user, notify_contacts
from accord.governance.selectors.continuity import plan_progress
from accord.governance.selectors.structure import visible_contacts
from accord.governance.services.structure import (
    governed_organisation,
    is_partner,
    person_of,
    role_label,
)
from accord.partners.models import Contact, Organisation
from accord.programs.models import Program

__all__ = [
    "complete_task",
    "create_course",
    "create_onboarding_template",
    "default_owner",
    "handover",
    "orphans",
    "plan_progress",
    "set_requirements",
    "start_onboarding",
    "update_course",
    "update_onboarding_template",
    "warn_expiring_certifications",
]

MAX_TASKS = 100
MAX_DUE_DAYS = 3650
TEMPLATE_FIELDS = frozenset({"name", "name_zh", "kind", "tasks", "active"})
COURSE_FIELDS = frozenset(
    {
        "code",
        "name",
        "name_zh",
        "description",
        "certification",
        "validity_months",
        "hours",
        "active",
    }
)
SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _text(value: Any, field: str, limit: int, *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError({field: [_("Expected text.")]})
    value = value.strip()
    if "\x00" in value:
        raise ValidationError({field: [_("Null characters are not allowed.")]})
    if required and not value:
        raise ValidationError({field: [_("This field is required.")]})
    if len(value) > limit:
        raise ValidationError({field: [_("Keep it to %(limit)d characters.") % {"limit": limit}]})
    return value


def _choice(value: Any, field: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ValidationError({field: [_("Select a valid choice.")]})
    return str(value)


def _flag(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError({field: [_("Enter yes or no.")]})
    return value


def _pk(value: Any) -> int | None:
    """A primary key from an instance, a number or digits; None for anything else."""
    value = getattr(value, "pk", value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return value if _whole(value, 1, 2**63 - 1) else None


def _whole(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


# -- handover -----------------------------------------------------------------------------


def _open_registrations(contact: Contact) -> Any:
    if contact.user_id is None:
        return Registration.objects.none()
    return Registration.objects.filter(
        registered_by_id=contact.user_id, status__in=Registration.OPEN
    )


def orphans(contact: Contact) -> dict[str, list[int]]:
    """Open items ``contact`` still holds, by kind (only kinds with something left): roles,
    contact-map slots, key-person rows (as person and as backup), open issues, open action
    items, open onboarding tasks, planned meetings attended and open deal registrations."""
    found = {
        "roles": RoleAssignment.objects.filter(holder=contact),
        "slots": ContactSlot.objects.filter(Q(vendor_contact=contact) | Q(partner_contact=contact)),
        "key_people": KeyPerson.objects.filter(person=contact),
        "backups": KeyPerson.objects.filter(backup=contact),
        "issues": Issue.objects.filter(owner=contact, status__in=Issue.OPEN_STATUSES),
        "action_items": ActionItem.objects.filter(owner=contact, status=ActionItem.Status.OPEN),
        "onboarding_tasks": OnboardingTask.objects.filter(owner=contact, done_at__isnull=True),
        "meetings": Meeting.objects.filter(attendees=contact, status=Meeting.Status.PLANNED),
        "registrations": _open_registrations(contact),
    }
    if (
        contact.user_id is not None
        and Contact.objects.filter(user_id=contact.user_id, active=True)
        .exclude(pk=contact.pk)
        .exists()
    ):
        # The account lives on in another active card (the same person under a new card):
        # its registrations are not orphaned.
        found["registrations"] = Registration.objects.none()
    result: dict[str, list[int]] = {}
    for kind, queryset in found.items():
        ids = sorted(set(queryset.values_list("pk", flat=True)))
        if ids:
            result[kind] = ids
    return result


def _moved(*, actor: Any, obj: Any, changes: dict[str, list[Any]], handover: Handover) -> None:
    record(
        actor=actor,
        obj=obj,
        action=AuditEntry.Action.ASSIGN,
        changes=changes,
        reason=f"handover {handover.pk}",
    )


def _holds_role_of(contact: Contact, organisation_id: int, exclude: int) -> RoleAssignment | None:
    """The other role ``contact`` (or another card of their account) holds in a relationship."""
    same = Q(holder=contact)
    if contact.user_id is not None:
        same |= Q(holder__user_id=contact.user_id)
    return (
        RoleAssignment.objects.filter(same, organisation_id=organisation_id)
        .exclude(pk=exclude)
        .select_related("organisation")
        .first()
    )


@transaction.atomic(durable=True)
def handover(
    *,
    actor: Any,
    predecessor: Any,
    successor: Any,
    leaving: bool = True,
    reason: str = "",
    now: dt.datetime | None = None,
) -> Handover:
    """Move everything ``predecessor`` holds, in every relationship, to ``successor`` (an
    active person of the same organisation) in one audited step: roles, contact-map slots,
    key-person rows (as person and as backup), open issues, open action items, open
    onboarding tasks, planned meetings' attendance and open deal registrations. When
    ``leaving``, the predecessor is marked as gone and nothing may stay with them.

    Refused as a whole (nothing moves) when the successor already holds another of the four
    roles in a relationship where the predecessor holds one, or cannot take over the
    predecessor's open deal registrations (no portal account).
    """
    now = _now(now)
    ensure_model_permitted(actor, "add", Handover)
    if is_partner(actor):
        raise PermissionDenied
    if not isinstance(leaving, bool):
        raise ValidationError({"leaving": [_("Enter yes or no.")]})
    reason = _text(reason, "reason", 2000)
    contact_id = _pk(predecessor)
    if contact_id is None:
        raise ValidationError({"predecessor": [_("Choose a person.")]})
    pred = visible_contacts(actor).filter(pk=contact_id).select_related("organisation").first()
    if pred is None:
        raise ValidationError({"predecessor": [_("Choose a person.")]})
    succ = person_of(actor, successor, field="successor", owner=pred.organisation)
    if succ.pk == pred.pk:
        raise ValidationError(
            {"successor": [_("Choose someone other than %(name)s.") % {"name": pred.full_name}]}
        )
    # Both people locked in id order: a second handover of either waits for this one.
    list(
        Contact.objects.select_for_update(of=("self",))
        .filter(pk__in=[pred.pk, succ.pk])
        .order_by("pk")
    )
    pred.refresh_from_db(fields=["active", "user"])

    roles = list(
        RoleAssignment.objects.select_for_update(of=("self",))
        .filter(holder=pred)
        .select_related("organisation")
        .order_by("pk")
    )
    slots = list(
        ContactSlot.objects.select_for_update(of=("self",))
        .filter(Q(vendor_contact=pred) | Q(partner_contact=pred))
        .order_by("pk")
    )
    as_person = list(
        KeyPerson.objects.select_for_update(of=("self",)).filter(person=pred).order_by("pk")
    )
    as_backup = list(
        KeyPerson.objects.select_for_update(of=("self",)).filter(backup=pred).order_by("pk")
    )
    issues = list(
        Issue.objects.select_for_update(of=("self",))
        .filter(owner=pred, status__in=Issue.OPEN_STATUSES)
        .order_by("pk")
    )
    actions = list(
        ActionItem.objects.select_for_update(of=("self",))
        .filter(owner=pred, status=ActionItem.Status.OPEN)
        .order_by("pk")
    )
    tasks = list(
        OnboardingTask.objects.select_for_update(of=("self",))
        .filter(owner=pred, done_at__isnull=True)
        .select_related("plan")
        .order_by("pk")
    )
    meetings = list(
        Meeting.objects.select_for_update(of=("self",))
        .filter(
            pk__in=Meeting.objects.filter(attendees=pred, status=Meeting.Status.PLANNED).values(
                "pk"
            )
        )
        .order_by("pk")
    )
    registrations = (
        list(_open_registrations(pred).select_for_update(of=("self",)).order_by("pk"))
        if pred.user_id is not None and pred.user_id != succ.user_id
        else []
    )

    errors: list[str] = []
    for assignment in roles:
        clash = _holds_role_of(succ, assignment.organisation_id, exclude=assignment.pk)
        if clash is not None:
            errors.append(
                _(
                    "%(name)s already holds %(role)s for %(organisation)s, so cannot take over "
                    "%(taken)s there; one person may hold only one of the four roles."
                )
                % {
                    "name": succ.full_name,
                    "role": role_label(clash.role),
                    "organisation": clash.organisation.name,
                    "taken": role_label(assignment.role),
                }
            )
    if registrations and succ.user_id is None and leaving:
        errors.append(
            ngettext(
                "%(name)s has no portal account to take over %(count)d open deal registration.",
                "%(name)s has no portal account to take over %(count)d open deal registrations.",
                len(registrations),
            )
            % {"name": succ.full_name, "count": len(registrations)}
        )
    if errors:
        # A valid request that clashes with what the successor holds: a conflict (409).
        clash = ValidationError({"successor": errors})
        clash.__class__ = Conflict
        raise clash
    # The actor must see every relationship touched: a coordinator cannot move what lies
    # outside their territories.
    touched = (
        {
            row.organisation_id
            for row in [*roles, *slots, *as_person, *as_backup, *issues, *actions, *meetings]
        }
        | {task.plan.organisation_id for task in tasks}
        | {r.organisation_id for r in registrations}
    )
    if actor is not None and touched:
        visible = set(
            Organisation.objects.restrict(actor, "view")
            .filter(pk__in=touched)
            .values_list("pk", flat=True)
        )
        if touched - visible:
            raise ValidationError(
                {
                    "predecessor": [
                        _(
                            "%(name)s also has items in relationships outside your view; ask "
                            "someone who sees them all to run this handover."
                        )
                        % {"name": pred.full_name}
                    ]
                }
            )

    row = Handover(
        organisation_id=pred.organisation_id,
        predecessor=pred,
        successor=succ,
        leaving=leaving,
        reason=reason,
        actor=actor if getattr(actor, "pk", None) else None,
        at=now,
    )
    validate(row)
    row.save(force_insert=True)
    moved: dict[str, list[int]] = {
        "roles": [],
        "slots": [],
        "key_people": [],
        "backups": [],
        "issues": [],
        "action_items": [],
        "onboarding_tasks": [],
        "meetings": [],
        "registrations": [],
    }

    for assignment in roles:
        assignment.holder = succ
        assignment.save(update_fields=["holder"])
        _moved(actor=actor, obj=assignment, changes={"holder": [pred.pk, succ.pk]}, handover=row)
        moved["roles"].append(assignment.pk)

    for slot in slots:
        changes: dict[str, list[Any]] = {}
        for field in ("vendor_contact", "partner_contact"):
            if getattr(slot, f"{field}_id") == pred.pk:
                setattr(slot, field, succ)
                changes[field] = [pred.pk, succ.pk]
        slot.save(update_fields=list(changes))
        _moved(actor=actor, obj=slot, changes=changes, handover=row)
        moved["slots"].append(slot.pk)

    for key_person in as_person:
        existing = (
            KeyPerson.objects.select_for_update(of=("self",))
            .filter(organisation_id=key_person.organisation_id, person=succ)
            .first()
        )
        moved["key_people"].append(key_person.pk)
        if existing is not None:
            # The successor is a key person here already: their row carries on, taking the
            # predecessor's backup when it has none; the predecessor's row goes.
            if existing.backup_id is None and key_person.backup_id not in (None, succ.pk):
                existing.backup_id = key_person.backup_id
                existing.save(update_fields=["backup"])
                _moved(
                    actor=actor,
                    obj=existing,
                    changes={"backup": [None, key_person.backup_id]},
                    handover=row,
                )
            record(
                actor=actor,
                obj=key_person,
                action=AuditEntry.Action.DELETE,
                changes={
                    k: [v, None] for k, v in snapshot(key_person).items() if v not in (None, "")
                },
                reason=f"handover {row.pk}",
            )
            key_person.delete()
            continue
        changes = {"person": [pred.pk, succ.pk]}
        key_person.person = succ
        if key_person.backup_id == succ.pk:
            changes["backup"] = [succ.pk, None]
            key_person.backup = None
        key_person.save(update_fields=["person", "backup"])
        _moved(actor=actor, obj=key_person, changes=changes, handover=row)

    for key_person in as_backup:
        key_person.refresh_from_db(fields=["person", "backup"])
        if key_person.backup_id != pred.pk:
            continue
        new = None if key_person.person_id == succ.pk else succ
        key_person.backup = new
        key_person.save(update_fields=["backup"])
        _moved(
            actor=actor,
            obj=key_person,
            changes={"backup": [pred.pk, new.pk if new else None]},
            handover=row,
        )
        moved["backups"].append(key_person.pk)

    events = []
    for issue in issues:
        issue.owner = succ
        issue.save(update_fields=["owner", "updated_at"])
        _moved(actor=actor, obj=issue, changes={"owner": [pred.pk, succ.pk]}, handover=row)
        events.append(
            IssueEvent(
                issue=issue,
                at=now,
                kind=IssueEvent.Kind.ASSIGNED,
                actor=row.actor,
                note=_("Handover from %(from)s to %(to)s.")
                % {"from": pred.full_name, "to": succ.full_name},
                data={"handover": row.pk, "from": pred.pk, "to": succ.pk},
            )
        )
        moved["issues"].append(issue.pk)
    IssueEvent.objects.bulk_create(events)

    for item in actions:
        item.owner = succ
        item.save(update_fields=["owner"])
        _moved(actor=actor, obj=item, changes={"owner": [pred.pk, succ.pk]}, handover=row)
        moved["action_items"].append(item.pk)

    for task in tasks:
        task.owner = succ
        task.save(update_fields=["owner"])
        _moved(actor=actor, obj=task, changes={"owner": [pred.pk, succ.pk]}, handover=row)
        moved["onboarding_tasks"].append(task.pk)

    for meeting in meetings:
        before = sorted(meeting.attendees.values_list("pk", flat=True))
        meeting.attendees.remove(pred)
        meeting.attendees.add(succ)
        after = sorted(meeting.attendees.values_list("pk", flat=True))
        meeting.sequence += 1  # calendar clients update the event they hold
        meeting.save(update_fields=["sequence", "updated_at"])
        _moved(actor=actor, obj=meeting, changes={"attendees": [before, after]}, handover=row)
        moved["meetings"].append(meeting.pk)

    if succ.user_id is not None:
        for registration in registrations:
            registration.registered_by_id = succ.user_id
            registration.save(update_fields=["registered_by", "updated_at"])
            _moved(
                actor=actor,
                obj=registration,
                changes={"registered_by": [pred.user_id, succ.user_id]},
                handover=row,
            )
            moved["registrations"].append(registration.pk)

    if leaving and pred.active:
        pred.active = False
        pred.save(update_fields=["active"])
        record(
            actor=actor,
            obj=pred,
            action=AuditEntry.Action.UPDATE,
            changes={"active": [True, False]},
            reason=f"handover {row.pk}",
        )
    row.moved = moved
    row.save(update_fields=["moved"])
    record(
        actor=actor,
        obj=row,
        action=AuditEntry.Action.CREATE,
        changes={
            "predecessor": [None, pred.pk],
            "successor": [None, succ.pk],
            "leaving": [None, leaving],
            "moved": [None, moved],
        },
        reason=reason,
    )
    if leaving:
        left = orphans(pred)
        if left:  # the promise of a handover: nothing stays with someone who left
            raise ValidationError(
                {
                    "predecessor": [
                        _("Some items could not be moved: %(items)s.")
                        % {"items": ", ".join(f"{k} {v}" for k, v in left.items())}
                    ]
                }
            )
    count = sum(len(ids) for ids in moved.values())
    notify_contacts(
        [succ],
        subject=lambda: _("You took over from %(name)s") % {"name": pred.full_name},
        body=lambda: (
            ngettext(
                "%(count)d governance item of %(name)s moved to you.",
                "%(count)d governance items of %(name)s moved to you.",
                count,
            )
            % {"count": count, "name": pred.full_name}
        ),
        link="/governance/handovers/",
        organisation=None if pred.organisation.is_vendor else pred.organisation,
        skip_user=actor,
    )
    return row


# -- onboarding templates -----------------------------------------------------------------


def _clean_tasks(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise ValidationError({"tasks": [_("Give at least one task.")]})
    if len(raw) > MAX_TASKS:
        raise ValidationError({"tasks": [_("At most %(n)d tasks.") % {"n": MAX_TASKS}]})
    cleaned: list[dict[str, Any]] = []
    problems: list[str] = []
    for number, item in enumerate(raw, 1):
        if not isinstance(item, Mapping):
            problems.append(_("Task %(n)d: expected an object.") % {"n": number})
            continue
        unknown = set(item) - {"title", "title_zh", "side", "due_days"}
        title, title_zh = item.get("title"), item.get("title_zh", "")
        if unknown:
            problems.append(
                _("Task %(n)d: unknown field %(field)s.")
                % {"n": number, "field": ", ".join(sorted(map(str, unknown)))}
            )
        elif not isinstance(title, str) or not title.strip() or len(title.strip()) > 200:
            problems.append(_("Task %(n)d: give a title of up to 200 characters.") % {"n": number})
        elif not isinstance(title_zh, str | None) or len((title_zh or "").strip()) > 200:
            problems.append(_("Task %(n)d: the Chinese title is too long.") % {"n": number})
        elif "\x00" in title or "\x00" in (title_zh or ""):
            problems.append(_("Task %(n)d: null characters are not allowed.") % {"n": number})
        elif item.get("side") not in Side.values:
            problems.append(_("Task %(n)d: choose the vendor or partner side.") % {"n": number})
        elif not _whole(item.get("due_days", 0), 0, MAX_DUE_DAYS):
            problems.append(
                _("Task %(n)d: due days must be a whole number from 0 to %(max)d.")
                % {"n": number, "max": MAX_DUE_DAYS}
            )
        else:
            cleaned.append(
                {
                    "title": title.strip(),
                    "title_zh": (title_zh or "").strip(),
                    "side": item["side"],
                    "due_days": item.get("due_days", 0),
                }
            )
    if problems:
        raise ValidationError({"tasks": problems})
    return cleaned


def _template_values(data: Any, *, partial: bool) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise ValidationError({"data": [_("Expected an object.")]})
    unknown = sorted(str(key) for key in set(data) - TEMPLATE_FIELDS)
    if unknown:
        raise ValidationError({key: [_("Unknown field.")] for key in unknown})
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    checks = {
        "name": lambda v: _text(v, "name", 100, required=True),
        "name_zh": lambda v: _text(v, "name_zh", 100),
        "kind": lambda v: _choice(v, "kind", OnboardingTemplate.Kind.values),
        "tasks": _clean_tasks,
        "active": lambda v: _flag(v, "active"),
    }
    for name, check in checks.items():
        if name not in data:
            if not partial and name in ("name", "kind", "tasks"):
                errors[name] = [_("This field is required.")]
            continue
        try:
            values[name] = check(data[name])
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    return values


@transaction.atomic(durable=True)
def create_onboarding_template(*, actor: Any, data: Mapping[str, Any]) -> OnboardingTemplate:
    """A checklist of tasks (title, side, days after the start they fall due)."""
    ensure_model_permitted(actor, "add", OnboardingTemplate)
    values = _template_values(data, partial=False)
    return create_audited(actor=actor, obj=OnboardingTemplate(**values))


@transaction.atomic(durable=True)
def update_onboarding_template(
    *, actor: Any, template: OnboardingTemplate, data: Mapping[str, Any]
) -> OnboardingTemplate:
    """Change a template; plans already started keep their tasks."""
    ensure_model_permitted(actor, "change", OnboardingTemplate)
    current = OnboardingTemplate.objects.select_for_update().filter(pk=template.pk).first()
    if current is None:
        raise Http404
    values = _template_values(data, partial=True)
    return apply_changes(actor=actor, obj=current, data=values)


# -- onboarding plans -----------------------------------------------------------------------


def default_owner(organisation: Organisation, side: str) -> Contact | None:
    """Who owns a side's tasks when no one is named: on the vendor side the relationship
    manager (else the account manager's card), on the partner side its primary contact."""
    if side == Side.VENDOR:
        holder = (
            RoleAssignment.objects.filter(
                organisation=organisation,
                role=RoleAssignment.Role.RELATIONSHIP,
                holder__active=True,
            )
            .select_related("holder")
            .first()
        )
        if holder is not None:
            return holder.holder
        manager = organisation.account_manager
        if manager is not None and manager.is_active:
            return contact_for_user(manager)
        return None
    return (
        Contact.objects.filter(organisation=organisation, is_primary=True, active=True)
        .order_by("pk")
        .first()
    )


@transaction.atomic(durable=True)
def start_onboarding(
    *,
    actor: Any,
    organisation: Any,
    template: Any,
    subject: Any = None,
    owners: Mapping[str, Any] | None = None,
    start: dt.date | None = None,
    now: dt.datetime | None = None,
) -> OnboardingPlan:
    """Instantiate ``template`` for the relationship (and ``subject``, a person joining it):
    one task per template task, due ``start`` + its days, owned by ``owners[side]`` or the
    side's default (the subject for their own side, else see ``default_owner``)."""
    now = _now(now)
    organisation = governed_organisation(actor, organisation)
    if is_partner(actor):
        raise PermissionDenied
    ensure_model_permitted(actor, "add", OnboardingPlan)
    template_id = _pk(template)
    found = None
    if template_id is not None:
        found = (
            (
                OnboardingTemplate.objects.all()
                if actor is None
                else OnboardingTemplate.objects.restrict(actor, "view")
            )
            .filter(pk=template_id)
            .first()
        )
    if found is None:
        raise ValidationError({"template": [_("Choose an onboarding template.")]})
    if not found.active:
        raise ValidationError({"template": [_("This template is no longer in use.")]})
    vendor = Organisation.objects.vendor()
    errors: dict[str, list[str]] = {}
    person = None
    if subject not in (None, ""):
        try:
            person = person_of(actor, subject, field="subject", owner=[organisation, vendor])
        except ValidationError as error:
            errors.update(error.message_dict)
    chosen: dict[str, Contact | None] = {}
    if owners is not None and not isinstance(owners, Mapping):
        errors["owners"] = [_("Expected an object.")]
        owners = {}
    for side, value in (owners or {}).items():
        if side not in Side.values:
            errors[f"owners.{side}"] = [_("Choose the vendor or partner side.")]
            continue
        if value in (None, ""):
            continue
        try:
            chosen[side] = person_of(
                actor,
                value,
                field=f"owners.{side}",
                owner=vendor if side == Side.VENDOR else organisation,
            )
        except ValidationError as error:
            errors.update(error.message_dict)
    if start is not None and not isinstance(start, dt.date):
        errors["start"] = [_("Enter a valid date.")]
    if errors:
        raise ValidationError(errors)
    start = start or timezone.localdate(now)
    for side in Side.values:
        if side in chosen:
            continue
        subject_side = None
        if person is not None:
            subject_side = Side.VENDOR if person.organisation_id == vendor.pk else Side.PARTNER
        chosen[side] = person if subject_side == side else default_owner(organisation, side)
    name = found.name if person is None else f"{found.name} · {person.full_name}"
    name_zh = "" if not found.name_zh else found.name_zh
    if name_zh and person is not None:
        name_zh = f"{name_zh} · {person.full_name}"
    plan = OnboardingPlan(
        organisation=organisation,
        template=found,
        name=name[:150],
        name_zh=name_zh[:150],
        subject=person,
        started_on=start,
        created_at=now,
    )
    validate(plan)
    plan.save(force_insert=True)
    tasks = [
        OnboardingTask(
            plan=plan,
            position=position,
            title=item["title"][:200],
            title_zh=(item.get("title_zh") or "")[:200],
            side=item["side"],
            owner=chosen.get(item["side"]),
            due_on=start + dt.timedelta(days=item.get("due_days", 0)),
        )
        for position, item in enumerate(found.tasks)
        if isinstance(item, Mapping) and item.get("side") in Side.values and item.get("title")
    ]
    OnboardingTask.objects.bulk_create(tasks)
    record(
        actor=actor,
        obj=plan,
        action=AuditEntry.Action.CREATE,
        changes={k: [None, v] for k, v in snapshot(plan).items() if v not in (None, "")}
        | {
            "tasks": [
                None,
                [
                    {
                        "title": task.title,
                        "side": task.side,
                        "owner": task.owner_id,
                        "due_on": task.due_on.isoformat(),
                    }
                    for task in tasks
                ],
            ]
        },
    )
    by_owner: dict[int, int] = defaultdict(int)
    for task in tasks:
        if task.owner_id is not None:
            by_owner[task.owner_id] += 1
    owners_list = [owner for owner in {c.pk: c for c in chosen.values() if c}.values()]
    for owner in owners_list:
        count = by_owner.get(owner.pk, 0)
        if not count:
            continue
        notify_contacts(
            [owner],
            subject=lambda: _("Onboarding: %(plan)s") % {"plan": plan.name},
            body=lambda count=count: (
                ngettext(
                    "%(count)d onboarding task for %(organisation)s is yours.",
                    "%(count)d onboarding tasks for %(organisation)s are yours.",
                    count,
                )
                % {"count": count, "organisation": organisation.name}
            ),
            link=f"/governance/relationships/{organisation.pk}/?tab=onboarding",
            organisation=organisation,
            skip_user=actor,
        )
    return plan


@transaction.atomic(durable=True)
def complete_task(
    *, actor: Any, task: OnboardingTask, done: bool = True, now: dt.datetime | None = None
) -> OnboardingTask:
    """Tick an onboarding task off (or open it again with ``done=False``). A partner ticks
    only tasks owned by their own people (or unowned tasks of the partner side)."""
    now = _now(now)
    if not isinstance(done, bool):
        raise ValidationError({"done": [_("Enter yes or no.")]})
    ensure_permitted(actor, "change", task)
    current = (
        OnboardingTask.objects.select_for_update(of=("self",))
        .select_related("owner", "plan")
        .filter(pk=task.pk)
        .first()
    )
    if current is None:
        raise Http404
    if is_partner(actor):
        own = (
            current.owner.organisation_id == actor.organisation_id
            if current.owner is not None
            else current.side == Side.PARTNER
        )
        if not own:
            raise PermissionDenied
    if (current.done_at is not None) == done:
        return current
    return apply_changes(
        actor=actor,
        obj=current,
        data={"done_at": now if done else None},
        action=AuditEntry.Action.TRANSITION,
    )


# -- enablement ------------------------------------------------------------------------------


def _course_values(data: Any, *, partial: bool) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise ValidationError({"data": [_("Expected an object.")]})
    unknown = sorted(str(key) for key in set(data) - COURSE_FIELDS)
    if unknown:
        raise ValidationError({key: [_("Unknown field.")] for key in unknown})
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    texts = {"code": 40, "name": 150, "name_zh": 150, "description": 5000, "certification": 150}
    for name, limit in texts.items():
        if name in data:
            try:
                values[name] = _text(
                    data[name], name, limit, required=name in ("code", "name", "certification")
                )
            except ValidationError as error:
                errors.update(error.message_dict)
        elif not partial and name in ("code", "name", "certification"):
            errors[name] = [_("This field is required.")]
    if "code" in values and not SLUG.match(values["code"]):
        errors["code"] = [_("Use letters, numbers, hyphens and underscores only.")]
    for name, (low, high) in {"validity_months": (0, 240), "hours": (0, 10000)}.items():
        if name in data:
            if _whole(data[name], low, high):
                values[name] = data[name]
            else:
                errors[name] = [
                    _("Enter a whole number from %(low)d to %(high)d.") % {"low": low, "high": high}
                ]
    if "active" in data:
        if isinstance(data["active"], bool):
            values["active"] = data["active"]
        else:
            errors["active"] = [_("Enter yes or no.")]
    if errors:
        raise ValidationError(errors)
    return values


@transaction.atomic(durable=True)
def create_course(*, actor: Any, data: Mapping[str, Any]) -> Course:
    """A training course and the certification it earns."""
    ensure_model_permitted(actor, "add", Course)
    course = Course(**_course_values(data, partial=False))
    try:
        with transaction.atomic():
            return create_audited(actor=actor, obj=course)
    except IntegrityError as error:
        raise ValidationError({"code": [_("A course with this code exists.")]}) from error


@transaction.atomic(durable=True)
def update_course(*, actor: Any, course: Course, data: Mapping[str, Any]) -> Course:
    ensure_model_permitted(actor, "change", Course)
    current = Course.objects.select_for_update().filter(pk=course.pk).first()
    if current is None:
        raise Http404
    return apply_changes(actor=actor, obj=current, data=_course_values(data, partial=True))


def _tier_codes(program: Program) -> set[str]:
    return set(program.versions.values_list("tiers__code", flat=True)) - {None}


@transaction.atomic(durable=True)
def set_requirements(
    *, actor: Any, tier_code: str, requirements: Sequence[Mapping[str, Any]]
) -> list[CertificationRequirement]:
    """The certifications partners at ``tier_code`` need: [{"course": course or id or code,
    "minimum": people}] replaces the tier's list (an empty list clears it)."""
    for action in ("add", "change", "delete"):
        ensure_model_permitted(actor, action, CertificationRequirement)
    if not isinstance(tier_code, str) or not tier_code.strip() or len(tier_code) > 40:
        raise ValidationError({"tier_code": [_("Give a tier code.")]})
    tier_code = tier_code.strip()
    if not SLUG.match(tier_code):
        raise ValidationError({"tier_code": [_("Give a tier code.")]})
    program = GovernanceSettings.current().tier_program
    if program is not None and tier_code not in _tier_codes(program):
        raise ValidationError(
            {
                "tier_code": [
                    _("No such tier in %(program)s: %(code)s.")
                    % {"program": program.name, "code": tier_code}
                ]
            }
        )
    if not isinstance(requirements, list | tuple):
        raise ValidationError({"requirements": [_("Expected a list.")]})
    wanted: dict[int, tuple[Course, int]] = {}
    problems: list[str] = []
    for number, item in enumerate(requirements, 1):
        if not isinstance(item, Mapping) or set(item) - {"course", "minimum"}:
            problems.append(_("Line %(n)d: give a course and a minimum.") % {"n": number})
            continue
        raw = item.get("course")
        course = None
        if _pk(raw) is not None:
            course = Course.objects.filter(pk=_pk(raw)).first()
        if course is None and isinstance(raw, str) and raw.strip():
            course = Course.objects.filter(code=raw.strip()).first()
        minimum = item.get("minimum", 1)
        if course is None:
            problems.append(_("Line %(n)d: choose an existing course.") % {"n": number})
        elif not _whole(minimum, 1, 1000):
            problems.append(
                _("Line %(n)d: the minimum is a whole number from 1 to 1000.") % {"n": number}
            )
        elif course.pk in wanted:
            problems.append(
                _("Line %(n)d: %(course)s is listed twice.") % {"n": number, "course": course}
            )
        else:
            wanted[course.pk] = (course, minimum)
    if problems:
        raise ValidationError({"requirements": problems})
    current = {
        row.course_id: row
        for row in CertificationRequirement.objects.select_for_update().filter(tier_code=tier_code)
    }
    for course_id, row in current.items():
        if course_id not in wanted:
            delete_audited(actor=actor, obj=row)
    result = []
    for course_id, (course, minimum) in wanted.items():
        row = current.get(course_id)
        if row is None:
            row = create_audited(
                actor=actor,
                obj=CertificationRequirement(tier_code=tier_code, course=course, minimum=minimum),
            )
        else:
            row = apply_changes(actor=actor, obj=row, data={"minimum": minimum})
        result.append(row)
    return sorted(result, key=lambda r: (r.course.name, r.pk))


@transaction.atomic
def warn_expiring_certifications(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Warn once per certification and expiry date (a ``Reminder`` "cert:<id>:<date>") when it
    expires within the settings' warning window: the certified person (when matched to a
    contact) and the relationship manager (else the partner's account manager)."""
    now = _now(now)
    today = timezone.localdate(now)
    days = GovernanceSettings.current().certification_warning_days
    candidates = {
        f"cert:{certification.pk}:{certification.expires_on.isoformat()}": certification
        for certification in Certification.objects.filter(
            expires_on__gte=today, expires_on__lte=today + dt.timedelta(days=days)
        )
        .select_related("contact", "contact__user", "organisation", "organisation__account_manager")
        .order_by("expires_on", "pk")
    }
    if not candidates:
        return {"warned": 0, "notified": 0}
    sent = set(Reminder.objects.filter(key__in=list(candidates)).values_list("key", flat=True))
    due = {key: cert for key, cert in candidates.items() if key not in sent}
    if not due:
        return {"warned": 0, "notified": 0}
    Reminder.objects.bulk_create(
        [Reminder(key=key, sent_at=now) for key in due], ignore_conflicts=True
    )
    organisation_ids = {cert.organisation_id for cert in due.values()}
    managers = {
        assignment.organisation_id: assignment.holder
        for assignment in RoleAssignment.objects.filter(
            organisation_id__in=organisation_ids,
            role=RoleAssignment.Role.RELATIONSHIP,
            holder__active=True,
        ).select_related("holder", "holder__user")
    }
    notified = 0
    for certification in due.values():
        organisation = certification.organisation
        manager = managers.get(organisation.pk)
        if manager is None and organisation.account_manager is not None:
            manager = contact_for_user(organisation.account_manager)
        person = str(certification.contact or certification.person)

        def subject(certification: Certification = certification, person: str = person) -> str:
            return _("Certification expiring: %(name)s (%(person)s)") % {
                "name": certification.name,
                "person": person,
            }

        def body(
            certification: Certification = certification,
            person: str = person,
            organisation: Organisation = organisation,
        ) -> str:
            return _(
                "%(person)s of %(organisation)s holds %(name)s until %(date)s. Plan the "
                "renewal before it lapses."
            ) % {
                "person": person,
                "organisation": organisation.name,
                "name": certification.name,
                "date": certification.expires_on.isoformat(),
            }

        recipients = [certification.contact, manager]
        notes = notify_contacts(
            recipients,
            subject=subject,
            body=body,
            link=f"/governance/relationships/{organisation.pk}/?tab=enablement",
            organisation=organisation,
        )
        notified += len(notes)
    return {"warned": len(due), "notified": notified}
