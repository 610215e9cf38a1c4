"""Governance writes: the relationship record, the four separated roles (one person, one
role), the peer-to-peer contact map and the key people with their backups. Partners act on
their own side only: their half of the contact map and their own key people."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.core.errors import Http404, PermissionDenied, ValidationError
from accord.core.models import AuditEntry
from accord.core.services import (
    apply_changes,
    create_audited,
    delete_audited,
    ensure_model_permitted,
    record,
    snapshot,
    validate,
)
from accord.governance.models import (
    ContactSlot,
    Function,
    KeyPerson,
    Relationship,
    RoleAssignment,
    Side,
    Tier,
)
from accord.governance.selectors.structure import (
    ROLES,
    role_gaps,
    same_person,
    visible_contacts,
)
from accord.partners.models import Contact, Organisation

__all__ = [
    "UNSET",
    "add_key_person",
    "assign_role",
    "delete_slot",
    "ensure_relationship",
    "remove_key_person",
    "role_gaps",
    "set_roles",
    "set_slot",
    "update_key_person",
    "update_relationship",
]


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()
RELATIONSHIP_FIELDS = frozenset({"health_frequency", "started_on", "notes"})
KEY_PERSON_FIELDS = frozenset({"person", "backup", "responsibility"})


# -- helpers (shared with services.continuity) ------------------------------------------


def is_partner(actor: Any) -> bool:
    return bool(getattr(actor, "is_partner", False))


def role_label(role: str) -> str:
    return str(RoleAssignment.Role(role).label)


def governed_organisation(actor: Any, organisation: Any) -> Organisation:
    """The partner organisation ``organisation`` (an instance or id) as ``actor`` sees it:
    404 when invisible, a field error for the vendor itself."""
    organisation_id = getattr(organisation, "pk", organisation)
    if isinstance(organisation_id, str) and organisation_id.strip().isdigit():
        organisation_id = int(organisation_id.strip())
    if isinstance(organisation_id, bool) or not isinstance(organisation_id, int):
        raise Http404
    if not 0 < organisation_id < 2**63:
        raise Http404
    queryset = (
        Organisation.objects.all()
        if actor is None
        else Organisation.objects.restrict(actor, "view")
    )
    found = queryset.filter(pk=organisation_id).first()
    if found is None:
        raise Http404
    if found.is_vendor:
        raise ValidationError(
            {"organisation": [_("The vendor's own organisation has no relationship to govern.")]}
        )
    return found


def person_of(
    actor: Any,
    value: Any,
    *,
    field: str,
    owner: Organisation | Sequence[Organisation],
    active: bool = True,
) -> Contact:
    """The contact ``value`` (an instance or id) when ``actor`` may see it and it belongs to
    ``owner`` (or one of several); else a field error "Choose a person of <owner>"."""
    owners = [owner] if isinstance(owner, Organisation) else list(owner)
    if len(owners) == 1:
        message = _("Choose a person of %(name)s.") % {"name": owners[0].name}
    else:
        message = _("Choose a person of %(first)s or %(second)s.") % {
            "first": owners[0].name,
            "second": owners[-1].name,
        }
    wrong = ValidationError({field: [message]})
    contact_id = getattr(value, "pk", value)
    if isinstance(contact_id, str) and contact_id.strip().isdigit():
        contact_id = int(contact_id.strip())
    if isinstance(contact_id, bool) or not isinstance(contact_id, int):
        raise wrong
    if not 0 < contact_id < 2**63:
        raise wrong
    found = (
        visible_contacts(actor)
        .filter(pk=contact_id, organisation__in=[item.pk for item in owners])
        .select_related("organisation", "user")
        .first()
    )
    if found is None:
        raise wrong
    if active and not found.active:
        raise ValidationError(
            {field: [_("%(name)s has left; choose someone active.") % {"name": found.full_name}]}
        )
    return found


def ensure_relationship_row(
    organisation: Organisation, today: dt.date | None = None, *, actor: Any = None
) -> Relationship:
    """The organisation's relationship record, created (and audited) when missing; nests in
    the calling service's transaction."""
    found = Relationship.objects.filter(organisation=organisation).first()
    if found is not None:
        return found
    relationship = Relationship(organisation=organisation, started_on=today or timezone.localdate())
    try:
        with transaction.atomic():
            relationship.save(force_insert=True)
    except IntegrityError:  # made meanwhile by another request
        return Relationship.objects.get(organisation=organisation)
    record(
        actor=actor,
        obj=relationship,
        action=AuditEntry.Action.CREATE,
        changes={k: [None, v] for k, v in snapshot(relationship).items() if v not in (None, "")},
    )
    return relationship


