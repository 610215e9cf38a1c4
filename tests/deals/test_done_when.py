"""Issue 5's "done when", in the demo network: registering "Acme Corporation Ltd" while "ACME
Corp." holds an approved registration for the same product line shows the conflict with its
reasons and a second approval is refused; the same for 华为技术 against 华为技术有限公司; a new
lead routes to a partner with a trace and, past its SLA, is recalled and re-routed — by
recall_overdue with a controlled clock, and by `accord worker` on the real task backend."""

from __future__ import annotations

import datetime as dt
import signal
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from accord.accounts.models import User
from accord.core import errors
from accord.deals import selectors as deal_selectors
from accord.deals import services as deals
from accord.deals.models import Registration, RegistrationLine
from accord.demo import deals as demo_deals
from accord.demo.network import load_demo_network
from accord.leads import selectors as lead_selectors
from accord.leads import services as leads
from accord.leads.models import Lead, RoutingEvent
from accord.leads.tasks import PATH as SWEEP
from accord.partners.models import Territory

TODAY = dt.date(2026, 3, 15)
NOW = dt.datetime(2026, 3, 15, 9, tzinfo=dt.UTC)  # the morning after the demo's history
SIZE = 60


def load() -> Any:
    return load_demo_network(
        SIZE, 7, method="bulk", today=TODAY, channel=True, programs=True, deals=True
    )


@pytest.fixture
def demo(db: None) -> Any:
    return load()


def user(email: str) -> User:
    return User.objects.select_related("organisation").get(email=email)


def registration_data(name: str, line: str, country: str, city: str) -> dict[str, Any]:
    return {
        "customer_name": name,
        "customer_country": country,
        "customer_city": city,
        "product_lines": [line],
        "value": "250000",
        "currency": "EUR" if country == "DE" else "CNY",
        "expected_close": TODAY + dt.timedelta(days=90),
    }


def check_conflict_blocks_a_second_approval(
    holder_name: str, new_name: str, key: str, line: str, registrant: User, country: str, city: str
) -> None:
    held = Registration.objects.get(customer_name=holder_name, status="approved")
    assert held.organisation_id != registrant.organisation_id
    data = registration_data(new_name, line, country, city)

    # The live panel finds it before anything is written, redacted for the partner.
    (similar,) = [
        c
        for c in deals.check_similar(actor=registrant, data=data, now=NOW)
        if c["kind"] == "registration"
    ]
    assert similar["hidden"] and similar["other"] is None and similar["blocking"]

    registration = deals.submit_registration(actor=registrant, data=data, now=NOW)
    assert registration.status == "submitted"  # never auto-approved over a conflict
    assert registration.organisation_id == registrant.organisation_id
    conflict = registration.conflicts.get(kind="registration")
    assert conflict.other_id == held.pk and conflict.blocking and conflict.score >= 85
    reasons = {reason["code"]: reason for reason in conflict.reasons}
    assert reasons["name"]["name_key"] == key and reasons["name"]["other_name_key"] == key
    assert reasons["products"]["product_lines"] == [line]

    # The partner learns only that a conflicting registration exists ...
    (seen,) = [
        c for c in deal_selectors.conflicts(registrant, registration) if c["kind"] == "registration"
    ]
    assert seen["hidden"] and seen["other"] is None
    assert {r["code"] for r in seen["reasons"]} >= {"name", "products"}
    # ... the channel manager sees both side by side, with the reasons.
    manager = user("channel@accord.demo")
    (shown,) = [
        c for c in deal_selectors.conflicts(manager, registration) if c["kind"] == "registration"
    ]
    assert not shown["hidden"]
    assert shown["other"]["customer_name"] == holder_name
    assert shown["other"]["organisation"] == held.organisation.name
    assert all(reason["label"] for reason in shown["reasons"])

    # A second approval is refused and changes nothing.
    with pytest.raises(errors.Conflict):
        deals.approve(actor=manager, registration=registration, now=NOW)
    registration.refresh_from_db()
    assert registration.status == "submitted"
    protected = RegistrationLine.objects.filter(
        end_customer=held.end_customer, product_line=line, protected=True
    )
    assert [row.registration_id for row in protected] == [held.pk]


