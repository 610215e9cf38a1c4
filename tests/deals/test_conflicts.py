"""Conflict detection: what counts as the same customer (tax id, domain with sub-domains,
fuzzy names in several scripts, the resolved end customer), product overlap, named accounts,
exclusive territories, first-to-file against manual review, and what partners are shown."""

from __future__ import annotations

import datetime as dt

import pytest

from accord.core import errors
from accord.deals import selectors, services
from accord.deals.models import Conflict, EndCustomer, Registration
from accord.partners.models import Territory
from tests.deals.builders import NOW, register, set_rules
from tests.factories import TerritoryFactory

pytestmark = pytest.mark.django_db
LATER = NOW + dt.timedelta(hours=1)


def only_conflict(registration: Registration) -> Conflict:
    rows = list(Conflict.objects.filter(registration=registration))
    assert len(rows) == 1, [(c.kind, c.reasons) for c in rows]
    return rows[0]


def codes(conflict: Conflict) -> list[str]:
    return conflict.reason_codes()


def test_acme_against_an_approved_acme_corp_on_the_same_line_blocks_approval(
    partner_a_user, partner_b_user, channel_manager
):
    held = register(partner_a_user, customer_name="ACME Corp.")
    assert held.status == Registration.Status.APPROVED

    second = register(partner_b_user, customer_name="Acme Corporation Ltd", now=LATER)

    assert second.status == Registration.Status.SUBMITTED
    assert second.end_customer_id == held.end_customer_id
    conflict = only_conflict(second)
    assert conflict.other_id == held.pk and conflict.kind == Conflict.Kind.REGISTRATION
    assert conflict.blocking and conflict.score == 100
    assert codes(conflict) == ["name", "same_customer", "products"]
    name = conflict.reasons[0]
    assert (name["score"], name["name_key"], name["other_name_key"]) == (100, "acme", "acme")
    assert conflict.reasons[2]["product_lines"] == ["Servers"]
    # The decision says why it waits, with the conflict it found.
    assert second.decision["rule"] == "manual_review"
    assert second.decision["inputs"]["conflicts"][0]["id"] == conflict.pk

    with pytest.raises(errors.Conflict):
        services.approve(actor=channel_manager, registration=second, now=LATER)
    second.refresh_from_db()
    assert second.status == Registration.Status.SUBMITTED
    assert not second.lines.filter(protected=True).exists()


def test_the_chinese_pair_is_the_same_customer(partner_a_user, partner_b_user, channel_manager):
    held = register(partner_a_user, customer_name="华为技术有限公司", customer_country="CN")
    second = register(partner_b_user, customer_name="华为技术", customer_country="CN", now=LATER)

    conflict = only_conflict(second)
    assert conflict.other_id == held.pk and conflict.blocking
    assert codes(conflict)[0] == "name"
    assert conflict.reasons[0]["name_key"] == "华为技术"
    with pytest.raises(errors.Conflict):
        services.approve(actor=channel_manager, registration=second, now=LATER)


def test_no_conflict_across_product_lines_that_do_not_overlap(partner_a_user, partner_b_user):
    register(partner_a_user, product_lines=["Servers"])
    other = register(partner_b_user, product_lines=["Storage"], now=LATER)

    assert not Conflict.objects.filter(registration=other).exists()
    assert other.status == Registration.Status.APPROVED  # auto: nothing in the way


def test_without_the_overlap_rule_a_same_customer_conflicts_on_any_line(
    partner_a_user, partner_b_user
):
    set_rules(require_product_overlap=False)
    register(partner_a_user, product_lines=["Servers"])
    other = register(partner_b_user, product_lines=["Storage"], now=LATER)

    conflict = only_conflict(other)
    assert "products" not in codes(conflict)
    assert conflict.blocking


def test_sub_domains_are_the_same_customer(partner_a_user, partner_b_user):
    held = register(
        partner_a_user, customer_name="Zenith Holdings", customer_domain="https://www.acme.co.uk/"
    )
    other = register(
        partner_b_user,
        customer_name="Northwind Trading",
        customer_domain="sales.ACME.co.uk",
        now=LATER,
    )

    conflict = only_conflict(other)
    assert conflict.other_id == held.pk
    assert codes(conflict) == ["domain", "same_customer", "products"]
    assert conflict.reasons[0] == {"code": "domain", "score": 95, "domain": "acme.co.uk"}
    assert conflict.score == 95