def _ensure_staff(actor: Any) -> None:
    if is_partner(actor):
        raise PermissionDenied


# -- relationship ------------------------------------------------------------------------


@transaction.atomic
def ensure_relationship(*, actor: Any, organisation: Any) -> Relationship:
    """The governance record of ``organisation``, created (and audited) on first use.

    Anyone who may read governance and see the organisation may call it (a partner opening
    its own relationship page included): the record only holds defaults until someone with
    the right to change it does. Nests inside other services' transactions.
    """
    organisation = governed_organisation(actor, organisation)
    if actor is not None and not actor.has_perm("governance.view_relationship"):
        raise PermissionDenied
    return ensure_relationship_row(organisation, actor=actor)


def ensure_all_relationships(organisation_ids: Sequence[int] | None = None) -> int:
    """Give every partner organisation (or those of ``organisation_ids``) without one its
    governance record, with the defaults; the number created. Organisations made in bulk
    (the demo loader, imports) skip ``post_save``: the worker's sweep calls this too."""
    missing = Organisation.objects.partners().filter(relationship__isnull=True)
    if organisation_ids is not None:
        missing = missing.filter(pk__in=list(organisation_ids))
    rows = [
        Relationship(organisation_id=pk, started_on=created.date())
        for pk, created in missing.values_list("pk", "created_at")
    ]
    return len(Relationship.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True))


@transaction.atomic(durable=True)
def update_relationship(
    *, actor: Any, relationship: Relationship, data: Mapping[str, Any]
) -> Relationship:
    """Change the health-check frequency, the start date or the notes."""
    organisation = governed_organisation(actor, relationship.organisation_id)
    _ensure_staff(actor)
    ensure_model_permitted(actor, "change", Relationship)
    if not isinstance(data, Mapping):
        raise ValidationError({"data": [_("Expected an object.")]})
    unknown = sorted(str(key) for key in set(data) - RELATIONSHIP_FIELDS)
    if unknown:
        raise ValidationError({key: [_("Unknown field.")] for key in unknown})
    for name in ("health_frequency", "notes"):
        if name in data and not isinstance(data[name], str):
            raise ValidationError({name: [_("Expected text.")]})
    current = ensure_relationship_row(organisation, actor=actor)
    return apply_changes(actor=actor, obj=current, data=dict(data))


# -- the four separated roles -----------------------------------------------------------


def _role(value: Any) -> str:
    if value not in ROLES:
        raise ValidationError({"role": [_("Choose one of the four roles.")]})
    return str(value)


def _holder(actor: Any, value: Any, field: str = "holder") -> Contact:
    return person_of(actor, value, field=field, owner=Organisation.objects.vendor())


def _clash_message(holder: Contact, other_role: str, organisation: Organisation) -> str:
    return _(
        "%(name)s already holds %(role)s for %(organisation)s; one person may hold only one "
        "of the four roles."
    ) % {
        "name": holder.full_name,
        "role": role_label(other_role),
        "organisation": organisation.name,
    }


def _write_roles(
    *,
    actor: Any,
    organisation: Organisation,
    final: Mapping[str, Contact | None],
    today: dt.date,
    reason: str = "",
) -> list[RoleAssignment]:
    """Make the stored roles match ``final`` (validated already). Changed rows are deleted and
    re-inserted under the same ids, so a swap of two holders never meets the database's
    one-role-per-person constraint half-way."""
    current = {
        assignment.role: assignment
        for assignment in RoleAssignment.objects.select_for_update(of=("self",))
        .filter(organisation=organisation)
        .select_related("holder")
        .order_by("pk")
    }
    changed = [
        role
        for role in ROLES
        if role in final
        and (current[role].holder_id if role in current else None)
        != (final[role].pk if final[role] is not None else None)
    ]
    if not changed:
        return [current[role] for role in ROLES if role in current]
    stale = [current[role].pk for role in changed if role in current]
    RoleAssignment.objects.filter(pk__in=stale).delete()
    for role in changed:
        before = current.get(role)
        holder = final[role]
        if holder is None:
            assert before is not None
            record(
                actor=actor,
                obj=before,
                action=AuditEntry.Action.UNASSIGN,
                changes={"holder": [before.holder_id, None]},
                reason=reason,
            )
            current.pop(role)
            continue
        assignment = RoleAssignment(
            pk=before.pk if before is not None else None,
            organisation=organisation,
            role=role,
            holder=holder,
            assigned_on=today,
        )
        validate(assignment)
        assignment.save(force_insert=True)
        record(
            actor=actor,
            obj=assignment,
            action=AuditEntry.Action.ASSIGN,
            changes={"holder": [before.holder_id if before else None, holder.pk]}
            | (
                {"assigned_on": [before.assigned_on.isoformat(), today.isoformat()]}
                if before is not None and before.assigned_on != today
                else {}
            ),
            reason=reason,
        )
        current[role] = assignment
    return [current[role] for role in ROLES if role in current]


