"""Leads from a file: ``accord import leads FILE`` creates each new lead through the leads
service (numbered, audited, routed at once), updates a known key's details without routing
it again, changes nothing the second time, and rejects a bad file with a row-level report,
writing nothing."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult

from accord.accounts.models import User
from accord.core.models import AuditEntry, Notification
from accord.imports.models import ImportChange
from accord.imports.services import ImportRefused, ImportResult, rollback_import, run_import
from accord.leads.models import Lead, RoutingEvent
from accord.partners.models import Organisation, Territory

pytestmark = pytest.mark.django_db

CSV = (
    "external_key,company_name,contact_email,country,city,territory,product_line,value,currency\n"
    "crm-1,Acme Corp.,buyer@acme.test,CN,Shanghai,cn-east,Bikes,12000.50,CNY\n"
    "crm-2,华为技术有限公司,,CN,Hangzhou,cn-east,Helmets,800,CNY\n"
    "crm-3,Globex GmbH,,DE,Berlin,,Bikes,0,EUR\n"
)


def load(actor: Any, data: str, mapping: str | None = None, **options: Any) -> ImportResult:
    return run_import(
        actor=actor,
        kind="leads",
        source=io.BytesIO(data.encode()),
        file_name="leads.csv",
        mapping=mapping,
        **options,
    )


def test_import_creates_routes_and_audits_each_lead(
    channel_manager: User,
    partner_a: Organisation,
    partner_b: Organisation,
    partner_a_user: User,
    django_capture_on_commit_callbacks,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        result = load(channel_manager, CSV)
    assert result.status == "applied", result.issues
    assert (result.created, result.updated, result.rows_rejected) == (3, 0, 0)
    leads = {lead.external_key: lead for lead in Lead.objects.all()}
    assert set(leads) == {"crm-1", "crm-2", "crm-3"}
    acme = leads["crm-1"]
    assert acme.source == Lead.Source.IMPORT and acme.number == f"L-{acme.pk:06d}"
    assert acme.created_by == channel_manager
    assert acme.value == 12000.50 and acme.currency == "CNY" and acme.product_line == "Bikes"
    assert leads["crm-2"].company_name == "华为技术有限公司"
    assert all(lead.status == Lead.Status.OFFERED for lead in leads.values())
    # No routing rules: every active partner is a candidate; each offer has its trace.
    for lead in leads.values():
        event = lead.events.get()
        assert event.kind == "offered" and event.trace["chosen"] == lead.assigned_to_id
    entries = AuditEntry.objects.filter(content_type__model="lead", action="create")
    assert entries.count() == 3 and {e.actor for e in entries} == {channel_manager}
    assert ImportChange.objects.filter(model="leads.lead", action="create").count() == 3
    timers = DBTaskResult.objects.filter(task_path="accord.leads.tasks.recall_lead")
    assert sorted(t.args_kwargs["args"][0] for t in timers) == sorted(x.pk for x in leads.values())
    offered_to_a = [lead for lead in leads.values() if lead.assigned_to == partner_a]
    assert Notification.objects.filter(recipient=partner_a_user).count() == len(offered_to_a)

    # The same file again changes nothing: no new lead, no new offer.
    again = load(channel_manager, CSV)
    assert again.status == "applied"
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert Lead.objects.count() == 3 and RoutingEvent.objects.count() == 3


def test_a_known_key_updates_the_details_without_routing_again(
    channel_manager: User, partner_a: Organisation
) -> None:
    load(channel_manager, CSV)
    lead = Lead.objects.get(external_key="crm-1")
    changed = CSV.replace("buyer@acme.test", "cto@acme.test")
    result = load(channel_manager, changed)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 2)
    fresh = Lead.objects.get(pk=lead.pk)
    assert fresh.contact_email == "cto@acme.test"
    assert (fresh.status, fresh.assigned_to_id, fresh.offers) == (
        lead.status,
        lead.assigned_to_id,
        1,
    )
    change = ImportChange.objects.get(action="update")
    assert change.before == {"contact_email": "buyer@acme.test"}


def test_a_bad_file_is_rejected_row_by_row_and_writes_nothing(
    channel_manager: User, partner_a: Organisation, east: Territory
) -> None:
    bad = (
        "external_key,company_name,country,territory,value,currency\n"
        "crm-1,Acme,China,cn-east,10,CNY\n"
        "crm-2,,CN,cn-east,10,CNY\n"
        "crm-3,Globex,DE,nowhere,10,EUR\n"
        "crm-4,Initech,US,,-5,USD\n"
        "crm-5,Umbrella,US,,lots,USD\n"
        "crm-6,Hooli,US,,10,dollars\n"
    )
    result = load(channel_manager, bad)
    assert result.status == "rejected"
    report = {(issue.row, issue.column) for issue in result.issues}
    assert report == {
        (2, "country"),
        (3, "company_name"),
        (4, "territory"),
        (5, "value"),
        (6, "value"),
        (7, "currency"),
    }
    reasons = {issue.row: issue.reason for issue in result.issues}
    assert "Unknown territory key" in reasons[4]
    assert reasons[2] == "Longer than 2 characters."
    assert not Lead.objects.exists() and not RoutingEvent.objects.exists()
    assert not Notification.objects.exists()


def test_a_dry_run_routes_nothing(channel_manager: User, partner_a: Organisation) -> None:
    result = load(channel_manager, CSV, dry_run=True)
    assert result.status == "dry_run" and result.created == 3
    assert not Lead.objects.exists() and not RoutingEvent.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_a_mapping_names_the_columns(channel_manager: User, partner_a: Organisation) -> None:
    mapping = """
kind = "leads"
[fields]
external_key = "Lead ID"
company_name = "Company"
value = "Estimate"
[constants]
currency = "EUR"
"""
    result = load(channel_manager, "Lead ID,Company,Estimate\nX-1,Acme,1.000,50\n", mapping)
    assert result.status == "applied", result.issues
    lead = Lead.objects.get()
    assert (lead.external_key, lead.currency, lead.assigned_to) == ("X-1", "EUR", partner_a)


def test_who_may_import_leads(partner_a_user: User, analyst: User) -> None:
    for user in (partner_a_user, analyst):
        with pytest.raises(ImportRefused) as raised:
            load(user, CSV)
        assert raised.value.code == "forbidden"
    assert not Lead.objects.exists()


def test_a_routed_import_cannot_be_rolled_back(
    channel_manager: User, vendor_admin: User, partner_a: Organisation
) -> None:
    """Its leads were offered to partners (notified, timers running): the rollback is
    refused rather than silently taking the offers back."""
    result = load(channel_manager, CSV)
    with pytest.raises(ImportRefused) as raised:
        rollback_import(actor=vendor_admin, batch=result.batch)
    assert raised.value.code == "conflict"
    assert Lead.objects.count() == 3
