"""Admin for deals: registered, read-only, rows (and the inlines) through restrict()."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import RequestFactory

from accord.accounts.models import User
from accord.deals.models import (
    Conflict,
    EndCustomer,
    EngagementRules,
    Registration,
    RegistrationLine,
)
from tests.deals.builders import NOW, register

pytestmark = pytest.mark.django_db


def request_for(user: User):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


@pytest.mark.parametrize(
    "model", (Registration, Conflict, EndCustomer, EngagementRules), ids=lambda m: m.__name__
)
def test_registered_and_read_only(model: type, vendor_admin: User) -> None:
    model_admin = admin.site._registry[model]
    request = request_for(vendor_admin)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_admin_rows_go_through_restrict(partner_a_user, partner_b_user, analyst) -> None:
    register(partner_a_user)
    theirs = register(partner_b_user, customer_name="Acme Corp", now=NOW)
    registrations = admin.site._registry[Registration]
    assert list(registrations.get_queryset(request_for(partner_b_user))) == [theirs]
    assert registrations.get_queryset(request_for(analyst)).count() == 2
    conflicts = admin.site._registry[Conflict].get_queryset(request_for(partner_b_user))
    assert {c.registration_id for c in conflicts} == {theirs.pk}
    lines = next(i for i in registrations.inlines if i.model is RegistrationLine)
    inline = lines(Registration, admin.site)
    assert {line.registration_id for line in inline.get_queryset(request_for(partner_b_user))} == {
        theirs.pk
    }
    customers = admin.site._registry[EndCustomer].get_queryset(request_for(partner_b_user))
    assert not customers.exists()


def test_the_admin_pages_render(login, vendor_admin) -> None:
    vendor_admin.is_staff = True
    vendor_admin.save()
    registration = register(vendor_admin)
    client = login(vendor_admin)
    for url in (
        "/admin/deals/registration/",
        f"/admin/deals/registration/{registration.pk}/change/",
        "/admin/deals/conflict/",
        "/admin/deals/endcustomer/",
        "/admin/deals/engagementrules/",
    ):
        assert client.get(url).status_code == 200, url
