"""The demo network's deal registrations and leads: every status in its planned number, real
conflicts of every kind, overdue approvals and offers, the done-when holders reachable by their
logins; and a second run that changes nothing."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Max

from accord.accounts.models import User
from accord.core.models import AuditEntry
from accord.deals.models import Conflict, EndCustomer, EngagementRules, Registration
from accord.demo import deals as demo_deals
from accord.demo.network import load_demo_network
from accord.leads.models import Lead, LeadSettings, RoutingEvent, RoutingRule

TODAY = dt.date(2026, 3, 15)
ANCHOR = dt.datetime(2026, 3, 15, tzinfo=dt.UTC)
SIZE = 120
MODELS = (Registration, Conflict, EndCustomer, EngagementRules, Lead, RoutingEvent, RoutingRule)


@pytest.fixture
def demo(db: None):
    return load_demo_network(
        SIZE, 7, method="bulk", today=TODAY, channel=True, programs=True, deals=True
    )


def fingerprint() -> dict[str, tuple[int, int | None]]:
    return {
        model.__name__: (model.objects.count(), model.objects.aggregate(top=Max("pk"))["top"])
        for model in (*MODELS, AuditEntry)
    }


def check_registrations(summary: demo_deals.DealsSummary) -> None:
    assert summary.refusals == []
    statuses = Counter(Registration.objects.values_list("status", flat=True))
    assert statuses == dict(demo_deals.STATUS_PLAN)
    assert summary.registrations == dict(demo_deals.STATUS_PLAN)

    # Every submitted one waits with a due date; some are past it (the queue shows them).
    submitted = Registration.objects.filter(status="submitted")
    assert not submitted.filter(approval_due__isnull=True).exists()
    overdue = submitted.filter(approval_due__lt=ANCHOR).count()
    assert 0 < overdue < submitted.count()
    assert summary.overdue_approvals == overdue

    # Protection windows per tier, read from the program's tiers; extensions asked and granted.
    rules = EngagementRules.current()
    assert rules.tier_program.code == "partner-program" and rules.auto_approve
    assert rules.tier_protection_days == {
        "registered": 60,
        "silver": 90,
        "gold": 120,
        "platinum": 180,
    }
    approved = Registration.objects.filter(status="approved")
    for registration in approved.filter(extended=False):
        window = (registration.protected_until - registration.decided_at.date()).days
        assert window in (60, 90, 120, 180), registration
        assert registration.protected_until > TODAY
    assert approved.filter(extended=True).count() == 2
    assert approved.filter(extension_requested_at__isnull=False).count() == 4
    expired = Registration.objects.filter(status="expired")
    assert not expired.filter(protected_until__gte=TODAY).exists()

    # Real conflicts of every kind and reason, open and decided.
    conflicts = Conflict.objects.all()
    assert summary.conflicts == conflicts.count() >= 10
    assert set(conflicts.values_list("kind", flat=True)) == {
        "registration",
        "named_account",
        "territory",
    }
    codes = {code for conflict in conflicts for code in conflict.reason_codes()}
    assert codes >= {"name", "tax_id", "domain", "products", "named_account", "territory"}
    assert set(conflicts.values_list("resolution", flat=True)) == {"open", "upheld", "dismissed"}
    assert conflicts.filter(resolution="open", registration__status="submitted").exists()

    named = EndCustomer.objects.filter(named_account=True)
    assert named.count() == summary.named_accounts == 4
    assert {c.account_owner.email for c in named} == {demo_deals.NAMED_ACCOUNT_OWNER}


def check_done_when_holders() -> None:
    """ACME Corp. at Atlas and 华为技术有限公司 at 华南电子分销, approved and protected, each
    holder with a partner-sales login that sees its own registration and not the other."""
    acme = Registration.objects.get(customer_name=demo_deals.ACME)
    huawei = Registration.objects.get(customer_name=demo_deals.HUAWEI)
    assert acme.organisation.external_key == demo_deals.ACME_HOLDER
    assert huawei.organisation.external_key == demo_deals.HUAWEI_HOLDER
    for registration, line in ((acme, "Computing"), (huawei, "Infrastructure")):
        assert registration.status == "approved" and registration.protected_until > TODAY
        assert registration.product_lines() == [line]
        assert registration.lines.get().protected
    atlas = User.objects.get(email="sales@atlas.demo")
    huanan = User.objects.get(email="sales@huanan.demo")
    assert atlas.organisation_id == acme.organisation_id
    assert huanan.organisation_id == huawei.organisation_id
    assert set(Registration.objects.restrict(atlas)) >= {acme}
    assert huawei not in Registration.objects.restrict(atlas)
    assert acme not in Registration.objects.restrict(huanan)


def check_leads(summary: demo_deals.DealsSummary) -> None:
    plan = dict(demo_deals.LEAD_PLAN)
    expected = {
        "offered": plan["offered"] + plan["overdue"],
        # Declined and recalled leads were re-routed, and the next partner accepted.
        "accepted": plan["accepted"] + plan["declined"] + plan["recalled"],
        "manual": plan["manual"],
        "won": plan["won"],
        "lost": plan["lost"],
    }
    leads = Lead.objects.filter(external_key__startswith=demo_deals.LEAD_KEY_PREFIX)
    assert Counter(leads.values_list("status", flat=True)) == expected
    assert summary.leads == expected

    # Offers past their SLA wait for the worker; the others are still within it.
    offered = leads.filter(status="offered")
    assert offered.filter(accept_by__lt=ANCHOR).count() == plan["overdue"]
    assert offered.filter(accept_by__gt=ANCHOR).count() == plan["offered"]
    assert summary.overdue_offers == plan["overdue"]

    events = RoutingEvent.objects.filter(lead__in=leads)
    kinds = Counter(events.values_list("kind", flat=True))
    assert kinds["declined"] == plan["declined"]
    assert kinds["recalled"] == plan["recalled"]
    assert kinds["manual"] >= plan["manual"]
    assert kinds["won"] == plan["won"] and kinds["lost"] == plan["lost"]
    for event in events.filter(kind="offered"):
        assert event.trace["steps"] and event.trace["weights"], event.trace
    # A declined or recalled lead went to someone else.
    for lead in leads.filter(events__kind__in=["declined", "recalled"]).distinct():
        offers = list(lead.events.filter(kind="offered").values_list("organisation", flat=True))
        assert len(offers) == len(set(offers)) >= 2

    settings = LeadSettings.current()
    assert settings.tier_program.code == "partner-program"
    assert settings.tier_acceptance_hours == {"platinum": 24, "gold": 36}
    assert list(RoutingRule.objects.values_list("kind", "required")) == [
        ("territory", True),
        ("partner_kind", False),
        ("capacity", True),
        ("performance", False),
        ("random", False),
    ]


def test_demo_deals_and_leads(demo) -> None:
    """One load, every property checked on it."""
    check_registrations(demo.deals)
    check_done_when_holders()
    check_leads(demo.deals)
    line = demo_deals.describe(demo.deals)
    assert line.startswith("Deals and leads in ") and "150 registrations" in line


def test_the_plans_are_deterministic(demo) -> None:
    net = demo_deals._network(TODAY)
    assert net is not None
    first = demo_deals.plan_registrations(net, ANCHOR, 7)
    assert first == demo_deals.plan_registrations(net, ANCHOR, 7)
    assert first != demo_deals.plan_registrations(net, ANCHOR, 8)
    assert demo_deals.plan_leads(net, ANCHOR, 7) == demo_deals.plan_leads(net, ANCHOR, 7)
    # The replay submitted exactly the planned registrations.
    planned = Counter((p.organisation, p.data["customer_name"]) for p in first)
    stored = Counter(Registration.objects.values_list("organisation_id", "customer_name"))
    assert planned == stored


def test_rerunning_changes_nothing(demo) -> None:
    before = fingerprint()
    again = load_demo_network(
        SIZE, 7, method="bulk", today=TODAY, channel=True, programs=True, deals=True
    )
    assert again.deals.total() == 0
    assert not again.created_anything()
    assert fingerprint() == before


def test_accord_demo_prints_the_deals_line(db: None) -> None:
    out = StringIO()
    call_command("demo", "--organisations", "40", "--no-serve", "--method", "bulk", stdout=out)
    line = next(row for row in out.getvalue().splitlines() if row.startswith("Deals and leads"))
    assert "registrations" in line and "leads" in line and "for `accord worker`" in line
    assert "sales@atlas.demo" in out.getvalue()
    out = StringIO()
    call_command("demo", "--organisations", "40", "--no-serve", stdout=out)
    assert "Deals and leads" not in out.getvalue() and "nothing changed" in out.getvalue()
