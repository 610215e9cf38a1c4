"""The shared builders make a fully governed relationship other helpers can rely on."""

from __future__ import annotations

import pytest

from accord.governance.models import ContactSlot, KeyPerson, RoleAssignment, Tier
from accord.partners.models import Organisation
from tests.governance.builders import governed, partner_person, vendor_person

pytestmark = pytest.mark.django_db


def test_governed_fills_roles_slots_and_key_people(partner_a: Organisation, vendor) -> None:
    built = governed(partner_a)
    assert set(built["roles"]) == set(RoleAssignment.Role.values)
    assert len({c.pk for c in built["roles"].values()}) == 4
    assert set(built["slots"]) == {Tier.WORKING, Tier.OPERATIONAL, Tier.EXECUTIVE}
    for slot in built["slots"].values():
        assert slot.vendor_contact.organisation_id == vendor.pk
        assert slot.partner_contact.organisation_id == partner_a.pk
    assert all(c.organisation_id == vendor.pk for c in built["vendor"])
    assert all(c.organisation_id == partner_a.pk for c in built["partner"])
    assert built["relationship"].organisation_id == partner_a.pk
    assert KeyPerson.objects.filter(organisation=partner_a, backup__isnull=False).count() == 2


def test_governed_twice_on_two_partners_keeps_names_apart(
    partner_a: Organisation, partner_b: Organisation
) -> None:
    first = governed(partner_a)
    second = governed(partner_b)
    names = {c.full_name for c in first["vendor"]} & {c.full_name for c in second["vendor"]}
    assert not names
    assert ContactSlot.objects.count() == 6


def test_people_on_each_side(partner_a: Organisation, partner_a_user, vendor) -> None:
    assert vendor_person("Vic").organisation_id == vendor.pk
    person = partner_person(partner_a, "Pat", user=partner_a_user)
    assert person.email == partner_a_user.email and person.user == partner_a_user
