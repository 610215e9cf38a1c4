"""Submitting registrations (input checks, whose organisation, numbers, end customers), the
rules of engagement and named accounts, and the selectors that read them back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from accord.core import errors
from accord.core.models import AuditEntry
from accord.deals import selectors, services
from accord.deals.models import EndCustomer, EngagementRules, Registration
from accord.programs.models import Program
from tests.channel.factories import ProductFactory
from tests.deals.builders import NOW, deal, register, set_rules

pytestmark = pytest.mark.django_db


def refused(actor, data, **kwargs) -> dict[str, list[str]]:
    with pytest.raises(errors.ValidationError) as error:
        services.submit_registration(actor=actor, data=data, now=NOW, **kwargs)
    assert not Registration.objects.exists()
    return error.value.message_dict


# -- submission ------------------------------------------------------------------------------
def test_a_submission_stores_what_was_typed_and_its_keys(partner_a, partner_a_user):
    registration = register(
        partner_a_user,
        customer_name="  Acme Corporation Ltd ",
        customer_tax_id="us-12.345",
        customer_domain="https://Sales.ACME.com/contact",
        customer_country="us",
        value="1,250.50",
        expected_close="2026-10-01",
        notes="Met the CIO",
    )
    assert registration.organisation == partner_a
    assert registration.registered_by == partner_a_user
    assert registration.number == f"DR-{registration.pk:06d}"
    assert registration.customer_name == "Acme Corporation Ltd"
    assert registration.customer_domain == "https://Sales.ACME.com/contact"
    assert (registration.name_key, registration.tax_key, registration.domain_key) == (
        "acme",
        "US12345",
        "acme.com",
    )
    assert registration.customer_country == "US"
    assert registration.value == Decimal("1250.50")
    assert registration.expected_close == dt.date(2026, 10, 1)
    assert registration.submitted_at == NOW
    customer = registration.end_customer
    assert (customer.name, customer.tax_key, customer.domain_key, customer.country) == (
        "Acme Corporation Ltd",
        "US12345",
        "acme.com",
        "US",
    )
    created = AuditEntry.objects.for_object(registration).get(action="create")
    assert created.changes["customer_name"] == [None, "Acme Corporation Ltd"]
    assert created.changes["product_lines"] == [None, ["Servers"]]


def test_numbers_are_unique_and_follow_the_ids(partner_a_user):
    first = register(partner_a_user, customer_name="One")
    second = register(partner_a_user, customer_name="Two")
    assert (first.number, second.number) == (f"DR-{first.pk:06d}", f"DR-{second.pk:06d}")


def test_products_add_their_lines_in_the_catalogues_spelling(partner_a_user):
    router = ProductFactory(product_line="Networking")
    ProductFactory(product_line="Servers")
    registration = register(partner_a_user, product_lines=["servers"], products=[router.pk])
    assert registration.product_lines() == ["Networking", "Servers"]
    assert list(registration.products.all()) == [router]
    assert set(registration.lines.values_list("end_customer", flat=True)) == {
        registration.end_customer_id
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"customer_name": "  "}, "customer_name"),
        ({"customer_name": None}, "customer_name"),
        ({"customer_name": "x" * 201}, "customer_name"),
        ({"customer_name": "Acme\x00"}, "customer_name"),
        ({"customer_domain": "not a domain"}, "customer_domain"),
        ({"customer_country": "USA"}, "customer_country"),
        ({"territory": 999_999}, "territory"),
        ({"territory": "east"}, "territory"),
        ({"product_lines": []}, "product_lines"),
        ({"product_lines": "Servers"}, "product_lines"),
        ({"product_lines": [12]}, "product_lines"),
        ({"products": [999_999]}, "products"),
        ({"products": ["x"]}, "products"),
        ({"value": "-1"}, "value"),
        ({"value": "1.234"}, "value"),
        ({"value": "NaN"}, "value"),
        ({"value": "1e40"}, "value"),
        ({"value": None}, "value"),
        ({"currency": "dollars"}, "currency"),
        ({"expected_close": "tomorrow"}, "expected_close"),
        ({"expected_close": None}, "expected_close"),
        ({"notes": 12}, "notes"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_a_field_error_and_stores_nothing(partner_a_user, changes, field):
    errors_by_field = refused(partner_a_user, deal(**changes))
    assert field in errors_by_field


def test_missing_fields_are_each_named(partner_a_user):
    errors_by_field = refused(partner_a_user, {"customer_country": "US"})
    assert {"customer_name", "value", "expected_close", "product_lines"} <= set(errors_by_field)


def test_a_partner_registers_for_its_own_organisation_only(
    partner_a_user, partner_a_child, partner_b
):
    assert "organisation" in refused(partner_a_user, deal(), organisation=partner_b)
    assert "organisation" in refused(partner_a_user, deal(), organisation="x")
    child = register(partner_a_user, organisation=partner_a_child)
    assert child.organisation == partner_a_child


def test_vendor_staff_register_direct_sales_or_for_a_partner(channel_manager, partner_b, vendor):
    direct = register(channel_manager)
    assert direct.organisation == vendor and direct.registered_by == channel_manager
    assert direct.currency == "USD"
    on_behalf = register(channel_manager, customer_name="Other Co", organisation=partner_b.pk)
    assert on_behalf.organisation == partner_b


def test_currency_defaults_to_the_organisations(partner_b, partner_b_user):
    partner_b.currency = "EUR"
    partner_b.save()
    data = deal()
    del data["currency"]
    registration = services.submit_registration(actor=partner_b_user, data=data, now=NOW)
    assert registration.currency == "EUR"


def test_a_concurrently_created_end_customer_is_found_not_duplicated(partner_a_user):
    existing = EndCustomer.objects.create(name="Acme", name_key="acme", country="US")
    registration = register(partner_a_user, customer_name="ACME Corp.")
    assert registration.end_customer == existing
    assert EndCustomer.objects.count() == 1


def test_update_validates_like_submission_and_changes_nothing_on_error(partner_a_user):
    set_rules(auto_approve=False)
    registration = register(partner_a_user)
    with pytest.raises(errors.ValidationError) as error:
        services.update_registration(
            actor=partner_a_user,
            registration=registration,
            data={"customer_name": "New name", "value": "-3"},
        )
    assert set(error.value.message_dict) == {"value"}
    stored = Registration.objects.get(pk=registration.pk)
    assert stored.customer_name == "ACME Corp." and stored.value == Decimal("125000.00")


def test_check_similar_needs_the_right_to_register(partner_a_viewer):
    with pytest.raises(errors.PermissionDenied):
        services.check_similar(actor=partner_a_viewer, data={"customer_name": "Acme"})


# -- rules of engagement and named accounts ------------------------------------------------------
def test_update_rules_is_audited_and_validated(channel_manager):
    program = Program.objects.create(code="partners", name="Partners")
    rules = services.update_rules(
        actor=channel_manager,
        data={
            "policy": "manual",
            "protection_days": 120,
            "tier_program": "partners",
            "tier_protection_days": {"gold": 180},
            "reveal_conflicts": True,
        },
    )
    assert rules.policy == "manual" and rules.tier_program == program
    assert rules.tier_protection_days == {"gold": 180}
    entry = AuditEntry.objects.for_object(rules).get()
    assert entry.changes["protection_days"] == [90, 120]

    for data, field in (
        ({"policy": "lottery"}, "policy"),
        ({"name_threshold": 20}, "name_threshold"),
        ({"protection_days": 0}, "protection_days"),
        ({"protection_days": "many"}, "protection_days"),
        ({"protection_days": 10**9}, "protection_days"),
        ({"auto_approve": "yes"}, "auto_approve"),
        ({"tier_program": "nope"}, "tier_program"),
        ({"tier_protection_days": {"gold": 0}}, "tier_protection_days"),
        ({"tier_protection_days": ["gold"]}, "tier_protection_days"),
        ({"colour": "red"}, "colour"),
    ):
        with pytest.raises(errors.ValidationError) as error:
            services.update_rules(actor=channel_manager, data=data)
        assert field in error.value.message_dict, data
    assert EngagementRules.current().policy == "manual"
    assert services.update_rules(actor=channel_manager, data={"tier_protection_days": {}})


def test_only_engagement_managers_change_the_rules(partner_a_user, analyst):
    for actor in (partner_a_user, analyst):
        with pytest.raises(errors.PermissionDenied):
            services.update_rules(actor=actor, data={"protection_days": 1})
        with pytest.raises(errors.PermissionDenied):
            services.save_end_customer(actor=actor, data={"name": "Globex"})
    assert EngagementRules.current().protection_days == 90
    assert not EndCustomer.objects.exists()


def test_named_accounts_are_created_and_changed_with_normalised_keys(channel_manager, vendor_admin):
    account = services.save_end_customer(
        actor=channel_manager,
        data={
            "name": "Wayne Enterprises Inc.",
            "tax_id": "us 99-1",
            "domain": "https://www.wayne.com",
            "country": "us",
            "named_account": True,
            "account_owner_id": vendor_admin.pk,
        },
    )
    assert (account.name_key, account.tax_key, account.domain_key, account.country) == (
        "wayne enterprises",
        "US991",
        "wayne.com",
        "US",
    )
    assert account.account_owner == vendor_admin
    changed = services.save_end_customer(
        actor=channel_manager, end_customer=account, data={"named_account": False}
    )
    assert not changed.named_account
    assert AuditEntry.objects.for_object(account).count() == 2

    with pytest.raises(errors.Conflict):
        services.save_end_customer(
            actor=channel_manager, data={"name": "Other", "domain": "shop.wayne.com"}
        )
    with pytest.raises(errors.ValidationError) as error:
        services.save_end_customer(
            actor=channel_manager, data={"name": "", "account_owner": 999_999, "domain": "x"}
        )
    assert {"name", "account_owner", "domain"} <= set(error.value.message_dict)


# -- selectors -------------------------------------------------------------------------
def test_partners_read_only_their_own_registrations(
    partner_a_user, partner_b_user, channel_manager
):
    mine = register(partner_a_user)
    theirs = register(partner_b_user, customer_name="Other Co")
    assert list(selectors.registrations(partner_a_user)) == [mine]
    assert set(selectors.registrations(channel_manager)) == {mine, theirs}
    assert selectors.get_registration(partner_a_user, mine.pk) == mine
    for pk in (theirs.pk, 999_999, "x"):
        with pytest.raises(errors.Http404):
            selectors.get_registration(partner_a_user, pk)


def test_the_approval_queue_is_the_deciders_oldest_due_first(
    partner_a_user, partner_b_user, channel_manager
):
    set_rules(auto_approve=False, approval_sla_hours=24)
    late = register(partner_a_user, customer_name="Late Co", now=NOW + dt.timedelta(hours=5))
    early = register(partner_b_user, customer_name="Early Co")
    assert list(selectors.approval_queue(channel_manager)) == [early, late]
    assert not selectors.approval_queue(partner_a_user).exists()
    assert not selectors.approval_queue(None).exists()


def test_history_lists_the_registrations_audit_entries(partner_a_user, partner_b_user):
    registration = register(partner_a_user)
    actions = [entry.action for entry in selectors.history(partner_a_user, registration)]
    assert sorted(actions) == ["create", "transition"]
    with pytest.raises(errors.Http404):
        selectors.history(partner_b_user, registration)


def test_product_lines_come_from_the_catalogue():
    ProductFactory(product_line="Storage")
    ProductFactory(product_line="Networking")
    ProductFactory(product_line="Storage")
    ProductFactory(product_line="")
    assert selectors.product_lines() == ["Networking", "Storage"]
