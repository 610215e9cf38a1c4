"""Builders for the governance tests: people on both sides and a fully governed relationship
(the four separated roles, a contact map at the three tiers with both sides, key people with
backups). Rows are made directly so every helper's tests can use them before the services.

Stable names (other test modules import them): ``vendor_person``, ``partner_person``,
``governed``, ``NOW``, ``TODAY``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from accord.governance.models import (
    ContactSlot,
    Function,
    KeyPerson,
    Relationship,
    RoleAssignment,
    Tier,
)
from accord.partners.models import Contact, Organisation

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
TODAY = NOW.date()

ROLE_NAMES = {
    RoleAssignment.Role.SERVICE_DELIVERY: "Dana Delivery",
    RoleAssignment.Role.TRANSFORMATION: "Theo Transformation",
    RoleAssignment.Role.RELATIONSHIP: "Rhea Relationship",
    RoleAssignment.Role.COMMERCIAL: "Cole Commercial",
}
PARTNER_NAMES = {
    Tier.WORKING: "Wendy Working",
    Tier.OPERATIONAL: "Oscar Operations",
    Tier.EXECUTIVE: "Ella Executive",
}


def _unique_name(organisation: Organisation, name: str) -> str:
    """``name``, or ``name 2``, ``name 3``... when the organisation already has one."""
    taken = set(
        Contact.objects.filter(organisation=organisation, full_name__startswith=name).values_list(
            "full_name", flat=True
        )
    )
    if name not in taken:
        return name
    number = 2
    while f"{name} {number}" in taken:
        number += 1
    return f"{name} {number}"


def vendor_person(name: str, email: str | None = None, user: Any = None) -> Contact:
    """A person of the vendor organisation (optionally with a portal account)."""
    return Contact.objects.create(
        organisation=Organisation.objects.vendor(),
        full_name=name,
        email=email or (user.email if user is not None else ""),
        user=user,
    )


def partner_person(
    org: Organisation, name: str, email: str | None = None, user: Any = None
) -> Contact:
    """A person of the partner organisation ``org`` (optionally with a portal account)."""
    return Contact.objects.create(
        organisation=org,
        full_name=name,
        email=email or (user.email if user is not None else ""),
        user=user,
    )


def governed(org: Organisation, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """A relationship with ``org`` governed in full.

    - four new vendor people, each holding one separated role (``roles``);
    - a contact map at working, operational and executive level (function general), both
      sides filled: vendor side the service-delivery holder (working), the relationship
      holder (operational) and a vendor executive (executive); partner side three new
      partner people, the executive marked primary when the partner has no primary yet;
    - key people: the partner executive (backup: the partner operations person) and the
      relationship holder (backup: the commercial holder).

    Returns {"relationship", "roles": {role: contact}, "slots": {tier: slot},
    "vendor": [contacts], "partner": [contacts], "key_people": [rows]}.
    """
    now = now or timezone.now()
    vendor = Organisation.objects.vendor()
    relationship, _created = Relationship.objects.get_or_create(
        organisation=org, defaults={"started_on": now.date(), "created_at": now}
    )
    roles: dict[str, Contact] = {}
    for role, name in ROLE_NAMES.items():
        contact = vendor_person(_unique_name(vendor, name))
        RoleAssignment.objects.create(
            organisation=org, role=role, holder=contact, assigned_on=now.date()
        )
        roles[role] = contact
    executive = vendor_person(_unique_name(vendor, "Evan Executive"))
    has_primary = Contact.objects.filter(organisation=org, is_primary=True).exists()
    partner: dict[str, Contact] = {}
    for tier, name in PARTNER_NAMES.items():
        contact = partner_person(org, _unique_name(org, name))
        if tier == Tier.EXECUTIVE and not has_primary:
            contact.is_primary = True
            contact.save(update_fields=["is_primary"])
        partner[tier] = contact
    vendor_side = {
        Tier.WORKING: roles[RoleAssignment.Role.SERVICE_DELIVERY],
        Tier.OPERATIONAL: roles[RoleAssignment.Role.RELATIONSHIP],
        Tier.EXECUTIVE: executive,
    }
    slots: dict[str, ContactSlot] = {}
    for tier in (Tier.WORKING, Tier.OPERATIONAL, Tier.EXECUTIVE):
        slots[tier] = ContactSlot.objects.create(
            organisation=org,
            tier=tier,
            function=Function.GENERAL,
            vendor_contact=vendor_side[tier],
            partner_contact=partner[tier],
        )
    key_people = [
        KeyPerson.objects.create(
            organisation=org,
            person=partner[Tier.EXECUTIVE],
            backup=partner[Tier.OPERATIONAL],
            responsibility="Sponsor",
        ),
        KeyPerson.objects.create(
            organisation=org,
            person=roles[RoleAssignment.Role.RELATIONSHIP],
            backup=roles[RoleAssignment.Role.COMMERCIAL],
            responsibility="Account lead",
        ),
    ]
    return {
        "relationship": relationship,
        "roles": roles,
        "slots": slots,
        "vendor": [*roles.values(), executive],
        "partner": list(partner.values()),
        "key_people": key_people,
    }
