"""The separated-roles rule as a property: whatever sequence of role changes is asked for,
the service accepts exactly the final states where no one holds two roles, stores them as
asked, and leaves the roles untouched when it refuses."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.accounts.models import User
from accord.core.errors import ValidationError
from accord.governance.models import RoleAssignment
from accord.governance.services import structure as services
from accord.partners.models import Organisation
from tests.governance.builders import vendor_person

pytestmark = pytest.mark.django_db

ROLES = list(RoleAssignment.Role.values)
PEOPLE = 5

steps = st.lists(
    st.dictionaries(st.sampled_from(ROLES), st.one_of(st.none(), st.integers(0, PEOPLE - 1))),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=steps)
def test_set_roles_accepts_exactly_the_separated_states(
    channel_manager: User, partner_a: Organisation, steps: list[dict[str, int | None]]
) -> None:
    people = [vendor_person(f"Person {n}") for n in range(PEOPLE)]
    RoleAssignment.objects.filter(organisation=partner_a).delete()
    state: dict[str, int] = {}
    for step in steps:
        final = {**state, **step}
        held = [index for index in final.values() if index is not None]
        holders = {role: people[i] if i is not None else None for role, i in step.items()}
        if len(held) != len(set(held)):
            with pytest.raises(ValidationError):
                services.set_roles(actor=channel_manager, organisation=partner_a, holders=holders)
        else:
            services.set_roles(actor=channel_manager, organisation=partner_a, holders=holders)
            state = {role: i for role, i in final.items() if i is not None}
        stored = dict(
            RoleAssignment.objects.filter(organisation=partner_a).values_list("role", "holder_id")
        )
        assert stored == {role: people[i].pk for role, i in state.items()}
