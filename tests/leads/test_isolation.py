"""Who sees and acts on which lead: a partner only on the leads offered or assigned to its own
organisation (others are a 404 and nothing changes), only the routing events about itself;
staff by role."""

from __future__ import annotations

import pytest

from accord.accounts.models import User
from accord.core.errors import Http404, PermissionDenied
from accord.leads import selectors, services
from accord.leads.models import Lead, RoutingEvent, RoutingRule
from accord.partners.models import Organisation
from tests.leads.builders import NOW, new_lead, route, rule

pytestmark = pytest.mark.django_db


@pytest.fixture
def a_lead(partner_a: Organisation, partner_b: Organisation) -> Lead:
    """A lead declined by B and now offered to A: both have events on it."""
    services.save_rules(actor=None, rules=[rule("partner_kind", required=True, kinds=["reseller"])])
    lead = route(new_lead())
    assert lead.assigned_to == partner_b  # the only reseller
    services.save_rules(actor=None, rules=[])
    lead = services.decline_lead(actor=None, lead=lead, reason="Out of area", now=NOW)
    assert lead.assigned_to == partner_a
    return lead


def unchanged(lead: Lead) -> None:
    fresh = Lead.objects.get(pk=lead.pk)
    assert (fresh.status, fresh.assigned_to_id, fresh.offers) == (
        lead.status,
        lead.assigned_to_id,
        lead.offers,
    )
    assert fresh.events.count() == lead.events.count()


def test_another_partner_neither_sees_nor_acts(a_lead: Lead, partner_b_user: User) -> None:
    assert not selectors.leads(partner_b_user).filter(pk=a_lead.pk).exists()
    assert not selectors.inbox(partner_b_user).exists()
    with pytest.raises(Http404):
        selectors.get_lead(partner_b_user, a_lead.pk)
    for act in (
        lambda: services.accept_lead(actor=partner_b_user, lead=a_lead, now=NOW),
        lambda: services.decline_lead(actor=partner_b_user, lead=a_lead, reason="x", now=NOW),
        lambda: services.close_lead(actor=partner_b_user, lead=a_lead, outcome="won", now=NOW),
    ):
        with pytest.raises(Http404):
            act()
    unchanged(a_lead)


def test_the_partner_sees_its_lead_and_only_its_own_events(
    a_lead: Lead, partner_a_user: User, partner_a: Organisation
) -> None:
    assert selectors.get_lead(partner_a_user, a_lead.pk) == a_lead
    assert list(selectors.inbox(partner_a_user)) == [a_lead]
    events = list(selectors.events(partner_a_user, a_lead))
    assert [(e.kind, e.organisation_id) for e in events] == [("offered", partner_a.pk)]
    # B's decline (and its reason) is not A's to read.
    assert RoutingEvent.objects.filter(lead=a_lead, kind="declined").exists()


def test_a_viewer_sees_but_may_not_respond(a_lead: Lead, partner_a_viewer: User) -> None:
    assert selectors.get_lead(partner_a_viewer, a_lead.pk) == a_lead
    with pytest.raises(PermissionDenied):
        services.accept_lead(actor=partner_a_viewer, lead=a_lead, now=NOW)
    with pytest.raises(PermissionDenied):
        services.decline_lead(actor=partner_a_viewer, lead=a_lead, reason="x", now=NOW)
    unchanged(a_lead)


def test_a_parent_organisation_sees_but_does_not_answer_for_its_child(
    partner_a_child: Organisation, partner_a_user: User, partner_b: Organisation
) -> None:
    lead = services.assign_lead(
        actor=None, lead=new_lead(), organisation=partner_a_child, reason="local", now=NOW
    )
    assert selectors.get_lead(partner_a_user, lead.pk) == lead  # parent sees its child's rows
    assert not selectors.inbox(partner_a_user).exists()  # but it is not its own offer
    with pytest.raises(PermissionDenied):
        services.accept_lead(actor=partner_a_user, lead=lead, now=NOW)
    unchanged(lead)


def test_staff_see_every_lead_and_every_event(a_lead: Lead, analyst: User) -> None:
    assert selectors.get_lead(analyst, a_lead.pk) == a_lead
    assert [e.kind for e in selectors.events(analyst, a_lead)] == ["offered", "declined", "offered"]
    assert not selectors.inbox(analyst).exists()
    with pytest.raises(PermissionDenied):  # staff who may not route
        services.route_lead(actor=analyst, lead=new_lead())


def test_partners_never_route_nor_manage_rules(
    a_lead: Lead, partner_a_user: User, partner_a: Organisation
) -> None:
    with pytest.raises(PermissionDenied):
        services.assign_lead(actor=partner_a_user, lead=a_lead, organisation=partner_a, reason="x")
    with pytest.raises(PermissionDenied):
        services.save_rules(actor=partner_a_user, rules=[rule("random")])
    with pytest.raises(PermissionDenied):
        services.update_settings(actor=partner_a_user, data={"max_offers": 9})
    assert not selectors.rules(partner_a_user).exists()
    with pytest.raises(Http404):
        selectors.lead_settings(partner_a_user)
    unchanged(a_lead)
    assert not RoutingRule.objects.exists()


def test_a_recalled_partner_loses_sight_of_the_lead(a_lead: Lead, partner_a_user: User) -> None:
    services.recall_overdue(a_lead.accept_by)  # nobody left: manual review
    assert not selectors.leads(partner_a_user).filter(pk=a_lead.pk).exists()
    with pytest.raises(Http404):
        services.accept_lead(actor=partner_a_user, lead=a_lead, now=a_lead.accept_by)


def test_a_regional_coordinator_sees_the_leads_of_their_territories(
    a_lead: Lead, regional_coordinator: User, partner_b: Organisation
) -> None:
    # partner_a holds the coordinator's territory (east); B holds none.
    assert selectors.get_lead(regional_coordinator, a_lead.pk) == a_lead
    elsewhere = services.assign_lead(
        actor=None, lead=new_lead(), organisation=partner_b, reason="x", now=NOW
    )
    with pytest.raises(Http404):
        selectors.get_lead(regional_coordinator, elsewhere.pk)