def test_the_same_tax_id_however_written(partner_a_user, partner_b_user):
    held = register(
        partner_a_user, customer_name="Shanghai One", customer_tax_id="91310000-MA1FL0.1234"
    )
    other = register(
        partner_b_user,
        customer_name="Completely Different",
        customer_tax_id="91310000 ma1fl01234",
        now=LATER,
    )

    conflict = only_conflict(other)
    assert conflict.other_id == held.pk and conflict.score == 100
    assert codes(conflict)[0] == "tax_id"
    assert conflict.reasons[0]["tax_id"] == "91310000MA1FL01234"


def test_dissimilar_names_without_keys_do_not_conflict(partner_a_user, partner_b_user):
    register(partner_a_user, customer_name="Initech LLC")
    other = register(partner_b_user, customer_name="Initrode Inc", now=LATER)
    assert not Conflict.objects.filter(registration=other).exists()


def test_end_customer_resolution_fills_the_keys_it_lacks(partner_a_user, partner_b_user):
    first = register(partner_a_user, customer_name="Globex", customer_country="DE")
    customer = first.end_customer
    assert (customer.tax_key, customer.domain_key) == ("", "")

    second = register(
        partner_b_user,
        customer_name="Globex GmbH",
        customer_country="DE",
        customer_tax_id="DE 123 456 789",
        customer_domain="globex.de",
        product_lines=["Storage"],
        now=LATER,
    )

    customer.refresh_from_db()
    assert second.end_customer_id == customer.pk
    assert (customer.tax_key, customer.domain_key) == ("DE123456789", "globex.de")
    # Later registrations find it by either key, whatever the name.
    third = register(partner_b_user, customer_name="G.", customer_domain="shop.globex.de")
    assert third.end_customer_id == customer.pk
    assert EndCustomer.objects.count() == 1


def test_a_duplicate_of_the_same_organisation_is_a_conflict(partner_a_user):
    first = register(partner_a_user)
    again = register(partner_a_user, customer_name="Acme Corp", now=LATER)

    conflict = only_conflict(again)
    assert conflict.other_id == first.pk
    assert "duplicate" in codes(conflict)
    # Its own organisation's registration is not hidden from the partner.
    view = selectors.conflicts(partner_a_user, again)[0]
    assert not view["hidden"] and view["other"]["number"] == first.number


def test_named_accounts_conflict_with_partners_but_not_with_direct_sales(
    partner_b_user, channel_manager
):
    account = services.save_end_customer(
        actor=channel_manager,
        data={"name": "Globex Corporation", "country": "DE", "named_account": True},
    )

    partner = register(partner_b_user, customer_name="Globex AG", customer_country="DE")
    conflict = only_conflict(partner)
    assert conflict.kind == Conflict.Kind.NAMED_ACCOUNT
    assert conflict.end_customer_id == account.pk and conflict.blocking
    assert codes(conflict) == ["name", "same_customer", "named_account"]
    assert partner.status == Registration.Status.SUBMITTED

    direct = register(channel_manager, customer_name="Globex AG", customer_country="DE")
    assert direct.organisation.is_vendor
    assert not Conflict.objects.filter(
        registration=direct, kind=Conflict.Kind.NAMED_ACCOUNT
    ).exists()


def test_named_accounts_are_not_checked_when_the_rules_say_so(partner_b_user, channel_manager):
    set_rules(check_named_accounts=False)
    services.save_end_customer(
        actor=channel_manager, data={"name": "Globex", "country": "DE", "named_account": True}
    )
    registration = register(partner_b_user, customer_name="Globex", customer_country="DE")
    assert not Conflict.objects.filter(registration=registration).exists()


