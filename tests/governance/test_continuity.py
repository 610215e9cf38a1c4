"""The coverage report: relationships that lost cover (a role holder who left, a key person
without a backup, empty or abandoned contact-map slots), restricted like everything else."""

from __future__ import annotations

import pytest

from accord.accounts.models import User
from accord.governance.models import ContactSlot, KeyPerson, RoleAssignment, Tier
from accord.governance.selectors import continuity as selectors
from accord.partners.models import Organisation
from tests.factories import OrganisationFactory
from tests.governance.builders import NOW, governed

pytestmark = pytest.mark.django_db


def kinds(report: list[dict], name: str) -> list[tuple[str, str]]:
    for entry in report:
        if entry["organisation"].name == name:
            return [(p["kind"], p["label"]) for p in entry["problems"]]
    return []


def test_coverage_lists_what_lost_cover(
    analyst: User, partner_a: Organisation, partner_b: Organisation, django_assert_max_num_queries
) -> None:
    alpha = governed(partner_a, now=NOW)
    bravo = governed(partner_b, now=NOW)
    covered = governed(OrganisationFactory(name="Covered Co"), now=NOW)
    # Alpha: the commercial manager left without a handover.
    commercial = alpha["roles"][RoleAssignment.Role.COMMERCIAL]
    commercial.active = False
    commercial.save()
    # Bravo: a key person without a backup, and an executive slot with no partner person.
    KeyPerson.objects.filter(organisation=partner_b, person=bravo["partner"][2]).update(backup=None)
    ContactSlot.objects.filter(organisation=partner_b, tier=Tier.EXECUTIVE).update(
        partner_contact=None
    )
    analyst.has_perm("governance.view_relationship")
    with django_assert_max_num_queries(4):
        report = selectors.coverage_report(analyst)
    names = [entry["organisation"].name for entry in report]
    assert names == ["Alpha Distribution", "Bravo Resellers"]
    assert covered["relationship"].organisation.name not in names
    alpha_problems = kinds(report, "Alpha Distribution")
    assert ("role_inactive", "Commercial management") in alpha_problems
    # The commercial manager was also the account lead's backup.
    assert ("backup_inactive", "Rhea Relationship") in alpha_problems
    detail = next(p for p in report[0]["problems"] if p["kind"] == "role_inactive")["detail"]
    assert commercial.full_name in detail and "left" in detail
    assert kinds(report, "Bravo Resellers") == [
        ("slot_empty", "Executive · General management"),
        ("no_backup", bravo["partner"][2].full_name),
    ]
    # One relationship's report (its continuity tab) reads that relationship alone.
    (only,) = selectors.coverage_report(analyst, partner_b)
    assert only["organisation"] == partner_b
    assert only["problems"] == report[1]["problems"]
    assert selectors.coverage_report(analyst, covered["relationship"].organisation) == []


def test_coverage_missing_roles_and_left_slot_people(
    analyst: User, partner_a: Organisation
) -> None:
    alpha = governed(partner_a, now=NOW)
    RoleAssignment.objects.filter(
        organisation=partner_a, role=RoleAssignment.Role.TRANSFORMATION
    ).delete()
    partner_person = alpha["partner"][0]
    partner_person.active = False
    partner_person.save()
    problems = kinds(selectors.coverage_report(analyst), "Alpha Distribution")
    assert ("role_missing", "Transformation management") in problems
    assert ("slot_inactive", "Working level · General management") in problems


def test_partner_sees_only_their_own_coverage(
    partner_a_user: User, partner_a: Organisation, partner_b: Organisation
) -> None:
    for organisation in (partner_a, partner_b):
        built = governed(organisation, now=NOW)
        KeyPerson.objects.filter(organisation=organisation).update(backup=None)
        assert built
    report = selectors.coverage_report(partner_a_user)
    assert [entry["organisation"] for entry in report] == [partner_a]
