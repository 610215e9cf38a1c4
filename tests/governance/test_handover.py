"""Handover: everything a person holds moves to their successor in one audited step (roles,
slots, key people as person and backup, open issues, action items, onboarding tasks, planned
meetings, open deal registrations), nothing is left with a leaver, and a clash moves nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from accord.accounts.models import User
from accord.core.errors import PermissionDenied, ValidationError
from accord.core.models import AuditEntry
from accord.deals.models import Registration
from accord.governance.models import (
    ActionItem,
    ContactSlot,
    Handover,
    Issue,
    IssueEvent,
    KeyPerson,
    Meeting,
    OnboardingPlan,
    OnboardingTask,
    RoleAssignment,
    Tier,
)
from accord.governance.selectors import continuity as selectors
from accord.governance.services import continuity as services
from accord.partners.models import Contact, Organisation
from tests.deals.builders import register
from tests.factories import UserFactory
from tests.governance.builders import NOW, TODAY, governed, partner_person, vendor_person

pytestmark = pytest.mark.django_db

RM = RoleAssignment.Role.RELATIONSHIP
CM = RoleAssignment.Role.COMMERCIAL
SD = RoleAssignment.Role.SERVICE_DELIVERY


def issue(organisation: Organisation, owner: Contact, status: str = "open") -> Issue:
    return Issue.objects.create(
        organisation=organisation,
        title="Late deliveries",
        category=Issue.Category.DELIVERY,
        severity=Issue.Severity.HIGH,
        raised_side="partner",
        owner=owner,
        status=status,
    )


def action(organisation: Organisation, owner: Contact, status: str = "open") -> ActionItem:
    return ActionItem.objects.create(
        organisation=organisation,
        title="Send the forecast",
        owner=owner,
        due_on=TODAY + dt.timedelta(days=7),
        status=status,
    )


def meeting(organisation: Organisation, people: list[Contact], status: str = "planned") -> Meeting:
    row = Meeting.objects.create(
        organisation=organisation,
        title="Operations review",
        tier=Tier.OPERATIONAL,
        starts_at=NOW + dt.timedelta(days=3),
        status=status,
    )
    row.attendees.set(people)
    return row


def task(organisation: Organisation, owner: Contact, done: bool = False) -> OnboardingTask:
    plan, _created = OnboardingPlan.objects.get_or_create(organisation=organisation, name="Start")
    return OnboardingTask.objects.create(
        plan=plan,
        title="Meet the peer",
        side="vendor" if owner.organisation.is_vendor else "partner",
        owner=owner,
        due_on=TODAY,
        done_at=NOW if done else None,
    )


@pytest.fixture
def network(partner_a: Organisation, partner_b: Organisation) -> dict[str, Any]:
    alpha = governed(partner_a, now=NOW)
    bravo = governed(partner_b, now=NOW)
    rhea = alpha["roles"][RM]
    # Rhea also holds Bravo's commercial role, backs up Bravo's account lead and sits in
    # Bravo's working-level slot.
    RoleAssignment.objects.filter(organisation=partner_b, role=CM).update(holder=rhea)
    bravo_lead = KeyPerson.objects.get(organisation=partner_b, person=bravo["roles"][RM])
    bravo_lead.backup = rhea
    bravo_lead.save()
    ContactSlot.objects.filter(organisation=partner_b, tier=Tier.WORKING).update(
        vendor_contact=rhea
    )
    return {"alpha": alpha, "bravo": bravo, "rhea": rhea}


def test_handover_moves_every_kind_of_item_and_leaves_no_orphans(
    channel_manager: User, network: dict[str, Any], partner_a: Organisation
) -> None:
    rhea = network["rhea"]
    sam = vendor_person("Sam Successor")
    open_issue = issue(partner_a, rhea)
    resolved = issue(partner_a, rhea, status="resolved")
    open_action, done_action = action(partner_a, rhea), action(partner_a, rhea, status="done")
    open_task, done_task = task(partner_a, rhea), task(partner_a, rhea, done=True)
    planned = meeting(partner_a, [rhea, network["alpha"]["partner"][0]])
    held = meeting(partner_a, [rhea], status="held")
    orphans_before = services.orphans(rhea)
    assert set(orphans_before) == {
        "roles",
        "slots",
        "key_people",
        "backups",
        "issues",
        "action_items",
        "onboarding_tasks",
        "meetings",
    }

    row = services.handover(
        actor=channel_manager, predecessor=rhea, successor=sam, reason="Moved to Berlin", now=NOW
    )

    assert services.orphans(rhea) == {}
    rhea.refresh_from_db()
    assert rhea.active is False
    assert row.organisation == Organisation.objects.vendor()
    assert set(row.moved["roles"]) == set(orphans_before["roles"])
    assert len(row.moved["roles"]) == 2
    assert RoleAssignment.objects.get(organisation=partner_a, role=RM).holder == sam
    assert RoleAssignment.objects.filter(holder=sam).count() == 2
    assert ContactSlot.objects.filter(vendor_contact=sam).count() == 2
    assert KeyPerson.objects.filter(person=sam).count() == 1
    assert KeyPerson.objects.filter(backup=sam).count() == 1
    open_issue.refresh_from_db()
    resolved.refresh_from_db()
    assert open_issue.owner == sam and resolved.owner == rhea
    assert IssueEvent.objects.get(issue=open_issue).kind == IssueEvent.Kind.ASSIGNED
    open_action.refresh_from_db()
    done_action.refresh_from_db()
    assert open_action.owner == sam and done_action.owner == rhea
    open_task.refresh_from_db()
    done_task.refresh_from_db()
    assert open_task.owner == sam and done_task.owner == rhea
    assert set(planned.attendees.all()) == {sam, network["alpha"]["partner"][0]}
    assert list(held.attendees.all()) == [rhea]
    planned.refresh_from_db()
    assert planned.sequence == 1
    assert row.moved["meetings"] == [planned.pk]
    # one audited step: an ASSIGN entry per moved row, each naming the handover
    entries = AuditEntry.objects.filter(reason=f"handover {row.pk}")
    assigned = entries.filter(action=AuditEntry.Action.ASSIGN)
    assert assigned.count() == sum(len(ids) for ids in row.moved.values())
    role_entry = assigned.filter(content_type__model="roleassignment").first()
    assert role_entry.changes == {"holder": [rhea.pk, sam.pk]}
    assert entries.filter(action=AuditEntry.Action.UPDATE, changes={"active": [True, False]})
    assert AuditEntry.objects.filter(
        action=AuditEntry.Action.CREATE, content_type__model="handover", object_id=str(row.pk)
    ).exists()


def test_successor_clash_moves_nothing(
    channel_manager: User, network: dict[str, Any], partner_a: Organisation
) -> None:
    rhea = network["rhea"]
    dana = network["alpha"]["roles"][SD]  # already service delivery for Alpha
    open_issue = issue(partner_a, rhea)
    audit_before = AuditEntry.objects.count()
    with pytest.raises(ValidationError) as caught:
        services.handover(actor=channel_manager, predecessor=rhea, successor=dana, now=NOW)
    messages = caught.value.message_dict["successor"]
    assert any(
        dana.full_name in m and "Service delivery management" in m and "Alpha" in m
        for m in messages
    )
    rhea.refresh_from_db()
    assert rhea.active is True
    assert RoleAssignment.objects.filter(holder=rhea).count() == 2
    open_issue.refresh_from_db()
    assert open_issue.owner == rhea
    assert not Handover.objects.exists()
    assert AuditEntry.objects.count() == audit_before


def test_successor_must_be_an_active_colleague(
    channel_manager: User, network: dict[str, Any], partner_a: Organisation
) -> None:
    rhea = network["rhea"]
    pat = partner_person(partner_a, "Pat Partner")
    gone = vendor_person("Gone")
    gone.active = False
    gone.save()
    for successor, text in (
        (pat, "Choose a person of Accord Vendor"),
        (gone, "has left"),
        (rhea, "other than"),
    ):
        with pytest.raises(ValidationError) as caught:
            services.handover(actor=channel_manager, predecessor=rhea, successor=successor)
        assert text in caught.value.message_dict["successor"][0]
    with pytest.raises(ValidationError) as caught:
        services.handover(actor=channel_manager, predecessor="x", successor=pat)
    assert "predecessor" in caught.value.message_dict
    assert not Handover.objects.exists()


def test_partner_users_may_not_run_handovers(partner_a_user: User, partner_a: Organisation) -> None:
    pat, pia = partner_person(partner_a, "Pat"), partner_person(partner_a, "Pia")
    with pytest.raises(PermissionDenied):
        services.handover(actor=partner_a_user, predecessor=pat, successor=pia)


def test_partner_side_handover_moves_deal_registrations(
    channel_manager: User, partner_a: Organisation, partner_a_user: User
) -> None:
    built = governed(partner_a, now=NOW)
    leaver = built["partner"][0]
    leaver.user = partner_a_user
    leaver.save()
    successor_user = UserFactory(
        organisation=partner_a, email="new@alpha.test", roles=["partner_admin"]
    )
    successor = partner_person(partner_a, "Nina New", user=successor_user)
    open_registration = register(partner_a_user)
    closed = register(partner_a_user, customer_name="Other Buyer Inc.", customer_country="DE")
    Registration.objects.filter(pk=closed.pk).update(status=Registration.Status.WITHDRAWN)
    assert services.orphans(leaver)["registrations"] == [open_registration.pk]

    row = services.handover(actor=channel_manager, predecessor=leaver, successor=successor, now=NOW)
    assert row.organisation == partner_a
    assert row.moved["registrations"] == [open_registration.pk]
    assert row.moved["slots"] == [built["slots"][Tier.WORKING].pk]
    open_registration.refresh_from_db()
    assert open_registration.registered_by == successor_user
    assert Registration.objects.get(pk=closed.pk).registered_by == partner_a_user
    assert services.orphans(leaver) == {}
    entry = AuditEntry.objects.get(
        content_type__model="registration",
        object_id=str(open_registration.pk),
        reason=f"handover {row.pk}",
    )
    assert entry.changes == {"registered_by": [partner_a_user.pk, successor_user.pk]}


def test_registrations_need_a_successor_with_an_account(
    channel_manager: User, partner_a: Organisation, partner_a_user: User
) -> None:
    leaver = partner_person(partner_a, "Lee Leaver", user=partner_a_user)
    successor = partner_person(partner_a, "No Account")
    register(partner_a_user)
    with pytest.raises(ValidationError) as caught:
        services.handover(actor=channel_manager, predecessor=leaver, successor=successor)
    assert "no portal account" in caught.value.message_dict["successor"][0]
    leaver.refresh_from_db()
    assert leaver.active
    # A change of role (not leaving) moves what it can and leaves the registrations.
    row = services.handover(
        actor=channel_manager, predecessor=leaver, successor=successor, leaving=False
    )
    assert row.moved["registrations"] == []
    leaver.refresh_from_db()
    assert leaver.active


def test_key_person_successor_who_was_the_backup(
    channel_manager: User, partner_a: Organisation
) -> None:
    built = governed(partner_a, now=NOW)
    executive, operations = built["partner"][2], built["partner"][1]
    row = KeyPerson.objects.get(person=executive)
    assert row.backup == operations
    services.handover(actor=channel_manager, predecessor=executive, successor=operations)
    row.refresh_from_db()
    assert row.person == operations and row.backup is None


def test_key_person_successor_already_key_person_merges(
    channel_manager: User, partner_a: Organisation
) -> None:
    built = governed(partner_a, now=NOW)
    executive, working = built["partner"][2], built["partner"][0]
    KeyPerson.objects.create(organisation=partner_a, person=working)
    services.handover(actor=channel_manager, predecessor=executive, successor=working)
    rows = list(KeyPerson.objects.filter(organisation=partner_a, person=working))
    assert len(rows) == 1 and rows[0].backup == built["partner"][1]
    assert not KeyPerson.objects.filter(person=executive).exists()


def test_coordinator_cannot_hand_over_beyond_their_territory(
    regional_coordinator: User, network: dict[str, Any]
) -> None:
    rhea = network["rhea"]  # holds roles at Alpha (in territory) and Bravo (outside it)
    with pytest.raises(ValidationError) as caught:
        services.handover(
            actor=regional_coordinator, predecessor=rhea, successor=vendor_person("Sam")
        )
    assert "outside your view" in caught.value.message_dict["predecessor"][0]
    assert RoleAssignment.objects.filter(holder=rhea).count() == 2


def test_handover_notifies_the_successor_and_lists(
    channel_manager: User, network: dict[str, Any], vendor: Organisation
) -> None:
    account = UserFactory(organisation=vendor, email="sam@vendor.test")
    sam = vendor_person("Sam Successor", user=account)
    row = services.handover(actor=channel_manager, predecessor=network["rhea"], successor=sam)
    assert account.notifications.filter(subject__contains="Rhea Relationship").exists()
    assert list(selectors.list_handovers(channel_manager)) == [row]
    assert selectors.get_handover(channel_manager, row.pk) == row
    assert list(selectors.list_handovers(channel_manager, {"person": sam.pk})) == [row]
    with pytest.raises(ValidationError):
        selectors.list_handovers(channel_manager, {"organisation": "abc"})


@pytest.mark.django_db(transaction=True)
def test_handover_is_one_durable_transaction() -> None:
    """Outside a test transaction: a refused handover commits nothing, a good one all."""
    from accord.accounts.models import Role
    from accord.accounts.roles import sync_builtin_roles

    sync_builtin_roles(Role)
    manager = UserFactory(
        organisation=Organisation.objects.vendor(),
        email="cm@vendor.test",
        roles=["channel_manager"],
    )
    manager = User.objects.get(pk=manager.pk)
    partner = Organisation.objects.create(name="Tx Partner", kind="reseller", status="active")
    built = governed(partner, now=NOW)
    rhea, dana = built["roles"][RM], built["roles"][SD]
    open_issue = issue(partner, rhea)
    with pytest.raises(ValidationError):
        services.handover(actor=manager, predecessor=rhea, successor=dana, now=NOW)
    assert not Handover.objects.exists()
    assert Issue.objects.get(pk=open_issue.pk).owner_id == rhea.pk
    sam = vendor_person("Sam Successor")
    row = services.handover(actor=manager, predecessor=rhea, successor=sam, now=NOW)
    assert Handover.objects.get().pk == row.pk
    assert Issue.objects.get(pk=open_issue.pk).owner_id == sam.pk
    assert services.orphans(Contact.objects.get(pk=rhea.pk)) == {}


def test_a_new_card_of_the_same_account_keeps_the_registrations(
    channel_manager: User, partner_a: Organisation, partner_a_user: User
) -> None:
    old = partner_person(partner_a, "Lee (old card)", user=partner_a_user)
    new = partner_person(partner_a, "Lee Leaver", user=partner_a_user)
    registration = register(partner_a_user)
    row = services.handover(actor=channel_manager, predecessor=old, successor=new)
    assert row.moved["registrations"] == []
    assert services.orphans(old) == {}
    assert Registration.objects.get(pk=registration.pk).registered_by == partner_a_user
