"""Writes and workflows for organisations, contacts, territories and agreements.

Every function here is a top-level service: one durable transaction with its audit rows.
``actor=None`` means the system itself (demo loader, imports run by the CLI).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accord.core.errors import Conflict, InvalidTransition, ValidationError
from accord.core.models import AuditEntry
from accord.core.services import (
    apply_changes,
    create_audited,
    delete_audited,
    diff,
    ensure_model_permitted,
    ensure_permitted,
    record,
    validate,
)
from accord.partners.models import (
    Agreement,
    AgreementTarget,
    Contact,
    Organisation,
    Tag,
    Territory,
    TerritoryAssignment,
)

ORGANISATION_FIELDS = frozenset(
    {
        "name",
        "legal_name",
        "kind",
        "parent",
        "external_key",
        "tax_id",
        "website_domain",
        "email",
        "phone",
        "street",
        "city",
        "region",
        "postal_code",
        "country",
        "currency",
    }
)


def _check_fields(data: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise ValidationError({name: [_("This field cannot be set here.")] for name in unknown})


def _check_parent(actor: Any, parent: Organisation | None) -> None:
    if parent is not None:
        # A parent the actor cannot see is treated as not existing.
        ensure_permitted(actor, "view", parent)


def _set_tags(actor: Any, organisation: Organisation, names: Iterable[str]) -> None:
    wanted = sorted({name.strip() for name in names if name and name.strip()})
    before = sorted(organisation.tags.values_list("name", flat=True))
    if wanted == before:
        return
    for name in wanted:
        try:
            validate(Tag(name=name))
        except ValidationError as error:
            if "name" in error.message_dict and Tag.objects.filter(name=name).exists():
                continue  # the existing tag's unique-name clash is not an error
            raise ValidationError({"tags": error.message_dict.get("name", [])}) from error
    tags = [Tag.objects.get_or_create(name=name)[0] for name in wanted]
    organisation.tags.set(tags)
    record(
        actor=actor,
        obj=organisation,
        action=AuditEntry.Action.UPDATE,
        changes={"tags": [before, wanted]},
    )


@transaction.atomic(durable=True)
def create_organisation(
    *, actor: Any, data: Mapping[str, Any], tags: Iterable[str] = ()
) -> Organisation:
    ensure_model_permitted(actor, "add", Organisation)
    _check_fields(data, ORGANISATION_FIELDS)
    if data.get("kind") == Organisation.Kind.VENDOR:
        raise ValidationError({"kind": [_("There is only one vendor organisation.")]})
    _check_parent(actor, data.get("parent"))
    organisation = create_audited(actor=actor, obj=Organisation(**data))
    _set_tags(actor, organisation, tags)
    return organisation


@transaction.atomic(durable=True)
def update_organisation(
    *,
    actor: Any,
    organisation: Organisation,
    data: Mapping[str, Any],
    tags: Iterable[str] | None = None,
) -> Organisation:
    ensure_permitted(actor, "change", organisation)
    _check_fields(data, ORGANISATION_FIELDS)
    if "kind" in data and organisation.is_vendor and data["kind"] != Organisation.Kind.VENDOR:
        raise ValidationError({"kind": [_("The vendor organisation keeps its kind.")]})
    if "kind" in data and not organisation.is_vendor and data["kind"] == Organisation.Kind.VENDOR:
        raise ValidationError({"kind": [_("There is only one vendor organisation.")]})
    if "parent" in data and data["parent"] != organisation.parent:
        _check_parent(actor, data["parent"])
        if actor is not None and actor.is_partner:
            # Partner staff cannot re-hang their organisation in the network.
            raise ValidationError({"parent": [_("Only the vendor can change the parent.")]})
    apply_changes(actor=actor, obj=organisation, data=data)
    if tags is not None:
        _set_tags(actor, organisation, tags)
    return organisation


@transaction.atomic(durable=True)
def transition_organisation(
    *, actor: Any, organisation: Organisation, status: str, reason: str = ""
) -> Organisation:
    """Move an organisation along its lifecycle; only the transitions in TRANSITIONS exist."""
    ensure_permitted(actor, "transition", organisation)
    locked = Organisation.objects.select_for_update().get(pk=organisation.pk)
    if status not in locked.allowed_transitions():
        raise InvalidTransition(
            _("%(name)s cannot go from %(current)s to %(requested)s.")
            % {
                "name": locked.name,
                "current": locked.get_status_display(),
                "requested": Organisation.Status(status).label
                if status in Organisation.Status.values
                else status,
            },
            current=locked.status,
            requested=status,
        )
    before = locked.status
    locked.status = status
    locked.save(update_fields=["status", "updated_at"])
    record(
        actor=actor,
        obj=locked,
        action=AuditEntry.Action.TRANSITION,
        changes={"status": [before, status]},
        reason=reason,
    )
    organisation.status = status
    return locked


# -- contacts -----------------------------------------------------------------
CONTACT_FIELDS = frozenset({"full_name", "job_title", "email", "phone", "is_primary", "notes"})


def _demote_other_primaries(contact: Contact) -> None:
    if contact.is_primary:
        Contact.objects.filter(organisation_id=contact.organisation_id, is_primary=True).exclude(
            pk=contact.pk
        ).update(is_primary=False)


@transaction.atomic(durable=True)
def create_contact(*, actor: Any, organisation: Organisation, data: Mapping[str, Any]) -> Contact:
    ensure_permitted(actor, "view", organisation)
    ensure_model_permitted(actor, "add", Contact)
    _check_fields(data, CONTACT_FIELDS)
    contact = create_audited(actor=actor, obj=Contact(organisation=organisation, **data))
    _demote_other_primaries(contact)
    return contact


@transaction.atomic(durable=True)
def update_contact(*, actor: Any, contact: Contact, data: Mapping[str, Any]) -> Contact:
    ensure_permitted(actor, "change", contact)
    _check_fields(data, CONTACT_FIELDS)
    apply_changes(actor=actor, obj=contact, data=data)
    _demote_other_primaries(contact)
    return contact


@transaction.atomic(durable=True)
def delete_contact(*, actor: Any, contact: Contact) -> None:
    ensure_permitted(actor, "delete", contact)
    delete_audited(actor=actor, obj=contact)


# -- territories --------------------------------------------------------------
TERRITORY_FIELDS = frozenset({"code", "name", "level", "parent"})


@transaction.atomic(durable=True)
def create_territory(*, actor: Any, data: Mapping[str, Any]) -> Territory:
    ensure_model_permitted(actor, "add", Territory)
    _check_fields(data, TERRITORY_FIELDS)
    return create_audited(actor=actor, obj=Territory(**data))


@transaction.atomic(durable=True)
def update_territory(*, actor: Any, territory: Territory, data: Mapping[str, Any]) -> Territory:
    ensure_permitted(actor, "change", territory)
    _check_fields(data, TERRITORY_FIELDS)
    return apply_changes(actor=actor, obj=territory, data=data)


@transaction.atomic(durable=True)
def delete_territory(*, actor: Any, territory: Territory) -> None:
    ensure_permitted(actor, "delete", territory)
    if territory.children.exists() or territory.assignments.exists():
        raise Conflict(_("Remove the sub-territories and assignments of this territory first."))
    delete_audited(actor=actor, obj=territory)


@transaction.atomic(durable=True)
def assign_territory(
    *, actor: Any, organisation: Organisation, territory: Territory, exclusive: bool = False
) -> TerritoryAssignment:
    """Give ``organisation`` a territory. An exclusive right excludes every other holder."""
    ensure_permitted(actor, "view", organisation)
    ensure_permitted(actor, "view", territory)
    ensure_model_permitted(actor, "add", TerritoryAssignment)
    others = (
        TerritoryAssignment.objects.select_for_update()
        .filter(territory=territory)
        .exclude(organisation=organisation)
    )
    holder = others.filter(exclusive=True).select_related("organisation").first()
    if holder:
        raise Conflict(
            _("%(territory)s is held exclusively by %(holder)s.")
            % {"territory": territory.name, "holder": holder.organisation.name},
            field="territory",
        )
    if exclusive and others.exists():
        raise Conflict(
            _("%(territory)s is already shared with other organisations; it cannot be exclusive.")
            % {"territory": territory.name},
            field="exclusive",
        )
    assignment = TerritoryAssignment.objects.filter(
        organisation=organisation, territory=territory
    ).first()
    try:
        with transaction.atomic():
            if assignment is None:
                assignment = TerritoryAssignment(
                    organisation=organisation, territory=territory, exclusive=exclusive
                )
                assignment.save()
                record(
                    actor=actor,
                    obj=assignment,
                    action=AuditEntry.Action.ASSIGN,
                    changes={"territory": [None, territory.code], "exclusive": [None, exclusive]},
                )
            elif assignment.exclusive != exclusive:
                before = assignment.exclusive
                assignment.exclusive = exclusive
                assignment.save(update_fields=["exclusive"])
                record(
                    actor=actor,
                    obj=assignment,
                    action=AuditEntry.Action.UPDATE,
                    changes=diff({"exclusive": before}, {"exclusive": exclusive}),
                )
    except IntegrityError as error:
        # Another transaction took the territory exclusively between our check and insert.
        raise Conflict(
            _("The territory was just assigned exclusively elsewhere."), field="territory"
        ) from error
    return assignment


@transaction.atomic(durable=True)
def unassign_territory(*, actor: Any, assignment: TerritoryAssignment) -> None:
    ensure_permitted(actor, "delete", assignment)
    record(
        actor=actor,
        obj=assignment,
        action=AuditEntry.Action.UNASSIGN,
        changes={"territory": [assignment.territory.code, None]},
    )
    assignment.delete()


# -- agreements ---------------------------------------------------------------
AGREEMENT_FIELDS = frozenset(
    {"reference", "type", "start_on", "end_on", "renewal_notice_days", "pricing_tier", "terms"}
)
TARGET_FIELDS = ("metric", "comparator", "target", "unit", "period")


def _replace_targets(
    actor: Any, agreement: Agreement, targets: Iterable[Mapping[str, Any]]
) -> None:
    wanted = [dict(t) for t in targets]
    for row in wanted:
        _check_fields(row, frozenset(TARGET_FIELDS))
    keys = [(row.get("metric"), row.get("period", AgreementTarget.Period.YEAR)) for row in wanted]
    if len(keys) != len(set(keys)):
        raise ValidationError({"targets": [_("Each metric may have one target per period.")]})

    def rows(qs: Iterable[AgreementTarget]) -> list[dict[str, Any]]:
        return [
            {
                "metric": t.metric,
                "comparator": t.comparator,
                "target": str(t.target),
                "unit": t.unit,
                "period": t.period,
            }
            for t in qs
        ]

    before = rows(agreement.targets.all())
    agreement.targets.all().delete()
    created = []
    for row in wanted:
        target = AgreementTarget(agreement=agreement, **row)
        validate(target)
        created.append(target)
    AgreementTarget.objects.bulk_create(created)
    after = rows(agreement.targets.all())
    if before != after:
        record(
            actor=actor,
            obj=agreement,
            action=AuditEntry.Action.UPDATE,
            changes={"targets": [before, after]},
        )


@transaction.atomic(durable=True)
def create_agreement(
    *,
    actor: Any,
    organisation: Organisation,
    data: Mapping[str, Any],
    targets: Iterable[Mapping[str, Any]] = (),
) -> Agreement:
    ensure_permitted(actor, "view", organisation)
    ensure_model_permitted(actor, "add", Agreement)
    _check_fields(data, AGREEMENT_FIELDS)
    agreement = create_audited(actor=actor, obj=Agreement(organisation=organisation, **data))
    _replace_targets(actor, agreement, targets)
    return agreement


@transaction.atomic(durable=True)
def update_agreement(
    *,
    actor: Any,
    agreement: Agreement,
    data: Mapping[str, Any],
    targets: Iterable[Mapping[str, Any]] | None = None,
) -> Agreement:
    ensure_permitted(actor, "change", agreement)
    _check_fields(data, AGREEMENT_FIELDS)
    apply_changes(actor=actor, obj=agreement, data=data)
    if targets is not None:
        _replace_targets(actor, agreement, targets)
    return agreement


@transaction.atomic(durable=True)
def transition_agreement(
    *, actor: Any, agreement: Agreement, status: str, reason: str = ""
) -> Agreement:
    ensure_permitted(actor, "transition", agreement)
    locked = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if status not in Agreement.TRANSITIONS.get(locked.status, ()):
        raise InvalidTransition(
            _("The agreement cannot go from %(current)s to %(requested)s.")
            % {"current": locked.get_status_display(), "requested": status},
            current=locked.status,
            requested=status,
        )
    before = locked.status
    locked.status = status
    locked.save(update_fields=["status"])
    record(
        actor=actor,
        obj=locked,
        action=AuditEntry.Action.TRANSITION,
        changes={"status": [before, status]},
        reason=reason,
    )
    agreement.status = status
    return locked
