"""Governance reads: relationships (with their role, issue and meeting counts and the list
filters), the four separated roles and their gaps, the contact map and key people, and the
people a user may pick for each side."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThan
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.core.errors import Http404, ValidationError
from accord.governance.models import (
    ActionItem,
    ContactSlot,
    Function,
    GovernanceSettings,
    Issue,
    KeyPerson,
    Meeting,
    Relationship,
    RoleAssignment,
    Side,
    Tier,
)
from accord.partners.models import Contact, Organisation

ROLES: list[str] = list(RoleAssignment.Role.values)
TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off", ""})


# -- people ----------------------------------------------------------------------------


def visible_contacts(user: Any) -> QuerySet:
    """The contacts ``user`` may name in a governance write: the contacts restrict gives them,
    and for vendor staff (who may see contacts at all) every person of the vendor itself
    (a territory-scoped coordinator's colleagues sit in no territory)."""
    contacts = Contact.objects.all()
    if user is None:
        return contacts
    restricted = Contact.objects.restrict(user, "view")
    if getattr(user, "is_partner", False) or not user.has_perm("partners.view_contact"):
        return restricted
    vendor = Organisation.objects.vendor()
    return contacts.filter(Q(pk__in=restricted.values("pk")) | Q(organisation=vendor))


def selectable_people(user: Any, organisation: Organisation, side: str) -> QuerySet:
    """Active people ``user`` may choose for ``side`` of the relationship with
    ``organisation``: vendor staff for the vendor side, the partner's own staff otherwise."""
    owner = Organisation.objects.vendor() if side == Side.VENDOR else organisation
    return (
        visible_contacts(user)
        .filter(organisation=owner, active=True)
        .order_by("full_name", "pk")
        .select_related("organisation")
    )


# -- relationships ----------------------------------------------------------------------


def _relationship_rows(user: Any) -> QuerySet:
    return Relationship.objects.restrict(user, "view").select_related(
        "organisation", "organisation__account_manager"
    )


def get_relationship(user: Any, organisation_id: Any) -> Relationship:
    """The relationship with the organisation ``organisation_id`` as ``user`` may see it.

    404 when the organisation is invisible to the user, is the vendor itself, or the user
    may not read governance. A visible partner without a governance record yet gets an
    unsaved ``Relationship`` with the defaults (nothing is created here; writes call
    ``services.structure.ensure_relationship``).
    """
    organisation_id = object_id(organisation_id)
    found = _relationship_rows(user).filter(organisation_id=organisation_id).first()
    if found is not None:
        return found
    if user is None or not user.has_perm("governance.view_relationship"):
        raise Http404
    organisation = (
        Organisation.objects.restrict(user, "view")
        .filter(pk=organisation_id, is_vendor=False)
        .select_related("account_manager")
        .first()
    )
    if organisation is None:
        raise Http404
    return Relationship(organisation=organisation, started_on=timezone.localdate())


def _count(queryset: QuerySet) -> Coalesce:
    """A correlated count of ``queryset``'s rows per relationship (0 when none)."""
    return Coalesce(
        Subquery(
            queryset.order_by().values("organisation_id").annotate(n=Count("pk")).values("n")[:1],
            output_field=IntegerField(),
        ),
        Value(0),
    )


def annotate_relationships(queryset: QuerySet, now: dt.datetime | None = None) -> QuerySet:
    """Add ``roles_filled`` (roles held by someone still active, 0-4), ``roles_doubled``
    (two roles held by one person: two contact cards of the same account), ``open_issues``,
    ``overdue_meetings`` and ``overdue_actions`` to a queryset of relationships."""
    now = now or timezone.now()
    grace = GovernanceSettings.current().meeting_grace_days
    organisation = OuterRef("organisation_id")
    # One account on two of the role holders' cards: among the roles held by someone with an
    # account, fewer distinct accounts than roles. An aggregate over the relationship's four
    # rows (a correlated EXISTS over pairs read the whole table on PostgreSQL: seconds for a
    # list of 10,000 relationships, see bench/governance.py).
    doubled = Subquery(
        RoleAssignment.objects.filter(organisation_id=organisation, holder__user__isnull=False)
        .order_by()
        .values("organisation_id")
        .annotate(n=Count("holder__user") - Count("holder__user", distinct=True))
        .values("n")[:1],
        output_field=IntegerField(),
    )
    return queryset.annotate(
        roles_filled=_count(
            RoleAssignment.objects.filter(organisation_id=organisation, holder__active=True)
        ),
        roles_doubled=ExpressionWrapper(
            GreaterThan(Coalesce(doubled, Value(0)), Value(0)), output_field=BooleanField()
        ),
        open_issues=_count(
            Issue.objects.filter(organisation_id=organisation, status__in=Issue.OPEN_STATUSES)
        ),
        overdue_meetings=_count(
            Meeting.objects.filter(
                organisation_id=organisation,
                status=Meeting.Status.PLANNED,
                starts_at__lt=now - dt.timedelta(days=grace),
            )
        ),
        overdue_actions=_count(
            ActionItem.objects.filter(
                organisation_id=organisation,
                status=ActionItem.Status.OPEN,
                due_on__lt=timezone.localdate(now),
            )
        ),
    )


def _flag(filters: dict[str, Any], name: str) -> bool | None:
    value = filters.get(name)
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return None if text == "" else False
    raise ValidationError({name: [_("Enter yes or no.")]})


def _roles_incomplete_or_doubled() -> Q:
    """Relationships with fewer than four roles held by active people, or one account on
    two role holders' cards (``roles_filled`` < 4 or ``roles_doubled``), as one grouped
    subquery the database reads once: the correlated counts per relationship took seconds
    over 10,000 relationships on PostgreSQL (bench/governance.py)."""
    held = RoleAssignment.objects.order_by().values("organisation_id")
    gaps = (
        held.annotate(
            filled=Count("pk", filter=Q(holder__active=True)),
            accounts=Count("holder__user"),
            distinct_accounts=Count("holder__user", distinct=True),
        )
        .filter(Q(filled__lt=len(ROLES)) | Q(accounts__gt=F("distinct_accounts")))
        .values("organisation_id")
    )
    return Q(organisation_id__in=gaps) | ~Q(organisation_id__in=held)


def list_relationships(
    user: Any, filters: dict[str, Any] | None = None, *, now: dt.datetime | None = None
) -> QuerySet:
    """The relationships ``user`` may see, annotated (see ``annotate_relationships``) and
    filtered by ``q`` (organisation name), ``kind``, ``roles`` ("incomplete_or_doubled" |
    "complete"), ``misaligned``, ``health_below`` (score under the number) and ``overdue``
    (an overdue meeting or action item). Every filter is part of the one query."""
    filters = dict(filters or {})
    queryset = annotate_relationships(_relationship_rows(user), now)
    errors: dict[str, list[str]] = {}
    q = str(filters.get("q") or "").strip()
    if q:
        queryset = queryset.filter(organisation__name__icontains=q)
    kind = str(filters.get("kind") or "").strip()
    if kind:
        if kind not in Organisation.Kind.values or kind == Organisation.Kind.VENDOR:
            errors["kind"] = [_("Choose a valid kind.")]
        queryset = queryset.filter(organisation__kind=kind)
    roles = str(filters.get("roles") or "").strip()
    if roles == "incomplete_or_doubled":
        queryset = queryset.filter(_roles_incomplete_or_doubled())
    elif roles == "complete":
        queryset = queryset.filter(~_roles_incomplete_or_doubled())
    elif roles:
        errors["roles"] = [_("Choose incomplete_or_doubled or complete.")]
    try:
        misaligned = _flag(filters, "misaligned")
        if misaligned is not None:
            queryset = queryset.filter(misaligned=misaligned)
    except ValidationError as error:
        errors.update(error.message_dict)
    raw = filters.get("health_below")
    if raw not in (None, ""):
        try:
            below = Decimal(str(raw).strip())
            if not below.is_finite() or not Decimal(0) <= below <= Decimal(1000):
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors["health_below"] = [_("Enter a number from 0 to 100.")]
        else:
            queryset = queryset.filter(health_score__lt=below)
    try:
        overdue = _flag(filters, "overdue")
        if overdue is True:
            queryset = queryset.filter(Q(overdue_meetings__gt=0) | Q(overdue_actions__gt=0))
        elif overdue is False:
            queryset = queryset.filter(overdue_meetings=0, overdue_actions=0)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    return queryset.order_by("organisation__name", "pk")


# -- roles ------------------------------------------------------------------------------


def list_roles(user: Any, organisation: Organisation | int) -> QuerySet:
    """The role assignments of a relationship, as ``user`` may see them."""
    organisation_id = getattr(organisation, "pk", organisation)
    return (
        RoleAssignment.objects.restrict(user, "view")
        .filter(organisation_id=organisation_id)
        .select_related("holder", "holder__user", "holder__organisation")
        .order_by("role")
    )


def roles_by_code(user: Any, organisation: Organisation | int) -> dict[str, RoleAssignment | None]:
    """Each of the four roles, in order, with its assignment or None."""
    found = {assignment.role: assignment for assignment in list_roles(user, organisation)}
    return {role: found.get(role) for role in ROLES}


def same_person(first: Contact, second: Contact) -> bool:
    """Two contact cards stand for the same person: the same card, or the same account."""
    if first.pk == second.pk:
        return True
    return first.user_id is not None and first.user_id == second.user_id


def role_gaps(organisation: Organisation | int) -> dict[str, list[Any]]:
    """What the relationship's roles lack (a pure read, no user): {"missing": [roles],
    "doubled": [[role, role], ...] (one person in two roles), "inactive": [roles whose holder
    left]}."""
    organisation_id = getattr(organisation, "pk", organisation)
    assignments = list(
        RoleAssignment.objects.filter(organisation_id=organisation_id).select_related("holder")
    )
    by_role = {assignment.role: assignment for assignment in assignments}
    doubled: list[list[str]] = []
    ordered = [by_role[role] for role in ROLES if role in by_role]
    for index, first in enumerate(ordered):
        for second in ordered[index + 1 :]:
            if same_person(first.holder, second.holder):
                doubled.append([first.role, second.role])
    return {
        "missing": [role for role in ROLES if role not in by_role],
        "doubled": doubled,
        "inactive": [role for role in ROLES if role in by_role and not by_role[role].holder.active],
    }


# -- contact map and key people --------------------------------------------------------


def list_slots(user: Any, organisation: Organisation | int) -> QuerySet:
    organisation_id = getattr(organisation, "pk", organisation)
    return (
        ContactSlot.objects.restrict(user, "view")
        .filter(organisation_id=organisation_id)
        .select_related("vendor_contact", "partner_contact")
        .order_by("tier", "function", "pk")
    )


def contact_map(user: Any, organisation: Organisation | int) -> dict[str, Any]:
    """The peer-to-peer map as a grid: {"tiers": [(code, label)] lowest first, "functions":
    [(code, label)] (general first, then those in use), "grid": {tier: {function: slot or
    None}}, "slots": [every slot]}."""
    slots = list(list_slots(user, organisation))
    tier_rank = {tier: index for index, tier in enumerate(Tier.values)}
    slots.sort(key=lambda slot: (tier_rank.get(slot.tier, 9), slot.function, slot.pk))
    used = {slot.function for slot in slots}
    functions = [
        (value, label)
        for value, label in Function.choices
        if value == Function.GENERAL or value in used
    ]
    grid: dict[str, dict[str, ContactSlot | None]] = {
        tier: {function: None for function, _label in functions} for tier in Tier.values
    }
    for slot in slots:
        grid[slot.tier][slot.function] = slot
    return {
        "tiers": list(Tier.choices),
        "functions": functions,
        "grid": grid,
        "slots": slots,
    }


def list_key_people(user: Any, organisation: Organisation | int | None = None) -> QuerySet:
    """Key people (with backups) of one relationship, or of every visible one."""
    queryset = KeyPerson.objects.restrict(user, "view").select_related(
        "person", "person__organisation", "backup", "organisation"
    )
    if organisation is not None:
        queryset = queryset.filter(organisation_id=getattr(organisation, "pk", organisation))
    return queryset.order_by("organisation__name", "person__full_name", "pk")


def object_id(value: Any) -> int:
    """A primary key from user input, or 404 (not a whole number, or beyond 64 bits)."""
    if isinstance(value, bool):
        raise Http404
    try:
        number = int(value)
    except (TypeError, ValueError) as error:
        raise Http404 from error
    if not 0 < number < 2**63:
        raise Http404
    return number


def get_key_person(user: Any, pk: Any) -> KeyPerson:
    found = list_key_people(user).filter(pk=object_id(pk)).first()
    if found is None:
        raise Http404
    return found


def get_slot(user: Any, pk: Any) -> ContactSlot:
    found = (
        ContactSlot.objects.restrict(user, "view")
        .select_related("vendor_contact", "partner_contact", "organisation")
        .filter(pk=object_id(pk))
        .first()
    )
    if found is None:
        raise Http404
    return found