def _check_separated(
    organisation: Organisation,
    final: Mapping[str, Contact | None],
    changed: set[str],
    field_for: Any,
) -> None:
    """One person, one role: refuse a final state where a changed role's holder also holds
    another role (the same card, or another card of the same account)."""
    errors: dict[str, list[str]] = {}
    for role in ROLES:
        holder = final.get(role)
        if holder is None or role not in changed:
            continue
        for other in ROLES:
            other_holder = final.get(other)
            if other == role or other_holder is None or not same_person(holder, other_holder):
                continue
            if other in changed and ROLES.index(other) > ROLES.index(role):
                continue  # reported once, on the later of the two roles
            errors.setdefault(field_for(role), []).append(
                _clash_message(holder, other, organisation)
                if other not in changed
                else _(
                    "%(name)s is named for both %(first)s and %(second)s; one person may hold "
                    "only one of the four roles."
                )
                % {
                    "name": holder.full_name,
                    "first": role_label(other),
                    "second": role_label(role),
                }
            )
    if errors:
        raise ValidationError(errors)


def _role_context(actor: Any, organisation: Any) -> Organisation:
    organisation = governed_organisation(actor, organisation)
    _ensure_staff(actor)
    ensure_model_permitted(actor, "change", RoleAssignment)
    ensure_model_permitted(actor, "add", RoleAssignment)
    return organisation


@transaction.atomic(durable=True)
def assign_role(
    *,
    actor: Any,
    organisation: Any,
    role: str,
    holder: Contact | None,
    now: dt.datetime | None = None,
) -> RoleAssignment | None:
    """Give ``role`` to ``holder`` (an active vendor person), or clear it (``None``).

    The separated-roles rule: a person who already holds another of the four roles of this
    relationship is refused with a message naming them and that role.
    """
    organisation = _role_context(actor, organisation)
    role = _role(role)
    if holder is None:
        ensure_model_permitted(actor, "delete", RoleAssignment)
    today = timezone.localdate(now) if now else timezone.localdate()
    current = {
        assignment.role: assignment.holder
        for assignment in RoleAssignment.objects.select_for_update(of=("self",))
        .filter(organisation=organisation)
        .select_related("holder")
        .order_by("pk")
    }
    person = _holder(actor, holder) if holder is not None else None
    final: dict[str, Contact | None] = {**current, role: person}
    _check_separated(organisation, final, {role}, lambda _role: "holder")
    ensure_relationship_row(organisation, today, actor=actor)
    try:
        with transaction.atomic():
            written = _write_roles(
                actor=actor, organisation=organisation, final={role: person}, today=today
            )
    except IntegrityError as error:  # another request gave this person a role meanwhile
        raise ValidationError(
            {"holder": [_("Someone changed these roles meanwhile; reload and try again.")]}
        ) from error
    return next((assignment for assignment in written if assignment.role == role), None)


@transaction.atomic(durable=True)
def set_roles(
    *,
    actor: Any,
    organisation: Any,
    holders: Mapping[str, Contact | None],
    now: dt.datetime | None = None,
) -> list[RoleAssignment]:
    """Set the four roles at once (a role left out of ``holders`` keeps its holder). The
    final state is checked as a whole, so two holders can swap roles in one call; the same
    person named for two roles is refused naming both."""
    organisation = _role_context(actor, organisation)
    if not isinstance(holders, Mapping):
        raise ValidationError({"holders": [_("Expected an object.")]})
    unknown = sorted(str(key) for key in holders if key not in ROLES)
    if unknown:
        raise ValidationError({key: [_("Choose one of the four roles.")] for key in unknown})
    today = timezone.localdate(now) if now else timezone.localdate()
    current = {
        assignment.role: assignment.holder
        for assignment in RoleAssignment.objects.select_for_update(of=("self",))
        .filter(organisation=organisation)
        .select_related("holder")
        .order_by("pk")
    }
    errors: dict[str, list[str]] = {}
    given: dict[str, Contact | None] = {}
    for role, value in holders.items():
        if value is None or value == "":
            given[role] = None
            continue
        if role in current and getattr(value, "pk", value) == current[role].pk:
            given[role] = current[role]  # unchanged: a holder who left may stay until replaced
            continue
        try:
            given[role] = _holder(actor, value, field=role)
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    if any(value is None and role in current for role, value in given.items()):
        ensure_model_permitted(actor, "delete", RoleAssignment)
    final = {**current, **given}
    changed = {
        role
        for role, value in given.items()
        if (current[role].pk if role in current else None) != (value.pk if value else None)
    }
    _check_separated(organisation, final, changed, lambda role: role)
    ensure_relationship_row(organisation, today, actor=actor)
    try:
        with transaction.atomic():
            return _write_roles(actor=actor, organisation=organisation, final=given, today=today)
    except IntegrityError as error:
        raise ValidationError(
            {"holders": [_("Someone changed these roles meanwhile; reload and try again.")]}
        ) from error


