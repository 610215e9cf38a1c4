"""The dashboard's coverage figures are counted by the database, in a fixed number of queries,
and agree with the coverage report they summarise (bench/governance.py measures the time)."""

from __future__ import annotations

from typing import Any

import pytest

from accord.accounts.models import User
from accord.governance.models import ContactSlot, KeyPerson, RoleAssignment, Tier
from accord.governance.selectors import continuity
from accord.governance.selectors.dashboard import coverage_counts
from accord.partners.models import Organisation
from tests.factories import OrganisationFactory
from tests.governance.builders import NOW, governed, partner_person, vendor_person

pytestmark = pytest.mark.django_db


def from_report(user: User) -> dict[str, int]:
    report = continuity.coverage_report(user)
    return {
        "relationships": len(report),
        "problems": sum(len(entry["problems"]) for entry in report),
    }


def lose_cover(partner_a: Organisation, partner_b: Organisation) -> None:
    """Every kind of problem the report knows, spread over two relationships; a third
    relationship is fully covered and a fourth has nothing at all."""
    alpha = governed(partner_a, now=NOW)
    bravo = governed(partner_b, now=NOW)
    governed(OrganisationFactory(name="Covered Co"), now=NOW)
    OrganisationFactory(name="Bare Co")  # its relationship record only: four roles missing
    # Alpha: a role holder left, a role no one holds, a slot's vendor person left, a key
    # person left, a backup left.
    commercial = alpha["roles"][RoleAssignment.Role.COMMERCIAL]
    commercial.active = False
    commercial.save()
    RoleAssignment.objects.filter(
        organisation=partner_a, role=RoleAssignment.Role.TRANSFORMATION
    ).delete()
    executive = alpha["vendor"][-1]
    executive.active = False
    executive.save()
    sponsor, backup = alpha["partner"][2], alpha["partner"][1]
    sponsor.active = False
    sponsor.save()
    backup.active = False
    backup.save()
    # Bravo: a key person without a backup, a slot without its partner person, a slot with
    # neither side, and a key person whose backup is a leaver on the vendor side.
    KeyPerson.objects.filter(organisation=partner_b, person=bravo["partner"][2]).update(backup=None)
    ContactSlot.objects.filter(organisation=partner_b, tier=Tier.EXECUTIVE).update(
        partner_contact=None
    )
    ContactSlot.objects.create(organisation=partner_b, tier=Tier.WORKING, function="finance")
    gone = vendor_person("Gina Gone")
    gone.active = False
    gone.save()
    KeyPerson.objects.create(
        organisation=partner_b, person=partner_person(partner_b, "Kim Key"), backup=gone
    )


def test_the_counts_agree_with_the_report(
    analyst: User, partner_a: Organisation, partner_b: Organisation
) -> None:
    lose_cover(partner_a, partner_b)
    expected = from_report(analyst)
    assert expected["relationships"] == 3  # Alpha, Bravo, Bare Co
    assert coverage_counts(analyst) == expected


def test_a_partner_counts_only_its_own_relationship(
    partner_a: Organisation, partner_b: Organisation, partner_a_user: User
) -> None:
    lose_cover(partner_a, partner_b)
    assert coverage_counts(partner_a_user) == from_report(partner_a_user)


def test_no_relationships_no_problems(analyst: User) -> None:
    assert coverage_counts(analyst) == {"relationships": 0, "problems": 0}


def test_the_counts_take_four_queries_whatever_the_size(
    analyst: User,
    partner_a: Organisation,
    partner_b: Organisation,
    django_assert_max_num_queries: Any,
) -> None:
    lose_cover(partner_a, partner_b)
    for number in range(5):
        governed(OrganisationFactory(name=f"Extra {number}"), now=NOW)
    analyst.has_perm("governance.view_relationship")  # the user's permissions, read once
    with django_assert_max_num_queries(4):
        counts = coverage_counts(analyst)
    assert counts == from_report(analyst)