def test_another_partners_exclusive_territory_up_the_tree(
    partner_a, partner_a_user, partner_a_child, partner_b_user, east
):
    city = TerritoryFactory(code="cn-sh", name="Shanghai", level=Territory.Level.CITY, parent=east)

    intruder = register(partner_b_user, territory=city.pk)
    conflict = only_conflict(intruder)
    assert conflict.kind == Conflict.Kind.TERRITORY
    assert conflict.holder_id == partner_a.pk and conflict.blocking
    assert conflict.reasons == [
        {"code": "territory", "territory": east.pk, "territory_name": "China East"}
    ]

    # The holder and its own network sell there freely.
    own = register(partner_a_user, customer_name="Other Co", territory=city.pk)
    assert not Conflict.objects.filter(registration=own).exists()
    child_user = _child_user(partner_a_child)
    child = register(child_user, customer_name="Third Co", territory=city.pk)
    assert not Conflict.objects.filter(registration=child).exists()

    set_rules(check_territories=False)
    unchecked = register(partner_b_user, customer_name="Fourth Co", territory=city.pk)
    assert not Conflict.objects.filter(registration=unchecked).exists()


def _child_user(organisation):
    from accord.accounts.models import User
    from tests.factories import UserFactory

    user = UserFactory(organisation=organisation, roles=["partner_sales"])
    return User.objects.get(pk=user.pk)


# -- first to file against manual review -----------------------------------------------
def test_first_to_file_blocks_the_later_filing_while_the_earlier_is_pending(
    partner_a_user, partner_b_user, channel_manager
):
    set_rules(auto_approve=False)
    earlier = register(partner_a_user)
    later = register(partner_b_user, customer_name="Acme Corporation", now=LATER)
    assert earlier.status == later.status == Registration.Status.SUBMITTED

    conflict = only_conflict(later)
    assert conflict.blocking
    with pytest.raises(errors.Conflict):
        services.approve(actor=channel_manager, registration=later, now=LATER)

    # The earlier filing is rejected: the later one is free.
    services.reject(actor=channel_manager, registration=earlier, reason="Not real", now=LATER)
    assert not Conflict.objects.filter(registration=later).exists()
    approved = services.approve(actor=channel_manager, registration=later, now=LATER)
    assert approved.status == Registration.Status.APPROVED


def test_manual_policy_lets_the_decider_choose_and_then_protects_the_choice(
    partner_a_user, partner_b_user, channel_manager
):
    set_rules(policy="manual")
    earlier = register(partner_a_user)
    later = register(partner_b_user, customer_name="Acme Corporation", now=LATER)
    # Manual review of everything: no auto-approval even for the first.
    assert earlier.status == Registration.Status.SUBMITTED
    assert "policy_manual" in earlier.decision["why"]
    conflict = only_conflict(later)
    assert not conflict.blocking  # a pending earlier filing does not block under manual

    services.approve(actor=channel_manager, registration=later, now=LATER, reason="Closer")
    conflict.refresh_from_db()
    # The earlier one now meets a protected registration: found and blocking on approval.
    with pytest.raises(errors.Conflict):
        services.approve(actor=channel_manager, registration=earlier, now=LATER)
    blocking = Conflict.objects.get(registration=earlier)
    assert blocking.other_id == later.pk and blocking.blocking


def test_dismissing_a_conflict_does_not_break_the_one_approval_invariant(
    partner_a_user, partner_b_user, channel_manager
):
    set_rules(policy="manual")
    first = register(partner_a_user)
    second = register(partner_b_user, customer_name="Acme Corporation", now=LATER)
    services.approve(actor=channel_manager, registration=first, now=LATER)
    conflict = Conflict.objects.get(registration=second)
    assert conflict.blocking  # the other is approved now
    services.resolve_conflict(
        actor=channel_manager,
        conflict=conflict,
        resolution="dismissed",
        reason="Different department",
        now=LATER,
    )

    # Detection respects the dismissal; the database still refuses a second protection of
    # the same end customer and line, and nothing changes.
    with pytest.raises(errors.Conflict, match="already holds protection"):
        services.approve(actor=channel_manager, registration=second, now=LATER)
    second.refresh_from_db()
    assert second.status == Registration.Status.SUBMITTED and second.protected_until is None