# -- contact map -------------------------------------------------------------------------


def _choice(value: Any, choices: list[str], field: str) -> str:
    if value not in choices:
        raise ValidationError({field: [_("Select a valid choice.")]})
    return str(value)


@transaction.atomic(durable=True)
def set_slot(
    *,
    actor: Any,
    organisation: Any,
    tier: str,
    function: str = Function.GENERAL,
    vendor_contact: Any = UNSET,
    partner_contact: Any = UNSET,
) -> ContactSlot:
    """Name the peers at ``tier`` in ``function`` (created when missing). ``UNSET`` leaves a
    side as it is, ``None`` clears it. A partner may fill only the partner side of a slot
    the vendor has laid out."""
    organisation = governed_organisation(actor, organisation)
    tier = _choice(tier, list(Tier.values), "tier")
    function = _choice(function, list(Function.values), "function")
    if is_partner(actor) and vendor_contact is not UNSET:
        raise PermissionDenied
    ensure_model_permitted(actor, "change", ContactSlot)
    values: dict[str, Contact | None] = {}
    errors: dict[str, list[str]] = {}
    sides = (
        ("vendor_contact", vendor_contact, Organisation.objects.vendor()),
        ("partner_contact", partner_contact, organisation),
    )
    slot = (
        ContactSlot.objects.select_for_update(of=("self",))
        .filter(organisation=organisation, tier=tier, function=function)
        .first()
    )
    for field, value, owner in sides:
        if value is UNSET:
            continue
        if value is None or value == "":
            values[field] = None
            continue
        if slot is not None and getattr(value, "pk", value) == getattr(slot, f"{field}_id"):
            values[field] = getattr(slot, field)  # unchanged, even when that person left
            continue
        try:
            values[field] = person_of(actor, value, field=field, owner=owner)
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    if slot is None:
        if is_partner(actor):
            raise PermissionDenied
        ensure_model_permitted(actor, "add", ContactSlot)
        ensure_relationship_row(organisation, actor=actor)
        slot = ContactSlot(organisation=organisation, tier=tier, function=function, **values)
        try:
            with transaction.atomic():
                return create_audited(actor=actor, obj=slot)
        except IntegrityError as error:
            raise ValidationError(
                {"function": [_("This slot was added meanwhile; reload and try again.")]}
            ) from error
    return apply_changes(actor=actor, obj=slot, data=values, action=AuditEntry.Action.ASSIGN)


@transaction.atomic(durable=True)
def delete_slot(*, actor: Any, slot: ContactSlot) -> None:
    """Remove a slot from the contact map (vendor staff only)."""
    governed_organisation(actor, slot.organisation_id)
    _ensure_staff(actor)
    ensure_model_permitted(actor, "delete", ContactSlot)
    found = ContactSlot.objects.select_for_update(of=("self",)).filter(pk=slot.pk).first()
    if found is None:
        raise Http404
    delete_audited(actor=actor, obj=found)


# -- key people --------------------------------------------------------------------------


def _side_owner(organisation: Organisation, side: str) -> Organisation:
    return Organisation.objects.vendor() if side == Side.VENDOR else organisation


def _key_person_side(actor: Any, organisation: Organisation, value: Any) -> tuple[Contact, str]:
    """The key person ``value`` and their side; a partner may name only their own people."""
    vendor = Organisation.objects.vendor()
    owners = [organisation] if is_partner(actor) else [vendor, organisation]
    person = person_of(actor, value, field="person", owner=owners)
    return person, Side.VENDOR if person.organisation_id == vendor.pk else Side.PARTNER


def _backup(actor: Any, organisation: Organisation, side: str, person: Contact, value: Any) -> Any:
    if value is None or value == "":
        return None
    backup = person_of(actor, value, field="backup", owner=_side_owner(organisation, side))
    if backup.pk == person.pk:
        raise ValidationError({"backup": [_("A person cannot be their own backup.")]})
    return backup


