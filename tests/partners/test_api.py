"""REST API of accord.partners: filters, writes, transitions, errors as JSON, query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accord.core.models import AuditEntry
from accord.partners.models import (
    Agreement,
    AgreementTarget,
    Contact,
    Organisation,
    Tag,
    Territory,
    TerritoryAssignment,
)
from tests.apitools import call, fingerprint
from tests.factories import (
    AgreementFactory,
    ContactFactory,
    OrganisationFactory,
    TerritoryFactory,
)

pytestmark = pytest.mark.django_db
V1 = "/api/v1"


def ids(response) -> list[int]:
    return [item["id"] for item in response.json()["items"]]


def assert_error(response, status: int, error: str | None = None, field: str | None = None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error", "detail", "fields"}
    if error:
        assert body["error"] == error, body
    if field:
        assert field in body["fields"], body
    return body


# -- organisations: list ----------------------------------------------------------
@pytest.fixture
def network(vendor, partner_a, partner_a_child, partner_b):
    partner_a.tags.add(Tag.objects.create(name="strategic"))
    OrganisationFactory(
        name="Zeta Logistics",
        kind="logistics",
        status="prospect",
        country="CN",
        city="Shenzhen",
        tax_id="91440300MA5D8X1234",
        website_domain="zeta.example",
        legal_name="深圳泽塔物流有限公司",
    )
    return Organisation.objects.order_by("pk")


def test_list_paginates_with_count(api, analyst, network):
    client = api(analyst)
    page = client.get(f"{V1}/organisations?limit=2&offset=1&sort=name").json()
    assert page["count"] == 5
    everything = [o.name for o in network.order_by("name")]
    assert [item["name"] for item in page["items"]] == everything[1:3]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=logistics", ["Zeta Logistics"]),
        ("status=prospect", ["Zeta Logistics"]),
        ("country=de", ["Bravo Resellers"]),
        ("tag=strategic", ["Alpha Distribution"]),
        ("q=shenzhen", ["Zeta Logistics"]),
        ("q=MA5D8X", ["Zeta Logistics"]),
        ("q=zeta.example", ["Zeta Logistics"]),
        ("q=泽塔", ["Zeta Logistics"]),
        ("q=alpha", ["Alpha Distribution", "Alpha Retail Shanghai"]),
    ],
)
def test_list_filters_and_search(api, analyst, network, query, expected):
    response = api(analyst).get(f"{V1}/organisations?{query}")
    assert response.status_code == 200
    assert [item["name"] for item in response.json()["items"]] == expected


def test_list_filter_by_parent(api, analyst, partner_a, partner_a_child):
    response = api(analyst).get(f"{V1}/organisations?parent={partner_a.pk}")
    assert ids(response) == [partner_a_child.pk]


@pytest.mark.parametrize(
    "sort", ["name", "-name", "created_at", "-created_at", "status", "-status"]
)
def test_list_sorts(api, analyst, network, sort):
    items = api(analyst).get(f"{V1}/organisations?sort={sort}").json()["items"]
    key = sort.lstrip("-")
    values = [item[key] for item in items]
    assert values == sorted(values, reverse=sort.startswith("-"))


@pytest.mark.parametrize(
    "query",
    [
        "kind=spaceship",
        "status=alive",
        "sort=colour",
        "country=Germany",
        "parent=abc",
        "parent=-3",
        "parent=99999999999999999999999",
        "limit=0",
        "limit=100000",
        "offset=-1",
        "offset=99999999999999999999999999",
        "q=%00",
        "q=" + "x" * 201,
        "tag=",
    ],
)
def test_list_rejects_bad_filters_with_422(api, analyst, query):
    assert_error(api(analyst).get(f"{V1}/organisations?{query}"), 422, "invalid_request")


def test_list_query_count_does_not_grow_with_rows(
    api, analyst, east, django_assert_max_num_queries
):
    for index in range(30):
        organisation = OrganisationFactory(name=f"Org {index:02d}")
        organisation.tags.add(Tag.objects.get_or_create(name=f"tag-{index % 3}")[0])
        TerritoryAssignment.objects.create(
            organisation=organisation, territory=TerritoryFactory(parent=east)
        )
    client = api(analyst)
    # token, roles, count, page, tags, assignments (+ a last-used write at most)
    with django_assert_max_num_queries(8):
        response = client.get(f"{V1}/organisations?limit=100")
    assert response.json()["count"] == 31  # and the vendor
    assert sum(len(item["territory_assignments"]) for item in response.json()["items"]) == 30


# -- organisations: detail, create, update, transitions ------------------------------
def test_detail_shows_tags_assignments_transitions_and_parent(
    api, analyst, partner_a, partner_a_child, east
):
    partner_a.tags.add(Tag.objects.create(name="strategic"))
    body = api(analyst).get(f"{V1}/organisations/{partner_a.pk}").json()
    assert body["tags"] == ["strategic"]
    assignment = TerritoryAssignment.objects.get(organisation=partner_a)
    assert body["territory_assignments"] == [
        {
            "id": assignment.pk,
            "territory_id": east.pk,
            "territory_code": "cn-east",
            "territory_name": "China East",
            "exclusive": True,
        }
    ]
    assert body["allowed_transitions"] == ["suspended"]
    assert body["parent_id"] is None
    child = api(analyst).get(f"{V1}/organisations/{partner_a_child.pk}").json()
    assert child["parent_id"] == partner_a.pk


def test_create_organisation(api, channel_manager, partner_a):
    response = call(
        api(channel_manager),
        "post",
        f"{V1}/organisations",
        {
            "name": "  华东电子有限公司 ",
            "kind": "distributor",
            "parent_id": partner_a.pk,
            "country": "cn",
            "currency": "cny",
            "website_domain": "huadong.example",
            "tags": ["east", "strategic", "east"],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    created = Organisation.objects.get(pk=body["id"])
    assert (created.name, created.country, created.currency) == ("华东电子有限公司", "CN", "CNY")
    assert created.parent == partner_a
    assert body["status"] == "prospect"
    assert body["tags"] == ["east", "strategic"]
    assert AuditEntry.objects.for_object(created).filter(action="create").exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "retailer"}, "name"),
        ({"name": "X"}, "kind"),
        ({"name": "X", "kind": "vendor"}, "kind"),
        ({"name": "", "kind": "retailer"}, "name"),
        ({"name": "   ", "kind": "retailer"}, "name"),
        ({"name": "x" * 201, "kind": "retailer"}, "name"),
        ({"name": "Nul\x00", "kind": "retailer"}, "name"),
        ({"name": "X", "kind": "retailer", "country": "DEU"}, "country"),
        ({"name": "X", "kind": "retailer", "currency": "€"}, "currency"),
        ({"name": "X", "kind": "retailer", "website_domain": "no domain"}, "website_domain"),
        ({"name": "X", "kind": "retailer", "email": "not-an-email"}, "email"),
        ({"name": "X", "kind": "retailer", "parent_id": 2**70}, "parent_id"),
        ({"name": "X", "kind": "retailer", "parent_id": "one"}, "parent_id"),
        ({"name": "X", "kind": "retailer", "parent_id": 987654321}, "parent_id"),
        ({"name": "X", "kind": "retailer", "tags": ["x" * 51]}, "tags.0"),
        ({"name": "X", "kind": "retailer", "tags": "strategic"}, "tags"),
        ({"name": "X", "kind": "retailer", "unknown": 1}, None),
    ],
)
def test_create_organisation_rejects_bad_input(api, channel_manager, payload, field):
    client = api(channel_manager)
    before = fingerprint()
    response = call(client, "post", f"{V1}/organisations", payload)
    if field is None:  # unknown keys are ignored, the rest is valid
        assert response.status_code == 201
        return
    assert_error(response, 422, field=field)
    assert fingerprint() == before


def test_create_with_duplicate_external_key_is_a_field_error(api, channel_manager):
    OrganisationFactory(external_key="ERP-1")
    response = call(
        api(channel_manager),
        "post",
        f"{V1}/organisations",
        {"name": "X", "kind": "retailer", "external_key": "ERP-1"},
    )
    assert_error(response, 422, "invalid")


def test_parent_the_caller_cannot_see_is_an_unknown_parent(
    api, regional_coordinator, partner_a, partner_b
):
    # The coordinator sees partner A (in their territory) but not partner B.
    response = call(
        api(regional_coordinator),
        "patch",
        f"{V1}/organisations/{partner_a.pk}",
        {"parent_id": partner_b.pk},
    )
    body = assert_error(response, 422, "invalid", field="parent_id")
    assert body["fields"]["parent_id"] == ["Unknown organisation."]
    partner_a.refresh_from_db()
    assert partner_a.parent_id is None


def test_patch_is_partial(api, channel_manager, partner_a):
    partner_a.city = "Shanghai"
    partner_a.save()
    response = call(
        api(channel_manager), "patch", f"{V1}/organisations/{partner_a.pk}", {"name": "Alpha Ltd"}
    )
    assert response.status_code == 200, response.content
    partner_a.refresh_from_db()
    assert (partner_a.name, partner_a.city) == ("Alpha Ltd", "Shanghai")
    entry = AuditEntry.objects.for_object(partner_a).get(action="update")
    assert entry.changes == {"name": ["Alpha Distribution", "Alpha Ltd"]}


def test_patch_tags_replace_and_parent_can_be_cleared(
    api, channel_manager, partner_a, partner_a_child
):
    partner_a_child.tags.add(Tag.objects.create(name="old"))
    response = call(
        api(channel_manager),
        "patch",
        f"{V1}/organisations/{partner_a_child.pk}",
        {"parent_id": None, "tags": ["new"]},
    )
    assert response.status_code == 200, response.content
    assert response.json()["tags"] == ["new"]
    assert response.json()["parent_id"] is None
    partner_a_child.refresh_from_db()
    assert partner_a_child.path == f"/{partner_a_child.pk}/"


def test_patch_cannot_create_a_cycle(api, channel_manager, partner_a, partner_a_child):
    response = call(
        api(channel_manager),
        "patch",
        f"{V1}/organisations/{partner_a.pk}",
        {"parent_id": partner_a_child.pk},
    )
    assert_error(response, 422, field="parent_id")


@pytest.mark.parametrize(
    "payload",
    [{"name": None}, {"kind": None}, {"kind": "planet"}, {"name": "x" * 300}, {"city": "\x00"}],
)
def test_patch_rejects_bad_values(api, channel_manager, partner_a, payload):
    client = api(channel_manager)
    before = fingerprint()
    response = call(client, "patch", f"{V1}/organisations/{partner_a.pk}", payload)
    assert_error(response, 422)
    assert fingerprint() == before


def test_partner_cannot_rehang_its_organisation(api, partner_a_user, partner_a, partner_a_child):
    response = call(
        api(partner_a_user),
        "patch",
        f"{V1}/organisations/{partner_a_child.pk}",
        {"parent_id": None},
    )
    assert_error(response, 422, field="parent_id")


def test_transition_follows_the_lifecycle(api, channel_manager):
    organisation = OrganisationFactory(status="prospect")
    client = api(channel_manager)
    response = call(
        client,
        "post",
        f"{V1}/organisations/{organisation.pk}/transitions",
        {"status": "applied", "reason": "Signed the application form"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "applied"
    assert response.json()["allowed_transitions"] == ["onboarding", "terminated"]
    entry = AuditEntry.objects.for_object(organisation).get(action="transition")
    assert entry.reason == "Signed the application form"

    response = call(
        client, "post", f"{V1}/organisations/{organisation.pk}/transitions", {"status": "active"}
    )
    body = assert_error(response, 409, "invalid_transition", field="status")
    assert "cannot go from" in body["detail"]
    organisation.refresh_from_db()
    assert organisation.status == "applied"


@pytest.mark.parametrize("payload", [{}, {"status": "dead"}, {"status": "active", "reason": 5}])
def test_transition_rejects_bad_bodies(api, channel_manager, partner_a, payload):
    response = call(
        api(channel_manager), "post", f"{V1}/organisations/{partner_a.pk}/transitions", payload
    )
    assert_error(response, 422, "invalid_request")


def test_children_and_history(api, channel_manager, partner_a, partner_a_child):
    client = api(channel_manager)
    assert ids(client.get(f"{V1}/organisations/{partner_a.pk}/children")) == [partner_a_child.pk]
    call(client, "patch", f"{V1}/organisations/{partner_a.pk}", {"city": "Hangzhou"})
    call(client, "post", f"{V1}/contacts", {"organisation_id": partner_a.pk, "full_name": "Li"})
    history = client.get(f"{V1}/organisations/{partner_a.pk}/history").json()
    assert history["count"] == 2
    first, second = history["items"]
    assert first["object_type"] == "partners.contact"
    assert second["object_type"] == "partners.organisation"
    assert second["changes"] == {"city": ["", "Hangzhou"]}
    assert second["actor_label"] == channel_manager.email


# -- request bodies the parser cannot use --------------------------------------------
@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("{not json", 400),
        ("", 422),
        ("[]", 422),
        ('"text"', 422),
        ("null", 422),
        ('{"name": "\\ud800", "kind": "retailer"}', 422),
        ('{"name": "X", "kind": "retailer", "parent_id": 1e400}', 422),
        ('{"name": "X", "kind": "retailer", "parent_id": NaN}', 422),
    ],
)
def test_unusable_bodies_are_json_4xx(api, channel_manager, raw, status):
    response = call(api(channel_manager), "post", f"{V1}/organisations", raw=raw)
    assert_error(response, status)


@pytest.mark.parametrize("path", ["abc", "-1", "0", "1.5", "99999999999999999999", "%00"])
def test_bad_ids_in_paths_are_json_4xx(api, analyst, path):
    response = api(analyst).get(f"{V1}/organisations/{path}")
    assert response.status_code in (404, 422)
    assert set(response.json()) == {"error", "detail", "fields"}


def test_largest_id_is_simply_not_found(api, analyst):
    assert_error(api(analyst).get(f"{V1}/organisations/{2**63 - 1}"), 404, "not_found")


# -- contacts -------------------------------------------------------------------------
def test_contacts_list_filters(api, analyst, partner_a, partner_b):
    mine = ContactFactory(organisation=partner_a, full_name="Wang Wei", job_title="Buyer")
    ContactFactory(organisation=partner_b, full_name="Anna Schmidt")
    client = api(analyst)
    assert ids(client.get(f"{V1}/contacts?organisation={partner_a.pk}")) == [mine.pk]
    assert ids(client.get(f"{V1}/contacts?q=buyer")) == [mine.pk]
    assert client.get(f"{V1}/contacts").json()["count"] == 2


def test_contact_create_update_delete(api, partner_a_user, partner_a):
    client = api(partner_a_user)
    first = call(
        client,
        "post",
        f"{V1}/contacts",
        {"organisation_id": partner_a.pk, "full_name": "Wang Wei", "is_primary": True},
    )
    assert first.status_code == 201, first.content
    second = call(
        client,
        "post",
        f"{V1}/contacts",
        {"organisation_id": partner_a.pk, "full_name": "Li Na", "is_primary": True},
    ).json()
    # One primary contact per organisation.
    assert client.get(f"{V1}/contacts/{first.json()['id']}").json()["is_primary"] is False

    response = call(
        client, "patch", f"{V1}/contacts/{second['id']}", {"job_title": "Sales director"}
    )
    assert response.json()["job_title"] == "Sales director"
    assert response.json()["full_name"] == "Li Na"

    response = client.delete(f"{V1}/contacts/{second['id']}")
    assert response.status_code == 204
    assert not Contact.objects.filter(pk=second["id"]).exists()
    assert AuditEntry.objects.filter(action="delete", object_id=str(second["id"])).exists()
    assert_error(client.delete(f"{V1}/contacts/{second['id']}"), 404, "not_found")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"full_name": "X"}, "organisation_id"),
        ({"organisation_id": None, "full_name": "X"}, "organisation_id"),
        ({"full_name": "X", "email": "nope"}, "email"),
        ({"full_name": "X", "notes": "a\x00b"}, "notes"),
        ({"full_name": "X", "is_primary": "perhaps"}, "is_primary"),
    ],
)
def test_contact_create_rejects_bad_input(api, partner_a_user, partner_a, payload, field):
    if field != "organisation_id":
        payload = {"organisation_id": partner_a.pk, **payload}
    response = call(api(partner_a_user), "post", f"{V1}/contacts", payload)
    assert_error(response, 422, field=field)
    assert not Contact.objects.exists()


# -- territories ----------------------------------------------------------------------
def test_territory_list_filters_and_tree(api, analyst, east):
    city = TerritoryFactory(code="cn-sh", name="Shanghai", level="city", parent=east)
    client = api(analyst)
    assert ids(client.get(f"{V1}/territories?parent={east.pk}")) == [city.pk]
    assert ids(client.get(f"{V1}/territories?level=city")) == [city.pk]
    assert ids(client.get(f"{V1}/territories?q=shang")) == [city.pk]
    detail = client.get(f"{V1}/territories/{city.pk}").json()
    assert (detail["parent_id"], detail["depth"]) == (east.pk, 2)
    tree = client.get(f"{V1}/territories/tree").json()
    assert tree == [
        {
            "id": east.parent_id,
            "code": "asia",
            "name": "Asia",
            "level": "group",
            "children": [
                {
                    "id": east.pk,
                    "code": "cn-east",
                    "name": "China East",
                    "level": "region",
                    "children": [
                        {
                            "id": city.pk,
                            "code": "cn-sh",
                            "name": "Shanghai",
                            "level": "city",
                            "children": [],
                        }
                    ],
                }
            ],
        }
    ]


def test_partner_tree_starts_at_its_own_territories(api, partner_a_user, east):
    tree = api(partner_a_user).get(f"{V1}/territories/tree").json()
    assert [node["code"] for node in tree] == ["cn-east"]


def test_territory_create_update_delete(api, vendor_admin, partner_a, east):
    client = api(vendor_admin)
    response = call(
        client,
        "post",
        f"{V1}/territories",
        {"code": "cn-js", "name": "江苏", "level": "province", "parent_id": east.pk},
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["depth"] == 2

    response = call(client, "patch", f"{V1}/territories/{created['id']}", {"parent_id": None})
    assert response.json()["parent_id"] is None
    assert response.json()["depth"] == 0

    assert_error(
        call(client, "patch", f"{V1}/territories/{east.parent_id}", {"parent_id": east.pk}),
        422,
        field="parent_id",
    )
    assert_error(
        call(client, "post", f"{V1}/territories", {"code": "cn-js", "name": "x", "level": "city"}),
        422,
        field="code",
    )
    # east has an assignment (partner A), Asia a sub-territory: both refuse deletion.
    assert_error(client.delete(f"{V1}/territories/{east.pk}"), 409, "conflict")
    assert_error(client.delete(f"{V1}/territories/{east.parent_id}"), 409, "conflict")
    assert client.delete(f"{V1}/territories/{created['id']}").status_code == 204
    assert not Territory.objects.filter(pk=created["id"]).exists()


@pytest.mark.parametrize(
    "payload",
    [
        {"code": "has space", "name": "x", "level": "city"},
        {"code": "ok", "name": "x", "level": "planet"},
        {"code": "ok", "name": "x", "level": "city", "parent_id": 424242},
        {"code": "x" * 61, "name": "x", "level": "city"},
    ],
)
def test_territory_create_rejects_bad_input(api, vendor_admin, payload):
    assert_error(call(api(vendor_admin), "post", f"{V1}/territories", payload), 422)


# -- territory assignments ------------------------------------------------------------
def test_assignments_list_filters(api, analyst, partner_a, partner_b, east):
    other = TerritoryFactory(code="de-by", name="Bayern")
    b_assignment = TerritoryAssignment.objects.create(organisation=partner_b, territory=other)
    client = api(analyst)
    assert ids(client.get(f"{V1}/territory-assignments?organisation={partner_b.pk}")) == [
        b_assignment.pk
    ]
    a_assignment = TerritoryAssignment.objects.get(organisation=partner_a)
    assert ids(client.get(f"{V1}/territory-assignments?territory={east.pk}")) == [a_assignment.pk]


def test_assign_conflicts_and_unassign(api, channel_manager, partner_a, partner_b, east):
    client = api(channel_manager)
    # east is held exclusively by partner A.
    response = call(
        client,
        "post",
        f"{V1}/territory-assignments",
        {"organisation_id": partner_b.pk, "territory_id": east.pk},
    )
    body = assert_error(response, 409, "conflict", field="territory_id")
    assert "Alpha Distribution" in body["detail"]

    shared = TerritoryFactory(code="de", name="Germany")
    response = call(
        client,
        "post",
        f"{V1}/territory-assignments",
        {"organisation_id": partner_b.pk, "territory_id": shared.pk},
    )
    assert response.status_code == 201, response.content
    assignment_id = response.json()["id"]
    assert response.json()["exclusive"] is False
    response = call(
        client,
        "post",
        f"{V1}/territory-assignments",
        {"organisation_id": partner_a.pk, "territory_id": shared.pk, "exclusive": True},
    )
    assert_error(response, 409, "conflict", field="exclusive")
    # Asking again for the same pair changes the existing assignment: 200, not 201.
    response = call(
        client,
        "post",
        f"{V1}/territory-assignments",
        {"organisation_id": partner_b.pk, "territory_id": shared.pk, "exclusive": True},
    )
    assert response.status_code == 200
    assert response.json() | {"id": assignment_id} == response.json()
    assert response.json()["exclusive"] is True

    assert client.delete(f"{V1}/territory-assignments/{assignment_id}").status_code == 204
    assert not TerritoryAssignment.objects.filter(pk=assignment_id).exists()


def test_assign_unknown_references_are_field_errors(api, channel_manager, partner_a):
    response = call(
        api(channel_manager),
        "post",
        f"{V1}/territory-assignments",
        {"organisation_id": 999999, "territory_id": 999999},
    )
    body = assert_error(response, 422, field="organisation_id")
    assert body["fields"]["organisation_id"] == ["Unknown organisation."]


# -- agreements -------------------------------------------------------------------------
def agreement_payload(organisation: Organisation, **overrides) -> dict:
    return {
        "organisation_id": organisation.pk,
        "reference": "AGR-2026-001",
        "type": "distribution",
        "start_on": "2026-01-01",
        "end_on": "2027-01-01",
        "pricing_tier": "gold",
        "terms": "Net 30.",
        "targets": [
            {"metric": "revenue", "target": "1250000.50", "unit": "CNY", "period": "year"},
            {"metric": "fill_rate", "comparator": ">=", "target": 0.95, "period": "quarter"},
        ],
        **overrides,
    }


def test_agreement_create_with_targets(api, channel_manager, partner_a):
    response = call(api(channel_manager), "post", f"{V1}/agreements", agreement_payload(partner_a))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft"
    assert body["organisation_name"] == "Alpha Distribution"
    assert body["allowed_transitions"] == ["active", "terminated"]
    assert [(t["metric"], t["target"], t["period"]) for t in body["targets"]] == [
        ("fill_rate", "0.9500", "quarter"),
        ("revenue", "1250000.5000", "year"),
    ]
    assert body["renewal_due"] is False


def test_agreement_patch_replaces_targets_only_when_given(api, channel_manager, partner_a):
    client = api(channel_manager)
    created = call(client, "post", f"{V1}/agreements", agreement_payload(partner_a)).json()
    path = f"{V1}/agreements/{created['id']}"
    response = call(client, "patch", path, {"terms": "Net 45."})
    assert len(response.json()["targets"]) == 2
    response = call(client, "patch", path, {"targets": [{"metric": "nps", "target": 40}]})
    assert [t["metric"] for t in response.json()["targets"]] == ["nps"]
    assert AgreementTarget.objects.filter(agreement_id=created["id"]).count() == 1
    response = call(client, "patch", path, {"targets": []})
    assert response.json()["targets"] == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"end_on": "2025-01-01"}, "end_on"),
        ({"start_on": "2026-02-30"}, "start_on"),
        ({"start_on": "10000-01-01"}, "start_on"),
        ({"end_on": "0000-01-01"}, "end_on"),
        ({"type": "marriage"}, "type"),
        ({"renewal_notice_days": -1}, "renewal_notice_days"),
        ({"renewal_notice_days": 2**31}, "renewal_notice_days"),
        ({"renewal_notice_days": 2**64}, "renewal_notice_days"),
        ({"reference": ""}, "reference"),
        ({"targets": [{"metric": "revenue", "target": "1.23456"}]}, "targets.0.target"),
        ({"targets": [{"metric": "revenue", "target": "1e30"}]}, "targets.0.target"),
        ({"targets": [{"metric": "revenue", "target": "abc"}]}, "targets.0.target"),
        ({"targets": [{"metric": "rev enue", "target": 1}]}, "targets.0.metric"),
        ({"targets": [{"metric": "r", "target": 1, "comparator": "=="}]}, "targets.0.comparator"),
        (
            {"targets": [{"metric": "r", "target": 1}, {"metric": "r", "target": 2}]},
            "targets",
        ),
    ],
)
def test_agreement_create_rejects_bad_input(api, channel_manager, partner_a, overrides, field):
    client = api(channel_manager)
    before = fingerprint()
    response = call(client, "post", f"{V1}/agreements", agreement_payload(partner_a, **overrides))
    assert_error(response, 422, field=field)
    assert fingerprint() == before


def test_agreement_duplicate_reference(api, channel_manager, partner_a):
    AgreementFactory(organisation=partner_a, reference="AGR-2026-001")
    response = call(api(channel_manager), "post", f"{V1}/agreements", agreement_payload(partner_a))
    assert_error(response, 422, field="reference")


def test_extreme_dates_do_not_break_renewal_due(api, channel_manager, partner_a):
    payload = agreement_payload(
        partner_a, start_on="0001-01-01", end_on="0001-01-02", renewal_notice_days=2**31 - 1
    )
    client = api(channel_manager)
    created = call(client, "post", f"{V1}/agreements", payload)
    assert created.status_code == 201, created.content
    call(
        client, "post", f"{V1}/agreements/{created.json()['id']}/transitions", {"status": "active"}
    )
    body = client.get(f"{V1}/agreements/{created.json()['id']}").json()
    assert body["renewal_due"] is True
    assert ids(client.get(f"{V1}/agreements?renewal_due=true")) == [body["id"]]
    far = agreement_payload(partner_a, reference="FAR", start_on="9999-12-30", end_on="9999-12-31")
    assert call(client, "post", f"{V1}/agreements", far).status_code == 201


def test_agreement_filters_and_renewal_due(api, analyst, partner_a, partner_b):
    today = timezone.localdate()
    due = AgreementFactory(
        organisation=partner_a,
        start_on=today - dt.timedelta(days=300),
        end_on=today + dt.timedelta(days=30),
        renewal_notice_days=60,
    )
    not_yet = AgreementFactory(
        organisation=partner_a,
        start_on=today - dt.timedelta(days=300),
        end_on=today + dt.timedelta(days=90),
        renewal_notice_days=60,
    )
    draft = AgreementFactory(
        organisation=partner_b,
        status="draft",
        type="nda",
        start_on=today,
        end_on=today + dt.timedelta(days=1),
    )
    open_ended = AgreementFactory(organisation=partner_b, start_on=today, end_on=None)
    client = api(analyst)
    assert ids(client.get(f"{V1}/agreements?renewal_due=true")) == [due.pk]
    assert set(ids(client.get(f"{V1}/agreements?renewal_due=false"))) == {
        not_yet.pk,
        draft.pk,
        open_ended.pk,
    }
    assert set(ids(client.get(f"{V1}/agreements?organisation={partner_a.pk}"))) == {
        due.pk,
        not_yet.pk,
    }
    assert ids(client.get(f"{V1}/agreements?status=draft")) == [draft.pk]
    assert ids(client.get(f"{V1}/agreements?type=nda")) == [draft.pk]
    assert client.get(f"{V1}/agreements/{due.pk}").json()["renewal_due"] is True
    assert_error(client.get(f"{V1}/agreements?renewal_due=maybe"), 422)


def test_agreement_transitions(api, channel_manager, partner_a):
    agreement = AgreementFactory(organisation=partner_a, status="draft")
    client = api(channel_manager)
    path = f"{V1}/agreements/{agreement.pk}/transitions"
    response = call(client, "post", path, {"status": "active", "reason": "Countersigned"})
    assert response.json()["status"] == "active"
    assert_error(call(client, "post", path, {"status": "draft"}), 409, "invalid_transition")
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.ACTIVE


def test_agreement_and_contact_lists_do_not_grow_queries(
    api, analyst, django_assert_max_num_queries
):
    for index in range(20):
        organisation = OrganisationFactory()
        agreement = AgreementFactory(organisation=organisation)
        AgreementTarget.objects.create(agreement=agreement, metric=f"m{index}", target=1)
        ContactFactory(organisation=organisation)
    client = api(analyst)
    for path in ("agreements", "contacts", "territories", "territory-assignments"):
        with django_assert_max_num_queries(7):
            response = client.get(f"{V1}/{path}?limit=100")
        assert response.status_code == 200


def test_oversized_and_undecodable_bodies_are_400(api, channel_manager):
    client = api(channel_manager)
    huge = '{"name": "' + "x" * 3_000_000 + '", "kind": "retailer"}'
    assert_error(call(client, "post", f"{V1}/organisations", raw=huge), 400)
    response = client.post(
        f"{V1}/organisations", data=b'{"name": "\xff\xfe"}', content_type="application/json"
    )
    assert_error(response, 400, "bad_request")


def test_session_writes_need_the_csrf_token(login, channel_manager, partner_a):
    client = login(channel_manager)
    client.handler.enforce_csrf_checks = True
    before = fingerprint()
    response = call(client, "patch", f"{V1}/organisations/{partner_a.pk}", {"city": "Ningbo"})
    assert_error(response, 403, "forbidden")
    assert fingerprint() == before
    token = "a1" * 16  # a well-formed CSRF secret, sent as cookie and header alike
    client.cookies["csrftoken"] = token
    response = client.patch(
        f"{V1}/organisations/{partner_a.pk}",
        data='{"city": "Ningbo"}',
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 200, response.content
    assert response.json()["city"] == "Ningbo"


@pytest.mark.parametrize("method", ["put", "delete", "options"])
def test_methods_a_path_does_not_offer_are_json_405(api, analyst, method):
    response = getattr(api(analyst), method)(f"{V1}/organisations")
    body = assert_error(response, 405, "method_not_allowed")
    assert body["detail"] == "Method Not Allowed."
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "POST"}
