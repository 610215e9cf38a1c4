"""The lead workflow: creation and its validation, acceptance within the SLA (per tier),
decline with a reason and re-routing, recall of overdue offers with a controlled clock,
assignment by hand, closing, notifications, the recall timer and the audit trail."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django_tasks_db.models import DBTaskResult

from accord.accounts.models import User
from accord.core.errors import Conflict, InvalidTransition, PermissionDenied, ValidationError
from accord.core.models import AuditEntry, Notification
from accord.leads import selectors, services
from accord.leads.models import Lead, RoutingEvent
from accord.partners.models import Organisation, Territory
from tests.factories import UserFactory
from tests.leads.builders import HOUR, NOW, hold, new_lead, partner, route, tier_program

pytestmark = pytest.mark.django_db


def audit(lead: Lead) -> list[AuditEntry]:
    return list(AuditEntry.objects.for_object(lead).order_by("at", "pk"))


# -- creation ----------------------------------------------------------------------------


def test_create_lead_stores_numbers_and_audits(channel_manager: User, east: Territory) -> None:
    lead = services.create_lead(
        actor=channel_manager,
        data={
            "company_name": "  Acme Corp. ",
            "contact_email": "buyer@acme.test",
            "country": "cn",
            "territory": east.pk,
            "value": "12500.50",
            "currency": "eur",
            "external_key": "",
        },
        route=False,
        now=NOW,
    )
    assert lead.number == f"L-{lead.pk:06d}"
    assert (lead.company_name, lead.country, lead.currency) == ("Acme Corp.", "CN", "EUR")
    assert lead.value == Decimal("12500.50") and lead.external_key is None
    assert lead.status == Lead.Status.NEW and lead.created_by == channel_manager
    assert lead.created_at == NOW and lead.source == Lead.Source.UI
    (entry,) = audit(lead)
    assert entry.action == "create" and entry.actor == channel_manager
    assert entry.changes["company_name"] == [None, "Acme Corp."]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"company_name": ""}, "company_name"),
        ({"company_name": "X", "country": "China"}, "country"),
        ({"company_name": "X", "value": "-1"}, "value"),
        ({"company_name": "X", "value": "lots"}, "value"),
        ({"company_name": "X", "value": 1.5}, "value"),
        ({"company_name": "X", "currency": "euro"}, "currency"),
        ({"company_name": "X", "territory": 999999}, "territory"),
        ({"company_name": "X", "territory": "east"}, "territory"),
        ({"company_name": "X", "contact_email": "not an address"}, "contact_email"),
        ({"company_name": "X", "colour": "red"}, "colour"),
        ({"company_name": ["X"]}, "company_name"),
        ({"company_name": "X\x00"}, "company_name"),
    ],
)
def test_create_lead_refuses_bad_data_with_field_errors(
    channel_manager: User, data: dict, field: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        services.create_lead(actor=channel_manager, data=data, route=False)
    assert field in raised.value.message_dict
    assert not Lead.objects.exists()


def test_external_keys_are_unique(channel_manager: User) -> None:
    new_lead(external_key="crm-1")
    with pytest.raises(ValidationError) as raised:
        new_lead(external_key="crm-1")
    assert "external_key" in raised.value.message_dict
    assert Lead.objects.count() == 1


def test_only_staff_who_may_add_leads_create_them(partner_a_user: User, analyst: User) -> None:
    for user in (partner_a_user, analyst):
        with pytest.raises(PermissionDenied):
            services.create_lead(actor=user, data={"company_name": "X"})
    assert not Lead.objects.exists()


def test_create_lead_routes_at_once(channel_manager: User, partner_a: Organisation) -> None:
    lead = services.create_lead(actor=channel_manager, data={"company_name": "X"}, now=NOW)
    assert lead.status == Lead.Status.OFFERED and lead.assigned_to == partner_a
    assert [e.kind for e in lead.events.all()] == ["offered"]
    assert [e.action for e in audit(lead)] == ["create", "transition"]
    assert audit(lead)[1].changes["status"] == ["new", "offered"]


# -- accept / decline ------------------------------------------------------------------


@pytest.fixture
def offered(partner_a: Organisation, partner_b: Organisation) -> Lead:
    """A lead offered to partner A (the only candidate it sees: B is suspended meanwhile)."""
    Organisation.objects.filter(pk=partner_b.pk).update(status="suspended")
    lead = route(new_lead())
    Organisation.objects.filter(pk=partner_b.pk).update(status="active")
    assert lead.assigned_to == partner_a
    return lead


def test_accept_before_the_deadline(offered: Lead, partner_a_user: User) -> None:
    assert offered.accept_by == NOW + 48 * HOUR
    lead = services.accept_lead(actor=partner_a_user, lead=offered, now=offered.accept_by)
    assert lead.status == Lead.Status.ACCEPTED and lead.accepted_at == offered.accept_by
    event = lead.events.get(kind="accepted")
    assert event.organisation_id == offered.assigned_to_id and event.actor == partner_a_user
    assert audit(lead)[-1].changes["status"] == ["offered", "accepted"]


def test_accept_after_the_deadline_is_refused(offered: Lead, partner_a_user: User) -> None:
    late = offered.accept_by + dt.timedelta(seconds=1)
    with pytest.raises(Conflict) as raised:
        services.accept_lead(actor=partner_a_user, lead=offered, now=late)
    assert "time to accept this lead ended" in raised.value.messages[0]
    offered.refresh_from_db()
    assert offered.status == Lead.Status.OFFERED and offered.accepted_at is None
    assert not offered.events.filter(kind="accepted").exists()


def test_accept_twice_is_an_invalid_transition(offered: Lead, partner_a_user: User) -> None:
    lead = services.accept_lead(actor=partner_a_user, lead=offered, now=NOW)
    with pytest.raises(InvalidTransition):
        services.accept_lead(actor=partner_a_user, lead=lead, now=NOW)


def test_decline_needs_a_reason_and_reroutes_to_someone_else(
    offered: Lead, partner_a_user: User, partner_b: Organisation
) -> None:
    with pytest.raises(ValidationError) as raised:
        services.decline_lead(actor=partner_a_user, lead=offered, reason="  ", now=NOW)
    assert "reason" in raised.value.message_dict
    offered.refresh_from_db()
    assert offered.status == Lead.Status.OFFERED and offered.events.count() == 1

    later = NOW + 2 * HOUR
    lead = services.decline_lead(
        actor=partner_a_user, lead=offered, reason="No capacity this month", now=later
    )
    assert lead.status == Lead.Status.OFFERED and lead.assigned_to == partner_b
    assert lead.offers == 2 and lead.accept_by == later + 48 * HOUR
    kinds = [(e.kind, e.organisation_id) for e in lead.events.all()]
    assert kinds == [
        ("offered", offered.assigned_to_id),
        ("declined", offered.assigned_to_id),
        ("offered", partner_b.pk),
    ]
    assert lead.events.get(kind="declined").reason == "No capacity this month"
    assert offered.assigned_to_id not in [int(k) for k in lead.events.last().trace["weights"]]
    entry = audit(lead)[-1]
    assert entry.reason.startswith("Declined: No capacity this month")
    assert entry.changes["assigned_to"] == [offered.assigned_to_id, partner_b.pk]
    # A no longer sees the lead; B finds it in its inbox.
    assert not selectors.leads(partner_a_user).filter(pk=lead.pk).exists()


def test_per_tier_sla(vendor: Organisation) -> None:
    program = tier_program()
    gold, plain = partner(), partner()
    hold(gold, program, "gold")
    services.update_settings(
        actor=None, data={"acceptance_hours": 24, "tier_acceptance_hours": {"gold": 4}}
    )
    suspended = Organisation.objects.filter(pk=plain.pk)
    suspended.update(status="suspended")
    lead = route(new_lead())
    assert lead.assigned_to == gold and lead.accept_by == NOW + 4 * HOUR
    assert lead.events.get().trace["sla_hours"] == 4 and lead.events.get().trace["tier"] == "gold"
    suspended.update(status="active")
    lead = services.decline_lead(actor=None, lead=lead, reason="no", now=NOW)
    assert lead.assigned_to == plain and lead.accept_by == NOW + 24 * HOUR


# -- recall --------------------------------------------------------------------------------


def test_recall_overdue_with_a_controlled_clock(
    offered: Lead, partner_b: Organisation, partner_a_user: User
) -> None:
    assert services.recall_overdue(NOW + 47 * HOUR) == []
    assert services.recall_overdue(offered.accept_by - dt.timedelta(seconds=1)) == []
    at = offered.accept_by
    (lead,) = services.recall_overdue(at)
    assert lead.pk == offered.pk and lead.assigned_to == partner_b
    assert lead.status == Lead.Status.OFFERED and lead.accept_by == at + 48 * HOUR
    recalled = lead.events.get(kind="recalled")
    assert recalled.organisation_id == offered.assigned_to_id and recalled.at == at
    assert "Not accepted by" in recalled.reason
    assert not selectors.leads(partner_a_user).filter(pk=lead.pk).exists()
    # Nothing more to recall now; B's offer lapses too and nobody is left: manual review.
    assert services.recall_overdue(at) == []
    (lead,) = services.recall_overdue(lead.accept_by)
    assert lead.status == Lead.Status.MANUAL and lead.assigned_to is None
    assert [e.kind for e in lead.events.all()] == [
        "offered",
        "recalled",
        "offered",
        "recalled",
        "manual",
    ]


def test_recall_leaves_accepted_and_reoffered_leads_alone(
    offered: Lead, partner_a_user: User
) -> None:
    services.accept_lead(actor=partner_a_user, lead=offered, now=NOW)
    assert services.recall_lead(lead_id=offered.pk, now=NOW + 100 * HOUR) is None
    assert services.recall_overdue(NOW + 100 * HOUR) == []
    assert services.recall_lead(lead_id=999999, now=NOW) is None
    offered.refresh_from_db()
    assert offered.status == Lead.Status.ACCEPTED


def test_the_offer_enqueues_the_recall_timer_on_commit(
    partner_a: Organisation, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        lead = route(new_lead())
    assert not DBTaskResult.objects.exists()  # nothing before the commit
    for callback in callbacks:
        callback()
    task = DBTaskResult.objects.get(task_path="accord.leads.tasks.recall_lead")
    assert task.run_after == lead.accept_by
    assert task.args_kwargs["args"] == [lead.pk]


# -- assign by hand, close ----------------------------------------------------------------


def test_assign_by_hand(
    channel_manager: User, partner_b: Organisation, partner_a: Organisation, vendor
) -> None:
    lead = services.create_lead(
        actor=channel_manager, data={"company_name": "X"}, route=False, now=NOW
    )
    with pytest.raises(ValidationError) as raised:
        services.assign_lead(actor=channel_manager, lead=lead, organisation=partner_b, reason="")
    assert "reason" in raised.value.message_dict
    with pytest.raises(ValidationError) as raised:
        services.assign_lead(actor=channel_manager, lead=lead, organisation=vendor, reason="x")
    assert "organisation" in raised.value.message_dict
    lead = services.assign_lead(
        actor=channel_manager,
        lead=lead,
        organisation=partner_b,
        reason="Knows the customer",
        now=NOW,
    )
    assert lead.status == Lead.Status.OFFERED and lead.assigned_to == partner_b
    assert lead.accept_by == NOW + 48 * HOUR
    event = lead.events.get()
    assert (event.kind, event.reason, event.actor) == (
        "assigned",
        "Knows the customer",
        channel_manager,
    )
    assert selectors.explain(event)[0] == "Assigned by hand to Bravo Resellers: Knows the customer"
    assert audit(lead)[-1].reason == "Knows the customer"


def test_only_routers_assign(
    partner_a_user: User, analyst: User, partner_b: Organisation, partner_a: Organisation
) -> None:
    lead = route(new_lead())
    assert lead.assigned_to in (partner_a, partner_b)
    for user in (analyst,):
        with pytest.raises(PermissionDenied):
            services.assign_lead(actor=user, lead=lead, organisation=partner_b, reason="x")
    lead.refresh_from_db()
    assert lead.events.count() == 1


def test_close_won_and_lost(offered: Lead, partner_a_user: User, channel_manager: User) -> None:
    with pytest.raises(InvalidTransition):
        services.close_lead(actor=partner_a_user, lead=offered, outcome="won", now=NOW)
    lead = services.accept_lead(actor=partner_a_user, lead=offered, now=NOW)
    with pytest.raises(ValidationError):
        services.close_lead(actor=partner_a_user, lead=lead, outcome="maybe")
    lead = services.close_lead(
        actor=partner_a_user, lead=lead, outcome="won", reason="PO signed", now=NOW + HOUR
    )
    assert lead.status == Lead.Status.WON and lead.closed_at == NOW + HOUR
    assert lead.events.last().kind == "won" and lead.events.last().reason == "PO signed"
    other = route(new_lead())
    other = services.accept_lead(actor=None, lead=other, now=NOW)
    other = services.close_lead(actor=channel_manager, lead=other, outcome="lost", now=NOW)
    assert other.status == Lead.Status.LOST


# -- notifications -------------------------------------------------------------------------


def test_an_offer_notifies_the_partners_responders(
    partner_a: Organisation, partner_a_user: User, partner_a_viewer: User
) -> None:
    sales = UserFactory(organisation=partner_a, roles=["partner_sales"], language="zh-hans")
    UserFactory(organisation=partner_a, roles=["partner_sales"], is_active=False)
    lead = route(new_lead(company_name="Acme"))
    notes = Notification.objects.filter(organisation=partner_a)
    assert {n.recipient_id for n in notes} == {partner_a_user.pk, sales.pk}
    note = notes.get(recipient=partner_a_user)
    assert note.subject == "New lead offered: Acme" and note.link == f"/leads/{lead.pk}/"
    assert lead.number in note.body


def test_manual_review_notifies_the_creator_and_channel_managers(
    channel_manager: User, vendor_admin: User, vendor: Organisation
) -> None:
    creator = UserFactory(organisation=vendor, roles=["partner_account_manager"])
    lead = services.create_lead(actor=creator, data={"company_name": "Nobody"}, now=NOW)
    assert lead.status == Lead.Status.MANUAL  # no partner at all
    recipients = set(Notification.objects.values_list("recipient_id", flat=True))
    assert recipients == {creator.pk, channel_manager.pk}
    note = Notification.objects.get(recipient=channel_manager)
    assert note.subject == "Lead needs manual routing: Nobody"
    assert "No partner is left" in note.body


def test_events_of_a_lead_are_its_routing_history(offered: Lead, channel_manager: User) -> None:
    events = selectors.events(channel_manager, offered)
    assert [e.kind for e in events] == [RoutingEvent.Kind.OFFERED]


@pytest.mark.parametrize("reason", ["bad\x00", ["list"]])
def test_reasons_with_nul_characters_or_not_text_are_field_errors(
    offered: Lead, partner_a_user: User, reason: object
) -> None:
    with pytest.raises(ValidationError) as raised:
        services.decline_lead(actor=partner_a_user, lead=offered, reason=reason, now=NOW)
    assert list(raised.value.message_dict) == ["reason"]
    lead = services.accept_lead(actor=partner_a_user, lead=offered, now=NOW)
    with pytest.raises(ValidationError) as raised:
        services.close_lead(actor=partner_a_user, lead=lead, outcome="won", reason=reason)
    assert list(raised.value.message_dict) == ["reason"]
    assert Lead.objects.get(pk=lead.pk).status == Lead.Status.ACCEPTED