def _text(data: Mapping[str, Any], name: str, limit: int) -> str:
    value = data.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError({name: [_("Expected text.")]})
    value = value.strip()
    if len(value) > limit:
        raise ValidationError({name: [_("Keep it to %(limit)d characters.") % {"limit": limit}]})
    return value


def _ensure_own_side(actor: Any, key_person: KeyPerson) -> None:
    """A partner changes only key people of their own side."""
    if is_partner(actor) and key_person.person.organisation_id != key_person.organisation_id:
        raise PermissionDenied


@transaction.atomic(durable=True)
def add_key_person(
    *,
    actor: Any,
    organisation: Any,
    person: Any,
    backup: Any = None,
    responsibility: str = "",
) -> KeyPerson:
    """Name someone the relationship depends on (either side; partners their own), with a
    backup on the same side who is not the person."""
    organisation = governed_organisation(actor, organisation)
    ensure_model_permitted(actor, "add", KeyPerson)
    person, side = _key_person_side(actor, organisation, person)
    backup = _backup(actor, organisation, side, person, backup)
    responsibility = _text({"responsibility": responsibility}, "responsibility", 150)
    if KeyPerson.objects.filter(organisation=organisation, person=person).exists():
        raise ValidationError(
            {"person": [_("%(name)s is already a key person here.") % {"name": person.full_name}]}
        )
    ensure_relationship_row(organisation, actor=actor)
    row = KeyPerson(
        organisation=organisation, person=person, backup=backup, responsibility=responsibility
    )
    try:
        with transaction.atomic():
            return create_audited(actor=actor, obj=row)
    except IntegrityError as error:
        raise ValidationError(
            {"person": [_("%(name)s is already a key person here.") % {"name": person.full_name}]}
        ) from error


@transaction.atomic(durable=True)
def update_key_person(*, actor: Any, key_person: KeyPerson, data: Mapping[str, Any]) -> KeyPerson:
    """Change a key person's backup, responsibility (or the person, on the same side)."""
    organisation = governed_organisation(actor, key_person.organisation_id)
    ensure_model_permitted(actor, "change", KeyPerson)
    row = (
        KeyPerson.objects.select_for_update(of=("self",))
        .select_related("person", "backup")
        .filter(pk=key_person.pk, organisation=organisation)
        .first()
    )
    if row is None:
        raise Http404
    _ensure_own_side(actor, row)
    if not isinstance(data, Mapping):
        raise ValidationError({"data": [_("Expected an object.")]})
    unknown = sorted(str(key) for key in set(data) - KEY_PERSON_FIELDS)
    if unknown:
        raise ValidationError({key: [_("Unknown field.")] for key in unknown})
    side = Side.PARTNER if row.person.organisation_id == organisation.pk else Side.VENDOR
    values: dict[str, Any] = {}
    person = row.person
    if "person" in data and getattr(data["person"], "pk", data["person"]) != row.person_id:
        person = person_of(
            actor, data["person"], field="person", owner=_side_owner(organisation, side)
        )
        if KeyPerson.objects.filter(organisation=organisation, person=person).exists():
            raise ValidationError(
                {
                    "person": [
                        _("%(name)s is already a key person here.") % {"name": person.full_name}
                    ]
                }
            )
        values["person"] = person
    if "backup" in data:
        raw = data["backup"]
        if raw not in (None, "") and getattr(raw, "pk", raw) == row.backup_id:
            if row.backup_id == person.pk:
                raise ValidationError({"backup": [_("A person cannot be their own backup.")]})
            values["backup"] = row.backup  # unchanged, even when the backup left
        else:
            values["backup"] = _backup(actor, organisation, side, person, raw)
    elif "person" in values and row.backup_id == person.pk:
        values["backup"] = None
    if "responsibility" in data:
        values["responsibility"] = _text(data, "responsibility", 150)
    return apply_changes(actor=actor, obj=row, data=values)


@transaction.atomic(durable=True)
def remove_key_person(*, actor: Any, key_person: KeyPerson) -> None:
    organisation = governed_organisation(actor, key_person.organisation_id)
    ensure_model_permitted(actor, "delete", KeyPerson)
    row = (
        KeyPerson.objects.select_for_update(of=("self",))
        .select_related("person")
        .filter(pk=key_person.pk, organisation=organisation)
        .first()
    )
    if row is None:
        raise Http404
    _ensure_own_side(actor, row)
    delete_audited(actor=actor, obj=row)