def test_redetection_on_update_replaces_open_conflicts(partner_a_user, partner_b_user):
    register(partner_a_user)
    other = register(partner_b_user, customer_name="Acme Corp", now=LATER)
    assert Conflict.objects.filter(registration=other).count() == 1

    updated = services.update_registration(
        actor=partner_b_user,
        registration=other,
        data={"customer_name": "Umbrella Industries"},
        now=LATER,
    )
    assert not Conflict.objects.filter(registration=updated).exists()
    # Nothing stands in the way any more: the rules approve it.
    assert updated.status == Registration.Status.APPROVED


def test_closed_registrations_are_no_longer_candidates(
    partner_a_user, partner_b_user, channel_manager
):
    held = register(partner_a_user)
    services.close_registration(actor=partner_a_user, registration=held, outcome="lost", now=NOW)
    again = register(partner_b_user, customer_name="Acme Corp", now=LATER)
    assert not Conflict.objects.filter(registration=again).exists()
    assert again.status == Registration.Status.APPROVED


# -- the live check and what partners see ----------------------------------------------
def test_check_similar_writes_nothing_and_redacts(partner_a_user, partner_b_user, channel_manager):
    register(partner_a_user)
    before = (Registration.objects.count(), Conflict.objects.count(), EndCustomer.objects.count())

    found = services.check_similar(
        actor=partner_b_user,
        data={"customer_name": "Acme Corporation Ltd", "product_lines": ["Servers"]},
        now=LATER,
    )
    assert len(found) == 1
    assert found[0]["hidden"] and found[0]["other"] is None and found[0]["id"] is None
    assert found[0]["blocking"]
    assert [r["code"] for r in found[0]["reasons"]] == ["name", "products"]
    assert "product_lines" not in found[0]["reasons"][1]

    staff = services.check_similar(
        actor=channel_manager,
        data={"customer_name": "acme", "customer_country": "US", "product_lines": ["Servers"]},
        now=LATER,
    )
    assert staff[0]["other"]["organisation"] == "Alpha Distribution"
    assert [r["code"] for r in staff[0]["reasons"]] == ["name", "same_customer", "products"]
    assert services.check_similar(actor=partner_b_user, data={"customer_name": ""}) == []
    after = (Registration.objects.count(), Conflict.objects.count(), EndCustomer.objects.count())
    assert before == after


def test_partners_see_only_that_a_conflicting_registration_exists(
    partner_a_user, partner_b_user, channel_manager
):
    held = register(partner_a_user, customer_domain="acme.com")
    other = register(partner_b_user, customer_domain="www.acme.com", now=LATER)

    [view] = selectors.conflicts(partner_b_user, other)
    assert view["hidden"] and view["other"] is None and view["end_customer"] is None
    assert view["holder"] is None
    assert view["blocking"] and view["score"] == 100
    for reason in view["reasons"]:
        assert set(reason) <= {"code", "score", "label"}
        assert "acme" not in reason["label"]
    assert "Alpha" not in str(view)

    [staff] = selectors.conflicts(channel_manager, other)
    assert not staff["hidden"] and staff["other"]["number"] == held.number
    assert staff["other"]["customer_domain"] == "acme.com"
    domain = next(r for r in staff["reasons"] if r["code"] == "domain")
    assert domain["label"] == "Same website domain (acme.com)"

    set_rules(reveal_conflicts=True)
    [revealed] = selectors.conflicts(partner_b_user, other)
    assert not revealed["hidden"] and revealed["other"]["organisation"] == "Alpha Distribution"


def test_partners_never_see_named_accounts_or_territory_holders(
    partner_a, partner_b_user, channel_manager, east
):
    services.save_end_customer(
        actor=channel_manager, data={"name": "Globex", "country": "DE", "named_account": True}
    )
    registration = register(
        partner_b_user, customer_name="Globex", customer_country="DE", territory=east.pk
    )
    views = selectors.conflicts(partner_b_user, registration)
    assert {v["kind"] for v in views} == {"named_account", "territory"}
    for view in views:
        assert view["hidden"] and view["end_customer"] is None and view["holder"] is None
        assert "China East" not in str(view) and "Globex" not in str(view)


def test_conflict_views_of_another_organisations_registration_are_not_found(
    partner_a_user, partner_b_user
):
    register(partner_a_user)
    other = register(partner_b_user, customer_name="Acme Corp", now=LATER)
    with pytest.raises(errors.Http404):
        selectors.conflicts(partner_a_user, other)
