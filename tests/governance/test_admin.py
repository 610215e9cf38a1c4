"""Admin for governance: registered, read-only, rows (and the issue history) through restrict()."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import RequestFactory

from accord.accounts.models import User
from accord.governance.models import (
    ActionItem,
    Handover,
    HealthSurvey,
    Issue,
    IssueEvent,
    Meeting,
    Relationship,
    RoleAssignment,
)
from accord.partners.models import Organisation

pytestmark = pytest.mark.django_db


def request_for(user: User):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


@pytest.mark.parametrize(
    "model",
    (Relationship, RoleAssignment, Issue, Meeting, ActionItem, HealthSurvey, Handover),
    ids=lambda m: m.__name__,
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
    Issue.objects.create(
        organisation=partner_a, title="A", category="other", severity="low", raised_side="vendor"
    )
    theirs = Issue.objects.create(
        organisation=partner_b, title="B", category="other", severity="low", raised_side="partner"
    )
    IssueEvent.objects.create(issue=theirs, kind=IssueEvent.Kind.RAISED)
    issues = admin.site._registry[Issue]
    assert list(issues.get_queryset(request_for(partner_b_user))) == [theirs]
    assert issues.get_queryset(request_for(analyst)).count() == 2
    inline = issues.inlines[0](Issue, admin.site)
    assert {e.issue_id for e in inline.get_queryset(request_for(partner_b_user))} == {theirs.pk}


def test_the_admin_pages_render(login, vendor_admin: User, partner_a: Organisation) -> None:
    vendor_admin.is_staff = True
    vendor_admin.save()
    issue = Issue.objects.create(
        organisation=partner_a,
        title="Late deliveries",
        category="delivery",
        severity="high",
        raised_side="vendor",
    )
    client = login(vendor_admin)
    assert client.get("/admin/governance/issue/").status_code == 200
    page = client.get(f"/admin/governance/issue/{issue.pk}/change/")
    assert page.status_code == 200
    assert b"Late deliveries" in page.content
