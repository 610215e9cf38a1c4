"""Admin for leads: registered, read-only, rows (and the routing history inline) through
restrict()."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import RequestFactory

from accord.accounts.models import User
from accord.leads import services
from accord.leads.models import Lead, LeadSettings, RoutingEvent, RoutingRule
from accord.partners.models import Organisation
from tests.leads.builders import NOW, new_lead

pytestmark = pytest.mark.django_db


def request_for(user: User):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


@pytest.mark.parametrize(
    "model", (Lead, RoutingEvent, RoutingRule, LeadSettings), ids=lambda m: m.__name__
)
def test_registered_and_read_only(model: type, vendor_admin: User) -> None:
    model_admin = admin.site._registry[model]
    request = request_for(vendor_admin)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_admin_rows_go_through_restrict(
    partner_a: Organisation, partner_b: Organisation, partner_b_user: User, analyst: User
) -> None:
    mine = services.assign_lead(
        actor=None, lead=new_lead(), organisation=partner_b, reason="x", now=NOW
    )
    services.assign_lead(actor=None, lead=new_lead(), organisation=partner_a, reason="x", now=NOW)
    leads = admin.site._registry[Lead].get_queryset(request_for(partner_b_user))
    assert list(leads) == [mine]
    assert admin.site._registry[Lead].get_queryset(request_for(analyst)).count() == 2
    events = admin.site._registry[RoutingEvent].get_queryset(request_for(partner_b_user))
    assert {e.organisation_id for e in events} == {partner_b.pk}
