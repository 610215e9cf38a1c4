"""The relationship list's roles filter (one grouped subquery, read once) picks exactly the
relationships its annotations call incomplete or doubled, and "complete" the others, with
the same number of queries (bench/governance.py measures the time)."""

from __future__ import annotations

from typing import Any

import pytest

from accord.accounts.models import User
from accord.governance.models import RoleAssignment
from accord.governance.selectors import structure as selectors
from accord.partners.models import Contact, Organisation
from tests.factories import OrganisationFactory, UserFactory
from tests.governance.builders import governed

pytestmark = pytest.mark.django_db
ROLES = list(RoleAssignment.Role.values)


def mixed_network() -> None:
    """Every shape of the four roles: complete, one or all missing, a leaver, one account on
    two cards, two leavers on the same account's cards, a complete set held by people who
    each have their own account."""
    vendor = Organisation.objects.vendor()
    for number in range(12):
        made = governed(OrganisationFactory(name=f"Shape {number:02d}"))
        organisation = made["relationship"].organisation
        roles = made["roles"]
        shape = number % 6
        if shape == 1:
            RoleAssignment.objects.filter(
                organisation=organisation, role=ROLES[number % 4]
            ).delete()
        elif shape == 2:
            RoleAssignment.objects.filter(organisation=organisation).delete()
        elif shape == 3:
            Contact.objects.filter(pk=roles[ROLES[1]].pk).update(active=False)
        elif shape == 4:
            account = UserFactory(organisation=vendor)
            Contact.objects.filter(pk__in=[roles[ROLES[0]].pk, roles[ROLES[2]].pk]).update(
                user=account
            )
        elif shape == 5:
            for role in ROLES:
                Contact.objects.filter(pk=roles[role].pk).update(
                    user=UserFactory(organisation=vendor)
                )


def test_the_filter_agrees_with_the_annotations(
    analyst: User, django_assert_num_queries: Any
) -> None:
    mixed_network()
    annotated = {
        r.organisation_id: r.roles_filled < len(ROLES) or r.roles_doubled
        for r in selectors.list_relationships(analyst, {})
    }
    analyst.has_perm("governance.view_relationship")
    selectors.list_relationships(analyst, {})  # the settings row, read once
    with django_assert_num_queries(2):  # the settings row's cache check, then the rows
        flagged = [
            r.organisation_id
            for r in selectors.list_relationships(analyst, {"roles": "incomplete_or_doubled"})
        ]
    complete = [
        r.organisation_id for r in selectors.list_relationships(analyst, {"roles": "complete"})
    ]
    assert sorted(flagged) == sorted(pk for pk, gap in annotated.items() if gap)
    assert sorted(complete) == sorted(pk for pk, gap in annotated.items() if not gap)
    assert len(flagged) == 8 and len(complete) == 4 + len(annotated) - 12
    assert selectors.list_relationships(analyst, {"roles": "incomplete_or_doubled"}).count() == 8
