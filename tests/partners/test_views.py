"""Organisation, contact, agreement and territory pages: rendering, filtering, forms, writes."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone

from accord.core.models import AuditEntry
from accord.partners.models import (
    Agreement,
    Contact,
    Organisation,
    Territory,
    TerritoryAssignment,
)
from accord.partners.services import update_organisation
from tests.factories import (
    AgreementFactory,
    ContactFactory,
    OrganisationFactory,
    TerritoryFactory,
)

pytestmark = pytest.mark.django_db


def html(response: Any) -> str:
    return response.content.decode()


def names_in(body: str) -> list[str]:
    """Organisation names linked from the list rows, in order."""
    rows = body[body.index('id="organisation-rows"') :]
    rows = rows[: rows.index("</tbody>")]
    return re.findall(r'<a href="/organisations/\d+/">([^<]+)</a>', rows)


# -- list -----------------------------------------------------------------------------
@pytest.fixture
def network(vendor: Organisation) -> list[Organisation]:
    organisations = [
        OrganisationFactory(
            name="Cedar Logistics",
            kind="logistics",
            country="CN",
            status="prospect",
            tax_id="91310000ABC",
        ),
        OrganisationFactory(name="Birch Retail", kind="retailer", country="DE", city="Berlin"),
        OrganisationFactory(name="Aspen Supply", kind="supplier", country="US", status="suspended"),
    ]
    update_organisation(actor=None, organisation=organisations[1], data={}, tags=["gold"])
    return organisations


def test_root_redirects_to_organisations(login, vendor_admin) -> None:
    response = login(vendor_admin).get("/")
    assert response.status_code == 302
    assert response["Location"] == "/organisations/"


def test_list_shows_visible_organisations_sorted_by_name(login, vendor_admin, network) -> None:
    body = html(login(vendor_admin).get("/organisations/"))
    assert names_in(body) == ["Accord Vendor", "Aspen Supply", "Birch Retail", "Cedar Logistics"]
    assert "4 organisations" in body


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=retailer", ["Birch Retail"]),
        ("status=suspended", ["Aspen Supply"]),
        ("country=CN", ["Cedar Logistics"]),
        ("tag=gold", ["Birch Retail"]),
        ("q=berlin", ["Birch Retail"]),
        ("q=91310000abc", ["Cedar Logistics"]),
        ("q=nothing-matches", []),
        ("sort=-name&kind=", ["Cedar Logistics", "Birch Retail", "Aspen Supply", "Accord Vendor"]),
        ("sort=country", ["Accord Vendor", "Cedar Logistics", "Birch Retail", "Aspen Supply"]),
    ],
)
def test_list_filters_search_and_sort(login, vendor_admin, network, query, expected) -> None:
    body = html(login(vendor_admin).get(f"/organisations/?{query}"))
    assert names_in(body) == expected


@pytest.mark.parametrize(
    "query",
    [
        "kind=bogus",
        "status=%00",
        "q=%00",
        "q=" + "x" * 5000,
        "page=abc",
        "page=-1",
        "page=99999999999999999999999",
        "sort=password",
        "tag=%ff%fe",
        "country=ZZZ",
    ],
)
def test_list_ignores_bad_filters(login, vendor_admin, network, query) -> None:
    response = login(vendor_admin).get(f"/organisations/?{query}")
    assert response.status_code == 200


def test_list_paginates(login, vendor_admin, vendor) -> None:
    for number in range(30):
        OrganisationFactory(name=f"Org {number:02d}")
    client = login(vendor_admin)
    first = html(client.get("/organisations/"))
    assert len(names_in(first)) == 25
    assert "Page 1 of 2" in first
    second = html(client.get("/organisations/?page=2"))
    assert len(names_in(second)) == 6
    assert set(names_in(first)).isdisjoint(names_in(second))


def test_list_htmx_request_returns_only_the_results(login, vendor_admin, network) -> None:
    response = login(vendor_admin).get(
        "/organisations/?kind=retailer",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="organisation-results",
    )
    body = html(response)
    assert "<html" not in body
    assert 'id="organisation-rows"' in body
    assert names_in(body) == ["Birch Retail"]
    assert "HX-Request" in response["Vary"]


def test_list_filter_form_is_wired_for_htmx(login, vendor_admin) -> None:
    body = html(login(vendor_admin).get("/organisations/"))
    assert 'hx-trigger="input changed delay:300ms, change"' in body
    assert 'hx-target="#organisation-results"' in body


@pytest.mark.parametrize("size", [3, 40])
def test_list_query_count_does_not_grow_with_rows(
    login, vendor_admin, vendor, size, django_assert_max_num_queries
) -> None:
    parent = OrganisationFactory(name="Parent Co")
    for number in range(size):
        organisation = OrganisationFactory(name=f"Child {number:02d}", parent=parent)
        update_organisation(
            actor=None, organisation=organisation, data={}, tags=[f"t{number % 4}", "all"]
        )
    client = login(vendor_admin)
    client.get("/organisations/")  # warm the session
    with django_assert_max_num_queries(10):
        response = client.get("/organisations/?sort=-name")
    assert response.status_code == 200


def test_partner_list_query_count(
    login, partner_a_user, partner_a, django_assert_max_num_queries
) -> None:
    for number in range(15):
        OrganisationFactory(name=f"Alpha Shop {number}", parent=partner_a)
    client = login(partner_a_user)
    client.get("/organisations/")
    with django_assert_max_num_queries(10):
        body = html(client.get("/organisations/"))
    assert "Alpha Shop 14" in body


# -- detail ------------------------------------------------------------------------------
def test_detail_profile_and_tabs(login, vendor_admin, partner_a, partner_a_child) -> None:
    ContactFactory(organisation=partner_a, full_name="Chen Jing", is_primary=True)
    client = login(vendor_admin)
    body = html(client.get(f"/organisations/{partner_a.pk}/"))
    assert "<h1>Alpha Distribution</h1>" in body
    assert "Alpha Retail Shanghai" in body  # child organisations on the profile
    for tab in ("contacts", "territories", "agreements", "history"):
        assert f"?tab={tab}" in body
    contacts = html(client.get(f"/organisations/{partner_a.pk}/?tab=contacts"))
    assert "Chen Jing" in contacts
    territories = html(client.get(f"/organisations/{partner_a.pk}/?tab=territories"))
    assert "China East" in territories
    assert "badge-exclusive" in territories
    assert client.get(f"/organisations/{partner_a.pk}/?tab=%00").status_code == 200


def test_detail_tab_htmx_partial(login, vendor_admin, partner_a) -> None:
    response = login(vendor_admin).get(
        f"/organisations/{partner_a.pk}/?tab=contacts",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="organisation-tabs",
    )
    body = html(response)
    assert "<html" not in body
    assert 'class="active" aria-current="page">Contacts' in body


def test_detail_flags_agreements_due_for_renewal(login, vendor_admin, partner_a) -> None:
    today = timezone.localdate()
    AgreementFactory(
        organisation=partner_a,
        reference="AGR-SOON",
        start_on=dt.date(2020, 1, 1),
        end_on=today + dt.timedelta(days=10),
        renewal_notice_days=30,
    )
    AgreementFactory(
        organisation=partner_a,
        reference="AGR-LATER",
        start_on=dt.date(2020, 1, 1),
        end_on=today + dt.timedelta(days=300),
    )
    body = html(login(vendor_admin).get(f"/organisations/{partner_a.pk}/?tab=agreements"))
    soon_row = body[body.index("AGR-SOON") : body.index("</tr>", body.index("AGR-SOON"))]
    later_row = body[body.index("AGR-LATER") : body.index("</tr>", body.index("AGR-LATER"))]
    assert "Renewal due" in soon_row
    assert "Renewal due" not in later_row
    assert 'title="Renewal due">1</span>' in body  # counted on the tab itself


def test_transition_buttons_follow_permission(
    login, channel_manager, partner_a_user, partner_a
) -> None:
    staff_body = html(login(channel_manager).get(f"/organisations/{partner_a.pk}/"))
    assert 'name="status" value="suspended"' in staff_body
    assert 'value="terminated"' not in staff_body  # active cannot go straight to terminated
    partner_body = html(login(partner_a_user).get(f"/organisations/{partner_a.pk}/"))
    assert 'name="status"' not in partner_body


def test_edit_buttons_follow_role(login, partner_a_user, partner_a_viewer, partner_a) -> None:
    editor = html(login(partner_a_user).get(f"/organisations/{partner_a.pk}/?tab=contacts"))
    assert f"/organisations/{partner_a.pk}/edit/" in editor
    assert f"/organisations/{partner_a.pk}/contacts/new/" in editor
    viewer = html(login(partner_a_viewer).get(f"/organisations/{partner_a.pk}/?tab=contacts"))
    assert "/edit/" not in viewer
    assert "/contacts/new/" not in viewer
    assert "?tab=history" not in viewer  # no audit permission: no history tab


def test_history_tab_shows_before_and_after(login, vendor_admin, partner_a) -> None:
    client = login(vendor_admin)
    client.post(
        f"/organisations/{partner_a.pk}/transition/",
        {"status": "suspended", "reason": "Late payments"},
    )
    body = html(client.get(f"/organisations/{partner_a.pk}/?tab=history"))
    assert "admin@vendor.test" in body
    assert "Status changed" in body
    assert '<span class="before">Active</span> → <span class="after">Suspended</span>' in body
    assert "Late payments" in body


@pytest.mark.parametrize(
    "path",
    [
        "/organisations/0/",
        "/organisations/999999999999999999/",
        "/organisations/99999999999999999999999999/",
        "/organisations/abc/",
        "/organisations/-1/",
        "/agreements/999999999999999999/",
        "/contacts/0/edit/",
        "/territories/999999999999999999/edit/",
    ],
)
def test_bad_ids_answer_not_found(login, vendor_admin, path) -> None:
    response = login(vendor_admin).get(path)
    assert response.status_code == 404
    assert "Not found" in html(response)


# -- organisation forms -------------------------------------------------------------------
def test_create_organisation(login, channel_manager, partner_a) -> None:
    response = login(channel_manager).post(
        "/organisations/new/",
        {
            "name": "Delta Dealers",
            "kind": "reseller",
            "parent": partner_a.pk,
            "website_domain": "Delta.Example.COM",
            "country": "cn",
            "currency": "cny",
            "tags": "gold\uff0c east, gold",  # a Chinese comma separates too
        },
    )
    organisation = Organisation.objects.get(name="Delta Dealers")
    assert response.status_code == 302
    assert response["Location"] == f"/organisations/{organisation.pk}/"
    assert organisation.parent == partner_a
    assert organisation.website_domain == "delta.example.com"
    assert (organisation.country, organisation.currency) == ("CN", "CNY")
    assert sorted(organisation.tags.values_list("name", flat=True)) == ["east", "gold"]
    assert AuditEntry.objects.filter(object_id=str(organisation.pk), action="create").exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "Nul\x00Byte"}, "name"),
        ({"kind": "vendor"}, "kind"),
        ({"kind": "spaceship"}, "kind"),
        ({"website_domain": "not a domain"}, "website_domain"),
        ({"country": "China"}, "country"),
        ({"currency": "US"}, "currency"),
        ({"email": "nope"}, "email"),
        ({"parent": "999999999"}, "parent"),
        ({"parent": "abc"}, "parent"),
        ({"parent": "99999999999999999999999"}, "parent"),
        ({"tags": "x" * 60}, "tags"),
    ],
)
def test_create_organisation_shows_field_errors(login, channel_manager, data, field) -> None:
    payload = {"name": "Echo", "kind": "reseller", "currency": "USD", **data}
    before = Organisation.objects.count()
    response = login(channel_manager).post("/organisations/new/", payload)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Organisation.objects.count() == before


def test_parent_choices_are_restricted(login, partner_a_user, partner_a, partner_b) -> None:
    body = html(login(partner_a_user).get(f"/organisations/{partner_a.pk}/edit/"))
    assert "Bravo Resellers" not in body


def test_partner_edits_own_organisation_but_not_its_parent(
    login, partner_a_user, partner_a, partner_b
) -> None:
    response = login(partner_a_user).post(
        f"/organisations/{partner_a.pk}/edit/",
        {
            "name": "Alpha Distribution Ltd",
            "kind": "distributor",
            "currency": "USD",
            "parent": partner_b.pk,
            "tags": "",
        },
    )
    assert response.status_code == 302
    partner_a.refresh_from_db()
    assert partner_a.name == "Alpha Distribution Ltd"
    assert partner_a.parent is None


def test_edit_without_changes_writes_no_audit(login, vendor_admin, partner_a) -> None:
    before = AuditEntry.objects.count()
    response = login(vendor_admin).post(
        f"/organisations/{partner_a.pk}/edit/",
        {
            "name": partner_a.name,
            "kind": partner_a.kind,
            "currency": partner_a.currency,
            "country": partner_a.country,
        },
    )
    assert response.status_code == 302
    assert AuditEntry.objects.count() == before


def test_edit_cannot_make_an_organisation_its_own_descendant(
    login, vendor_admin, partner_a, partner_a_child
) -> None:
    response = login(vendor_admin).post(
        f"/organisations/{partner_a.pk}/edit/",
        {
            "name": partner_a.name,
            "kind": partner_a.kind,
            "currency": "USD",
            "parent": partner_a_child.pk,
        },
    )
    assert response.status_code == 200
    assert "parent" in response.context["form"].errors
    partner_a.refresh_from_db()
    assert partner_a.parent is None


def test_transition_with_reason(login, channel_manager, partner_a) -> None:
    response = login(channel_manager).post(
        f"/organisations/{partner_a.pk}/transition/", {"status": "suspended", "reason": "Audit"}
    )
    assert response.status_code == 302
    partner_a.refresh_from_db()
    assert partner_a.status == "suspended"
    entry = AuditEntry.objects.filter(action="transition").get()
    assert entry.reason == "Audit"


@pytest.mark.parametrize("status", ["terminated", "bogus", "", "\x00", "prospect"])
def test_disallowed_transition_is_a_message_not_an_error(
    login, channel_manager, partner_a, status
) -> None:
    client = login(channel_manager)
    response = client.post(f"/organisations/{partner_a.pk}/transition/", {"status": status})
    assert response.status_code == 302
    partner_a.refresh_from_db()
    assert partner_a.status == "active"
    page = html(client.get(response["Location"]))
    assert "message-error" in page


def test_transition_requires_post(login, channel_manager, partner_a) -> None:
    response = login(channel_manager).get(f"/organisations/{partner_a.pk}/transition/")
    assert response.status_code == 405


# -- contacts ---------------------------------------------------------------------------------
def test_contact_create_edit_delete(login, partner_a_user, partner_a) -> None:
    client = login(partner_a_user)
    old = ContactFactory(organisation=partner_a, full_name="Old Primary", is_primary=True)
    response = client.post(
        f"/organisations/{partner_a.pk}/contacts/new/",
        {
            "full_name": "Wang Fang",
            "job_title": "Buyer",
            "email": "wang@alpha.test",
            "is_primary": "on",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"/organisations/{partner_a.pk}/?tab=contacts"
    contact = Contact.objects.get(full_name="Wang Fang")
    assert contact.is_primary
    old.refresh_from_db()
    assert not old.is_primary

    response = client.post(
        f"/contacts/{contact.pk}/edit/", {"full_name": "Wang Fang", "job_title": "Head of buying"}
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.job_title == "Head of buying"

    assert "Wang Fang" in html(client.get(f"/contacts/{contact.pk}/delete/"))
    response = client.post(f"/contacts/{contact.pk}/delete/")
    assert response.status_code == 302
    assert not Contact.objects.filter(pk=contact.pk).exists()


@pytest.mark.parametrize(
    "data",
    [
        {"full_name": ""},
        {"full_name": "a" * 151},
        {"full_name": "A", "email": "bad"},
        {"full_name": "A\x00"},
        {"full_name": "A", "phone": "1" * 51},
    ],
)
def test_contact_form_errors(login, partner_a_user, partner_a, data) -> None:
    response = login(partner_a_user).post(f"/organisations/{partner_a.pk}/contacts/new/", data)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Contact.objects.exists()


# -- agreements -------------------------------------------------------------------------------
def targets(*rows: dict[str, str], initial: int = 0) -> dict[str, str]:
    data = {
        "targets-TOTAL_FORMS": str(len(rows)),
        "targets-INITIAL_FORMS": str(initial),
        "targets-MIN_NUM_FORMS": "0",
        "targets-MAX_NUM_FORMS": "50",
    }
    for index, row in enumerate(rows):
        data.update({f"targets-{index}-{key}": value for key, value in row.items()})
    return data


AGREEMENT = {
    "reference": "AGR-77",
    "type": "distribution",
    "start_on": "2026-01-01",
    "end_on": "2027-01-01",
    "renewal_notice_days": "60",
}
REVENUE = {
    "metric": "revenue",
    "comparator": ">=",
    "target": "2500000",
    "unit": "CNY",
    "period": "year",
}


def test_agreement_create_with_targets_then_edit(login, channel_manager, partner_a) -> None:
    client = login(channel_manager)
    empty_row = {"metric": "", "comparator": ">=", "target": "", "unit": "", "period": "year"}
    response = client.post(
        f"/organisations/{partner_a.pk}/agreements/new/",
        {**AGREEMENT, **targets(REVENUE, empty_row)},
    )
    agreement = Agreement.objects.get(reference="AGR-77")
    assert response.status_code == 302
    assert response["Location"] == f"/agreements/{agreement.pk}/"
    assert [(t.metric, t.target) for t in agreement.targets.all()] == [("revenue", 2500000)]
    detail = html(client.get(f"/agreements/{agreement.pk}/"))
    assert "revenue" in detail
    assert "2,500,000" in detail  # locale-formatted

    fill = {
        "metric": "fill_rate",
        "comparator": ">=",
        "target": "0.95",
        "unit": "",
        "period": "quarter",
    }
    response = client.post(
        f"/agreements/{agreement.pk}/edit/",
        {
            **AGREEMENT,
            "pricing_tier": "Gold",
            **targets({**REVENUE, "DELETE": "on"}, fill, initial=1),
        },
    )
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.pricing_tier == "Gold"
    assert [t.metric for t in agreement.targets.all()] == ["fill_rate"]


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"end_on": "2025-01-01"}, "end_on"),
        ({"start_on": "2026-02-30"}, "start_on"),
        ({"start_on": "0001-01-01"}, "start_on"),
        ({"start_on": "99999-01-01"}, "start_on"),
        ({"renewal_notice_days": "-1"}, "renewal_notice_days"),
        ({"renewal_notice_days": "99999999999999999999"}, "renewal_notice_days"),
        ({"type": "marriage"}, "type"),
        ({"reference": "r" * 51}, "reference"),
    ],
)
def test_agreement_form_errors(login, channel_manager, partner_a, data, where) -> None:
    response = login(channel_manager).post(
        f"/organisations/{partner_a.pk}/agreements/new/", {**AGREEMENT, **data, **targets()}
    )
    assert response.status_code == 200
    assert where in response.context["form"].errors
    assert not Agreement.objects.exists()


@pytest.mark.parametrize(
    "row",
    [
        {**REVENUE, "target": "NaN"},
        {**REVENUE, "target": "1e999999"},
        {**REVENUE, "metric": "not a slug"},
        {**REVENUE, "period": "decade"},
        {**REVENUE, "comparator": "=="},
    ],
)
def test_agreement_target_errors(login, channel_manager, partner_a, row) -> None:
    response = login(channel_manager).post(
        f"/organisations/{partner_a.pk}/agreements/new/", {**AGREEMENT, **targets(row)}
    )
    assert response.status_code == 200
    assert not response.context["formset"].is_valid()
    assert not Agreement.objects.exists()


def test_agreement_duplicate_targets_and_references(login, channel_manager, partner_a) -> None:
    client = login(channel_manager)
    response = client.post(
        f"/organisations/{partner_a.pk}/agreements/new/", {**AGREEMENT, **targets(REVENUE, REVENUE)}
    )
    assert response.status_code == 200
    assert response.context["formset"].non_form_errors()
    AgreementFactory(reference="AGR-77")
    response = client.post(
        f"/organisations/{partner_a.pk}/agreements/new/", {**AGREEMENT, **targets()}
    )
    assert "reference" in response.context["form"].errors


def test_agreement_without_management_form_is_an_error(login, channel_manager, partner_a):
    response = login(channel_manager).post(
        f"/organisations/{partner_a.pk}/agreements/new/", AGREEMENT
    )
    assert response.status_code == 200
    assert not Agreement.objects.exists()


def test_agreement_transition(login, channel_manager, partner_a) -> None:
    agreement = AgreementFactory(organisation=partner_a, status="draft")
    client = login(channel_manager)
    assert 'value="active"' in html(client.get(f"/agreements/{agreement.pk}/"))
    response = client.post(f"/agreements/{agreement.pk}/transition/", {"status": "active"})
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.status == "active"
    client.post(f"/agreements/{agreement.pk}/transition/", {"status": "draft"})
    agreement.refresh_from_db()
    assert agreement.status == "active"


# -- territories ---------------------------------------------------------------------------------
def test_assign_and_remove_territory(login, channel_manager, partner_a, partner_b, east) -> None:
    client = login(channel_manager)
    west = TerritoryFactory(code="west", name="West")
    response = client.post(
        f"/organisations/{partner_b.pk}/territories/add/", {"territory": west.pk, "exclusive": "on"}
    )
    assert response.status_code == 302
    assignment = TerritoryAssignment.objects.get(organisation=partner_b, territory=west)
    assert assignment.exclusive

    # east is held exclusively by partner_a: a clear field error, nothing written.
    response = client.post(
        f"/organisations/{partner_b.pk}/territories/add/", {"territory": east.pk}
    )
    assert response.status_code == 200
    assert "exclusively" in str(response.context["form"].errors)
    assert not TerritoryAssignment.objects.filter(organisation=partner_b, territory=east).exists()

    response = client.post(f"/territory-assignments/{assignment.pk}/remove/")
    assert response.status_code == 302
    assert not TerritoryAssignment.objects.filter(pk=assignment.pk).exists()


def test_territory_tree_nests_and_badges(login, vendor_admin, partner_a, partner_b, east) -> None:
    shanghai = TerritoryFactory(code="sh", name="Shanghai", parent=east, level="city")
    TerritoryAssignment.objects.create(organisation=partner_b, territory=shanghai)
    body = html(login(vendor_admin).get("/territories/"))
    assert body.index("Asia") < body.index("China East") < body.index("Shanghai")
    assert "Alpha Distribution · Exclusive" in body
    assert "Bravo Resellers · Shared" in body


def test_territory_create_edit_delete(login, vendor_admin, east) -> None:
    client = login(vendor_admin)
    response = client.post(
        "/territories/new/", {"code": "cn-sh", "name": "上海", "level": "city", "parent": east.pk}
    )
    assert response.status_code == 302
    territory = Territory.objects.get(code="cn-sh")
    assert territory.parent == east

    response = client.post(
        f"/territories/{territory.pk}/edit/",
        {"code": "cn-sh", "name": "Shanghai", "level": "city", "parent": east.pk},
    )
    assert response.status_code == 302
    territory.refresh_from_db()
    assert territory.name == "Shanghai"

    # A territory cannot move below itself: the parent choice is not even offered.
    response = client.post(
        f"/territories/{east.pk}/edit/",
        {"code": east.code, "name": east.name, "level": east.level, "parent": territory.pk},
    )
    assert response.status_code == 200
    assert "parent" in response.context["form"].errors

    # East has children and an assignment: refused with a message, nothing deleted.
    response = client.post(f"/territories/{east.pk}/delete/")
    assert response.status_code == 302
    assert Territory.objects.filter(pk=east.pk).exists()
    assert "message-error" in html(client.get("/territories/"))

    assert client.post(f"/territories/{territory.pk}/delete/").status_code == 302
    assert not Territory.objects.filter(pk=territory.pk).exists()


@pytest.mark.parametrize(
    "data",
    [
        {"code": "Not A Slug", "name": "X", "level": "city"},
        {"code": "ok", "name": "", "level": "city"},
        {"code": "ok", "name": "X", "level": "planet"},
        {"code": "asia", "name": "Dup", "level": "group"},
    ],
)
def test_territory_form_errors(login, vendor_admin, east, data) -> None:
    before = Territory.objects.count()
    response = login(vendor_admin).post("/territories/new/", data)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert Territory.objects.count() == before


# -- the whole UI under a strict CSP ------------------------------------------------------------
def test_pages_have_no_inline_script_or_style(login, vendor_admin, partner_a) -> None:
    agreement = AgreementFactory(organisation=partner_a)
    client = login(vendor_admin)
    paths = [
        "/organisations/",
        f"/organisations/{partner_a.pk}/",
        "/organisations/new/",
        f"/organisations/{partner_a.pk}/edit/",
        f"/agreements/{agreement.pk}/",
        f"/agreements/{agreement.pk}/edit/",
        "/territories/",
        "/territories/new/",
        "/accounts/tokens/",
        "/accounts/users/",
        "/accounts/password-change/",
        "/organisations/999999/",
        *[
            f"/organisations/{partner_a.pk}/?tab={tab}"
            for tab in ("contacts", "territories", "agreements", "history")
        ],
    ]
    for path in [*paths, "/accounts/login/"]:
        response = (client if path != "/accounts/login/" else login(None)).get(path)
        body = html(response)
        assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body) is None, path
        assert "<style" not in body, path
        assert not re.search(r"\sstyle=", body), path
        assert "Content-Security-Policy" in response, path
        assert "django_htmx/htmx-2.min.js" in body, path
        assert 'name="htmx-config"' in body, path
        assert 'id="language-switcher"' in body, path


def test_forbidden_page_is_friendly(login, analyst, partner_a) -> None:
    response = login(analyst).get(f"/organisations/{partner_a.pk}/edit/")
    assert response.status_code == 403
    assert "<h1>Not allowed</h1>" in html(response)


def test_csrf_failure_page_has_no_inline_style(partner_a_user, partner_a) -> None:
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(partner_a_user)
    response = client.post(
        f"/organisations/{partner_a.pk}/contacts/new/", {"full_name": "No Token"}
    )
    assert response.status_code == 403
    body = html(response)
    assert "The form has expired" in body
    assert "<style" not in body
    assert not Contact.objects.exists()


@pytest.mark.parametrize("size", [2, 25])
def test_territory_tree_and_history_query_counts(
    login, vendor_admin, vendor, size, django_assert_max_num_queries
) -> None:
    from accord.partners.services import assign_territory, create_territory

    root = TerritoryFactory(code="root", name="Root", level="group")
    organisation = OrganisationFactory(name="Holder")
    for number in range(size):
        territory = create_territory(
            actor=vendor_admin,
            data={"code": f"t{number}", "name": f"T{number}", "level": "city", "parent": root},
        )
        assign_territory(actor=vendor_admin, organisation=organisation, territory=territory)
        update_organisation(
            actor=vendor_admin, organisation=organisation, data={"phone": f"+1 555 {number:04d}"}
        )
    client = login(vendor_admin)
    client.get("/territories/")
    with django_assert_max_num_queries(8):
        assert client.get("/territories/").status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(f"/organisations/{organisation.pk}/?tab=history").status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get(f"/organisations/{organisation.pk}/?tab=territories").status_code == 200