def test_acme_corporation_ltd_conflicts_with_the_approved_acme_corp(demo) -> None:
    check_conflict_blocks_a_second_approval(
        demo_deals.ACME,
        "Acme Corporation Ltd",
        "acme",
        demo_deals.ACME_LINE,
        user("sales@huanan.demo"),
        "DE",
        "München",
    )


def test_huawei_conflicts_with_the_approved_huawei_technologies(demo) -> None:
    check_conflict_blocks_a_second_approval(
        demo_deals.HUAWEI,
        "华为技术",
        "华为技术",
        demo_deals.HUAWEI_LINE,
        user("sales@atlas.demo"),
        "CN",
        "深圳市",
    )


def test_a_new_lead_routes_with_a_trace_and_is_recalled_after_its_sla(demo) -> None:
    manager = user("channel@accord.demo")
    shenzhen = Territory.objects.get(code="cn-gd-shenzhen")
    data = {
        "company_name": "深圳新锐科技有限公司",
        "country": "CN",
        "city": "深圳市",
        "territory": shenzhen.pk,
        "product_line": "Computing",
        "value": "80000",
        "currency": "CNY",
    }
    lead = leads.create_lead(actor=manager, data=data, now=NOW)
    assert lead.status == "offered" and lead.assigned_to is not None
    first = lead.assigned_to_id
    offer = lead.events.get(kind="offered")
    assert offer.organisation_id == first
    assert [step["kind"] for step in offer.trace["steps"]] == [
        "territory",
        "partner_kind",
        "capacity",
        "performance",
        "random",
    ]
    assert str(first) in offer.trace["weights"]
    assert lead_selectors.explain(offer)  # the steps in words

    # Not yet due: nothing happens. Past its SLA: recalled and offered to someone else.
    assert lead not in leads.recall_overdue(now=lead.accept_by - dt.timedelta(minutes=1))
    later = lead.accept_by + dt.timedelta(minutes=1)
    assert lead.pk in [recalled.pk for recalled in leads.recall_overdue(now=later)]
    lead.refresh_from_db()
    recall = lead.events.get(kind="recalled")
    assert recall.organisation_id == first and recall.at == later
    assert lead.status == "offered" and lead.assigned_to_id not in (None, first)
    assert lead.accept_by > later
    second = lead.events.filter(kind="offered").latest("at")
    assert second.organisation_id == lead.assigned_to_id and second.trace["steps"]


# --- the worker path ------------------------------------------------------------------------
@pytest.fixture
def signals() -> Iterator[None]:
    """db_worker installs its own SIGINT/SIGTERM handlers; give pytest its own back."""
    saved = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)


@pytest.fixture
def builtin_metrics(transactional_db: None, settings: Any) -> None:
    """A transactional test before this one flushed the migration-seeded metrics (the demo
    program's criteria need them); only the leads sweep is started by the worker."""
    import importlib

    from django.apps import apps

    importlib.import_module("accord.metrics.migrations.0002_builtin_metrics").seed(apps, None)
    settings.ACCORD_PERIODIC_TASKS = [SWEEP]


@pytest.mark.django_db(transaction=True)
def test_accord_worker_recalls_and_reroutes_the_overdue_offers(
    builtin_metrics: None, signals: None
) -> None:
    load()
    demo_leads = Lead.objects.filter(external_key__startswith=demo_deals.LEAD_KEY_PREFIX)
    overdue = {
        lead.pk: lead.assigned_to_id
        for lead in demo_leads.filter(status="offered", accept_by__lt=timezone.now())
    }
    assert len(overdue) >= dict(demo_deals.LEAD_PLAN)["overdue"]

    out = StringIO()
    call_command("worker", "--batch", "--no-startup-delay", stdout=out, stderr=out)

    moved = 0
    for lead in Lead.objects.filter(pk__in=overdue):
        recall = lead.events.filter(kind=RoutingEvent.Kind.RECALLED).latest("at")
        assert recall.organisation_id == overdue[lead.pk], lead
        assert lead.status in ("offered", "manual"), lead
        if lead.status == "offered":
            assert lead.assigned_to_id != overdue[lead.pk]
            assert lead.accept_by > timezone.now()
            moved += 1
    assert moved >= len(overdue) // 2
