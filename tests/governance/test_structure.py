"""Structure services: the separated-roles rule (service message, swaps, the database's own
constraint), sides (partners only on their half of the map, never on roles), wrong-side
people, key people with backups, and the relationship list filters as one query."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from accord.accounts.models import User
from accord.core.errors import Http404, PermissionDenied, ValidationError
from accord.core.models import AuditEntry
from accord.governance.models import (
    ContactSlot,
    Function,
    GovernanceSettings,
    KeyPerson,
    Relationship,
    RoleAssignment,
    Tier,
)
from accord.governance.selectors import structure as selectors
from accord.governance.services import structure as services
from accord.partners.models import Organisation
from tests.factories import OrganisationFactory, UserFactory
from tests.governance.builders import NOW, governed, partner_person, vendor_person

pytestmark = pytest.mark.django_db

SD = RoleAssignment.Role.SERVICE_DELIVERY
TR = RoleAssignment.Role.TRANSFORMATION
RM = RoleAssignment.Role.RELATIONSHIP
CM = RoleAssignment.Role.COMMERCIAL


def holders(organisation: Organisation) -> dict[str, int]:
    return dict(
        RoleAssignment.objects.filter(organisation=organisation).values_list("role", "holder_id")
    )


# -- the separated-roles rule -------------------------------------------------------------


def test_second_role_for_the_same_person_is_refused_naming_person_and_role(
    channel_manager: User, partner_a: Organisation
) -> None:
    anna = vendor_person("Anna Lee")
    services.assign_role(actor=channel_manager, organisation=partner_a, role=SD, holder=anna)
    with pytest.raises(ValidationError) as caught:
        services.assign_role(actor=channel_manager, organisation=partner_a, role=CM, holder=anna)
    message = caught.value.message_dict["holder"][0]
    assert "Anna Lee" in message
    assert "Service delivery management" in message
    assert "Alpha Distribution" in message
    assert "only one of the four roles" in message
    assert holders(partner_a) == {SD: anna.pk}


def test_the_same_person_may_hold_roles_in_two_relationships(
    channel_manager: User, partner_a: Organisation, partner_b: Organisation
) -> None:
    anna = vendor_person("Anna Lee")
    services.assign_role(actor=channel_manager, organisation=partner_a, role=SD, holder=anna)
    services.assign_role(actor=channel_manager, organisation=partner_b, role=CM, holder=anna)
    assert holders(partner_b) == {CM: anna.pk}


def test_two_cards_of_one_account_count_as_one_person(
    channel_manager: User, partner_a: Organisation, vendor: Organisation
) -> None:
    account = UserFactory(organisation=vendor, email="bo@vendor.test")
    first = vendor_person("Bo Chen", user=account)
    second = vendor_person("Bo Chen (old card)", user=account)
    services.assign_role(actor=channel_manager, organisation=partner_a, role=SD, holder=first)
    with pytest.raises(ValidationError):
        services.assign_role(actor=channel_manager, organisation=partner_a, role=TR, holder=second)


def test_database_refuses_a_direct_second_role(partner_a: Organisation) -> None:
    anna = vendor_person("Anna Lee")
    RoleAssignment.objects.create(organisation=partner_a, role=SD, holder=anna)
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(organisation=partner_a, role=CM, holder=anna)


def test_swap_of_two_holders_through_set_roles(
    channel_manager: User, partner_a: Organisation
) -> None:
    built = governed(partner_a)
    sd, rm = built["roles"][SD], built["roles"][RM]
    before_ids = dict(
        RoleAssignment.objects.filter(organisation=partner_a).values_list("role", "pk")
    )
    services.set_roles(
        actor=channel_manager, organisation=partner_a, holders={SD: rm, RM: sd}, now=NOW
    )
    assert holders(partner_a)[SD] == rm.pk
    assert holders(partner_a)[RM] == sd.pk
    after_ids = dict(
        RoleAssignment.objects.filter(organisation=partner_a).values_list("role", "pk")
    )
    assert after_ids == before_ids  # rows keep their ids
    entries = AuditEntry.objects.filter(action=AuditEntry.Action.ASSIGN, organisation=partner_a)
    assert {tuple(e.changes["holder"]) for e in entries} == {(sd.pk, rm.pk), (rm.pk, sd.pk)}


def test_set_roles_with_one_person_twice_names_both_roles(
    channel_manager: User, partner_a: Organisation
) -> None:
    anna = vendor_person("Anna Lee")
    with pytest.raises(ValidationError) as caught:
        services.set_roles(
            actor=channel_manager, organisation=partner_a, holders={TR: anna, CM: anna}
        )
    (field, messages), *_rest = caught.value.message_dict.items()
    assert field == CM
    assert "Anna Lee" in messages[0]
    assert "Transformation management" in messages[0]
    assert "Commercial management" in messages[0]
    assert not RoleAssignment.objects.exists()


def test_set_roles_refuses_a_holder_of_a_role_left_unchanged(
    channel_manager: User, partner_a: Organisation
) -> None:
    built = governed(partner_a)
    with pytest.raises(ValidationError) as caught:
        services.set_roles(
            actor=channel_manager,
            organisation=partner_a,
            holders={CM: built["roles"][SD]},
        )
    assert "Service delivery management" in caught.value.message_dict[CM][0]
    assert holders(partner_a)[CM] == built["roles"][CM].pk


def test_set_roles_all_four_and_clear(channel_manager: User, partner_a: Organisation) -> None:
    people = [vendor_person(f"Person {n}") for n in range(4)]
    result = services.set_roles(
        actor=channel_manager,
        organisation=partner_a,
        holders=dict(zip([SD, TR, RM, CM], people, strict=True)),
    )
    assert [a.role for a in result] == [SD, TR, RM, CM]
    assert Relationship.objects.filter(organisation=partner_a).exists()
    services.set_roles(actor=channel_manager, organisation=partner_a, holders={CM: None})
    assert set(holders(partner_a)) == {SD, TR, RM}
    assert AuditEntry.objects.filter(action=AuditEntry.Action.UNASSIGN).count() == 1


def test_assign_role_none_clears_and_unknown_role_is_a_field_error(
    channel_manager: User, partner_a: Organisation
) -> None:
    anna = vendor_person("Anna Lee")
    services.assign_role(actor=channel_manager, organisation=partner_a, role=SD, holder=anna)
    assert (
        services.assign_role(actor=channel_manager, organisation=partner_a, role=SD, holder=None)
        is None
    )
    assert not RoleAssignment.objects.exists()
    with pytest.raises(ValidationError) as caught:
        services.assign_role(
            actor=channel_manager, organisation=partner_a, role="boss", holder=anna
        )
    assert "role" in caught.value.message_dict


def test_holder_must_be_an_active_vendor_person(
    channel_manager: User, partner_a: Organisation
) -> None:
    outsider = partner_person(partner_a, "Pat Partner")
    with pytest.raises(ValidationError) as caught:
        services.assign_role(
            actor=channel_manager, organisation=partner_a, role=SD, holder=outsider
        )
    assert "Choose a person of Accord Vendor" in caught.value.message_dict["holder"][0]
    gone = vendor_person("Gone Person")
    gone.active = False
    gone.save()
    with pytest.raises(ValidationError) as caught:
        services.assign_role(actor=channel_manager, organisation=partner_a, role=SD, holder=gone)
    assert "has left" in caught.value.message_dict["holder"][0]
    with pytest.raises(ValidationError):
        services.assign_role(actor=channel_manager, organisation=partner_a, role=SD, holder=10**30)
    assert not RoleAssignment.objects.exists()


def test_partner_users_may_not_assign_roles(
    partner_a_user: User, partner_b_user: User, partner_a: Organisation
) -> None:
    anna = vendor_person("Anna Lee")
    with pytest.raises(PermissionDenied):
        services.assign_role(actor=partner_a_user, organisation=partner_a, role=SD, holder=anna)
    with pytest.raises(PermissionDenied):
        services.set_roles(actor=partner_a_user, organisation=partner_a, holders={SD: anna})
    with pytest.raises(Http404):  # another partner's relationship: invisible
        services.assign_role(actor=partner_b_user, organisation=partner_a, role=SD, holder=anna)
    assert not RoleAssignment.objects.exists()


def test_analyst_may_not_assign_roles(analyst: User, partner_a: Organisation) -> None:
    with pytest.raises(PermissionDenied):
        services.assign_role(
            actor=analyst, organisation=partner_a, role=SD, holder=vendor_person("Anna")
        )


def test_vendor_organisation_has_no_relationship(
    channel_manager: User, vendor: Organisation
) -> None:
    with pytest.raises(ValidationError) as caught:
        services.ensure_relationship(actor=channel_manager, organisation=vendor)
    assert "organisation" in caught.value.message_dict
    with pytest.raises(ValidationError):
        services.assign_role(
            actor=channel_manager, organisation=vendor, role=SD, holder=vendor_person("A")
        )


def test_territory_coordinator_may_name_vendor_colleagues(
    regional_coordinator: User, partner_a: Organisation, partner_b: Organisation
) -> None:
    anna = vendor_person("Anna Lee")
    services.assign_role(actor=regional_coordinator, organisation=partner_a, role=SD, holder=anna)
    assert holders(partner_a) == {SD: anna.pk}
    with pytest.raises(Http404):  # outside the coordinator's territory
        services.assign_role(
            actor=regional_coordinator, organisation=partner_b, role=SD, holder=anna
        )


def test_role_gaps(partner_a: Organisation) -> None:
    built = governed(partner_a)
    assert services.role_gaps(partner_a) == {"missing": [], "doubled": [], "inactive": []}
    RoleAssignment.objects.filter(organisation=partner_a, role=CM).delete()
    leaver = built["roles"][TR]
    leaver.active = False
    leaver.save()
    account = UserFactory(organisation=Organisation.objects.vendor())
    for role in (SD, RM):
        built["roles"][role].user = account
        built["roles"][role].save()
    assert services.role_gaps(partner_a) == {
        "missing": [CM],
        "doubled": [[SD, RM]],
        "inactive": [TR],
    }


# -- relationship record -----------------------------------------------------------------


def test_ensure_and_update_relationship(channel_manager: User, partner_a: Organisation) -> None:
    Relationship.objects.filter(organisation=partner_a).delete()  # as if made in bulk
    relationship = services.ensure_relationship(actor=channel_manager, organisation=partner_a)
    assert services.ensure_relationship(actor=channel_manager, organisation=partner_a) == (
        relationship
    )
    assert AuditEntry.objects.filter(action=AuditEntry.Action.CREATE).count() == 1
    updated = services.update_relationship(
        actor=channel_manager,
        relationship=relationship,
        data={"health_frequency": "quarterly", "started_on": dt.date(2024, 5, 1), "notes": "x"},
    )
    assert updated.health_frequency == "quarterly"
    with pytest.raises(ValidationError) as caught:
        services.update_relationship(
            actor=channel_manager, relationship=relationship, data={"health_frequency": "daily"}
        )
    assert "health_frequency" in caught.value.message_dict
    with pytest.raises(ValidationError):
        services.update_relationship(
            actor=channel_manager, relationship=relationship, data={"notes": "a\x00b"}
        )
    with pytest.raises(ValidationError):
        services.update_relationship(
            actor=channel_manager, relationship=relationship, data={"misaligned": True}
        )


def test_partner_opens_but_may_not_change_their_relationship(
    partner_a_user: User, partner_a: Organisation, partner_b: Organisation
) -> None:
    relationship = services.ensure_relationship(actor=partner_a_user, organisation=partner_a)
    with pytest.raises(PermissionDenied):
        services.update_relationship(
            actor=partner_a_user, relationship=relationship, data={"notes": "mine"}
        )
    with pytest.raises(Http404):
        services.ensure_relationship(actor=partner_a_user, organisation=partner_b)


# -- contact map ---------------------------------------------------------------------------


def test_set_slot_both_sides_and_partner_only_their_side(
    channel_manager: User, partner_a_user: User, partner_a: Organisation
) -> None:
    vic = vendor_person("Vic Vendor")
    pat = partner_person(partner_a, "Pat Partner")
    slot = services.set_slot(
        actor=channel_manager,
        organisation=partner_a,
        tier=Tier.OPERATIONAL,
        function=Function.SALES,
        vendor_contact=vic,
    )
    assert slot.vendor_contact == vic and slot.partner_contact is None
    slot = services.set_slot(
        actor=partner_a_user,
        organisation=partner_a,
        tier=Tier.OPERATIONAL,
        function=Function.SALES,
        partner_contact=pat.pk,
    )
    assert slot.partner_contact == pat and slot.vendor_contact == vic
    with pytest.raises(PermissionDenied):
        services.set_slot(
            actor=partner_a_user,
            organisation=partner_a,
            tier=Tier.OPERATIONAL,
            function=Function.SALES,
            vendor_contact=None,
        )
    with pytest.raises(PermissionDenied):  # a partner fills slots, the vendor lays them out
        services.set_slot(
            actor=partner_a_user,
            organisation=partner_a,
            tier=Tier.EXECUTIVE,
            function=Function.SALES,
            partner_contact=pat,
        )
    slot.refresh_from_db()
    assert slot.vendor_contact == vic
    assert ContactSlot.objects.count() == 1
    with pytest.raises(PermissionDenied):
        services.delete_slot(actor=partner_a_user, slot=slot)
    services.delete_slot(actor=channel_manager, slot=slot)
    assert not ContactSlot.objects.exists()


def test_wrong_side_contacts_are_field_errors(
    channel_manager: User,
    partner_a_user: User,
    partner_a: Organisation,
    partner_b: Organisation,
) -> None:
    vic = vendor_person("Vic Vendor")
    pat = partner_person(partner_a, "Pat Partner")
    bravo = partner_person(partner_b, "Bea Bravo")
    for kwargs, field in (
        ({"vendor_contact": pat}, "vendor_contact"),
        ({"partner_contact": vic}, "partner_contact"),
        ({"partner_contact": bravo}, "partner_contact"),
        ({"partner_contact": "nope"}, "partner_contact"),
    ):
        with pytest.raises(ValidationError) as caught:
            services.set_slot(
                actor=channel_manager, organisation=partner_a, tier=Tier.WORKING, **kwargs
            )
        assert list(caught.value.message_dict) == [field]
        assert "Choose a person of" in caught.value.message_dict[field][0]
    services.set_slot(
        actor=channel_manager, organisation=partner_a, tier=Tier.WORKING, vendor_contact=vic
    )
    with pytest.raises(ValidationError) as caught:  # invisible to the partner: same answer
        services.set_slot(
            actor=partner_a_user,
            organisation=partner_a,
            tier=Tier.WORKING,
            partner_contact=bravo.pk,
        )
    assert (
        "Choose a person of Alpha Distribution" in caught.value.message_dict["partner_contact"][0]
    )
    with pytest.raises(ValidationError) as caught:
        services.set_slot(actor=channel_manager, organisation=partner_a, tier="boardroom")
    assert "tier" in caught.value.message_dict


# -- key people ------------------------------------------------------------------------------


def test_key_people_with_backups(
    channel_manager: User, partner_a_user: User, partner_a: Organisation
) -> None:
    vic, val = vendor_person("Vic Vendor"), vendor_person("Val Vendor")
    pat, pia = partner_person(partner_a, "Pat Partner"), partner_person(partner_a, "Pia Partner")
    row = services.add_key_person(
        actor=channel_manager, organisation=partner_a, person=vic, backup=val, responsibility="AM"
    )
    assert row.backup == val
    with pytest.raises(ValidationError) as caught:  # backup on the other side
        services.add_key_person(
            actor=channel_manager, organisation=partner_a, person=pat, backup=vic
        )
    assert "backup" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        services.add_key_person(
            actor=channel_manager, organisation=partner_a, person=pat, backup=pat
        )
    assert "own backup" in caught.value.message_dict["backup"][0]
    with pytest.raises(ValidationError):  # twice
        services.add_key_person(actor=channel_manager, organisation=partner_a, person=vic)
    mine = services.add_key_person(
        actor=partner_a_user, organisation=partner_a, person=pat, backup=pia
    )
    with pytest.raises(ValidationError):  # a partner cannot name vendor staff
        services.add_key_person(actor=partner_a_user, organisation=partner_a, person=val)
    with pytest.raises(PermissionDenied):  # nor change the vendor's key people
        services.update_key_person(
            actor=partner_a_user, key_person=row, data={"responsibility": "x"}
        )
    services.update_key_person(actor=partner_a_user, key_person=mine, data={"backup": None})
    mine.refresh_from_db()
    assert mine.backup is None
    with pytest.raises(PermissionDenied):
        services.remove_key_person(actor=partner_a_user, key_person=mine)
    updated = services.update_key_person(
        actor=channel_manager, key_person=row, data={"person": val}
    )
    assert updated.person == val and updated.backup is None  # the backup became the person
    services.remove_key_person(actor=channel_manager, key_person=mine)
    assert list(KeyPerson.objects.values_list("person", flat=True)) == [val.pk]


# -- selectors -------------------------------------------------------------------------------


def test_list_filter_roles_incomplete_or_doubled_is_one_query(
    analyst: User, django_assert_num_queries
) -> None:
    complete = governed(OrganisationFactory(name="Complete Co"))
    incomplete = governed(OrganisationFactory(name="Incomplete Co"))
    RoleAssignment.objects.filter(
        organisation=incomplete["relationship"].organisation, role=CM
    ).delete()
    left = governed(OrganisationFactory(name="Left Co"))
    left["roles"][TR].active = False
    left["roles"][TR].save()
    doubled = governed(OrganisationFactory(name="Doubled Co"))
    account = UserFactory(organisation=Organisation.objects.vendor())
    for role in (SD, CM):
        doubled["roles"][role].user = account
        doubled["roles"][role].save()
    OrganisationFactory(name="Empty Co")  # its relationship record comes with it
    analyst.has_perm("governance.view_relationship")  # the permission cache, loaded once
    GovernanceSettings.current()
    # The settings row (the meeting grace days) and the one list query with every annotation.
    with django_assert_num_queries(2):
        found = [
            r.organisation.name
            for r in selectors.list_relationships(analyst, {"roles": "incomplete_or_doubled"})
        ]
    assert found == ["Doubled Co", "Empty Co", "Incomplete Co", "Left Co"]
    rows = {
        r.organisation.name: r for r in selectors.list_relationships(analyst, {"roles": "complete"})
    }
    assert list(rows) == ["Complete Co"]
    assert rows["Complete Co"].roles_filled == 4
    assert complete["relationship"].organisation.name == "Complete Co"
    annotated = {r.organisation.name: r for r in selectors.list_relationships(analyst, {})}
    assert annotated["Left Co"].roles_filled == 3
    assert annotated["Doubled Co"].roles_doubled is True
    assert annotated["Empty Co"].roles_filled == 0


def test_list_filters_and_bad_values(analyst: User, partner_a_user: User) -> None:
    alpha = Organisation.objects.get(name="Alpha Distribution")
    governed(alpha)
    other = governed(OrganisationFactory(name="Other Co", kind="retailer"))
    Relationship.objects.filter(pk=other["relationship"].pk).update(
        misaligned=True, health_score=40
    )
    names = lambda f, u=analyst: [r.organisation.name for r in selectors.list_relationships(u, f)]  # noqa: E731
    assert names({"q": "alpha"}) == ["Alpha Distribution"]
    assert names({"kind": "retailer"}) == ["Other Co"]
    assert names({"misaligned": "true"}) == ["Other Co"]
    assert names({"misaligned": False}) == ["Alpha Distribution"]
    assert names({"health_below": "50"}) == ["Other Co"]
    assert names({"overdue": "false"}) == ["Alpha Distribution", "Other Co"]
    assert names({}, partner_a_user) == ["Alpha Distribution"]
    for bad in (
        {"roles": "some"},
        {"health_below": "abc"},
        {"health_below": "NaN"},
        {"misaligned": "maybe"},
        {"kind": "vendor"},
    ):
        with pytest.raises(ValidationError) as caught:
            selectors.list_relationships(analyst, bad)
        assert set(caught.value.message_dict) == set(bad)


def test_get_relationship_visibility(
    analyst: User, partner_a_user: User, partner_a: Organisation, partner_b: Organisation
) -> None:
    Relationship.objects.all().delete()  # as if the organisations were made in bulk
    unsaved = selectors.get_relationship(partner_a_user, partner_a.pk)
    assert unsaved.pk is None and unsaved.organisation == partner_a
    assert not Relationship.objects.exists()
    governed(partner_a)
    assert selectors.get_relationship(partner_a_user, partner_a.pk).pk is not None
    for bad in (partner_b.pk, "x", 2**70, Organisation.objects.vendor().pk):
        with pytest.raises(Http404):
            selectors.get_relationship(partner_a_user, bad)
    with pytest.raises(Http404):
        selectors.get_relationship(analyst, Organisation.objects.vendor().pk)


def test_contact_map_grid(analyst: User, partner_a: Organisation) -> None:
    built = governed(partner_a)
    ContactSlot.objects.create(organisation=partner_a, tier=Tier.WORKING, function=Function.SALES)
    grid = selectors.contact_map(analyst, partner_a)
    assert [code for code, _label in grid["tiers"]] == ["working", "operational", "executive"]
    assert [code for code, _label in grid["functions"]] == ["general", "sales"]
    assert grid["grid"]["executive"]["general"] == built["slots"]["executive"]
    assert grid["grid"]["executive"]["sales"] is None
    assert grid["grid"]["working"]["sales"].vendor_contact is None
    assert len(grid["slots"]) == 4


def test_selectable_people(partner_a_user: User, analyst: User, partner_a: Organisation) -> None:
    vic = vendor_person("Vic Vendor")
    pat = partner_person(partner_a, "Pat Partner")
    assert list(selectors.selectable_people(analyst, partner_a, "vendor")) == [vic]
    assert list(selectors.selectable_people(analyst, partner_a, "partner")) == [pat]
    assert list(selectors.selectable_people(partner_a_user, partner_a, "vendor")) == []
    assert list(selectors.selectable_people(partner_a_user, partner_a, "partner")) == [pat]


def test_overdue_and_open_issue_counts(analyst: User, partner_a: Organisation) -> None:
    import datetime as dt

    from accord.governance.models import ActionItem, Issue, Meeting

    governed(partner_a, now=NOW)
    calm = governed(OrganisationFactory(name="Calm Co"), now=NOW)
    owner = calm["vendor"][0]
    now = NOW
    Meeting.objects.create(
        organisation=partner_a,
        title="QBR",
        tier=Tier.OPERATIONAL,
        starts_at=now - dt.timedelta(days=8),  # past the 7 grace days
    )
    Meeting.objects.create(
        organisation=calm["relationship"].organisation,
        title="QBR",
        tier=Tier.OPERATIONAL,
        starts_at=now - dt.timedelta(days=6),  # still within grace
    )
    ActionItem.objects.create(
        organisation=calm["relationship"].organisation,
        title="Done late",
        owner=owner,
        due_on=now.date() - dt.timedelta(days=3),
        status=ActionItem.Status.DONE,
    )
    for status in ("open", "responded", "resolved"):
        Issue.objects.create(
            organisation=partner_a,
            title="x",
            category="other",
            severity="low",
            raised_side="vendor",
            status=status,
        )
    rows = {r.organisation.name: r for r in selectors.list_relationships(analyst, {}, now=now)}
    assert (
        rows["Alpha Distribution"].overdue_meetings,
        rows["Alpha Distribution"].open_issues,
    ) == (1, 2)
    assert (rows["Calm Co"].overdue_meetings, rows["Calm Co"].overdue_actions) == (0, 0)
    overdue = selectors.list_relationships(analyst, {"overdue": "true"}, now=now)
    assert [r.organisation.name for r in overdue] == ["Alpha Distribution"]
    ActionItem.objects.create(
        organisation=calm["relationship"].organisation,
        title="Late",
        owner=owner,
        due_on=now.date() - dt.timedelta(days=1),
    )
    overdue = selectors.list_relationships(analyst, {"overdue": True}, now=now)
    assert [r.organisation.name for r in overdue] == ["Alpha Distribution", "Calm Co"]


def test_every_partner_organisation_has_a_relationship_record(vendor, partner_a) -> None:
    from accord.governance.services import run_timers
    from accord.governance.services.structure import ensure_all_relationships

    assert Relationship.objects.filter(organisation=partner_a).exists()
    assert not Relationship.objects.filter(organisation=vendor).exists()
    # Organisations made in bulk skip post_save: the sweep gives them their record.
    made = Organisation.objects.bulk_create(
        [Organisation(name=f"Bulk {n}", kind="reseller") for n in range(3)]
    )
    assert ensure_all_relationships([made[0].pk]) == 1
    assert run_timers(now=NOW)["relationships"] == 2
    assert ensure_all_relationships() == 0
    assert Relationship.objects.filter(organisation__in=made).count() == 3
