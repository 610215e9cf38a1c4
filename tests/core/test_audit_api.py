"""REST API of the audit log: filters, pagination and who sees which entries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accord.core.models import AuditEntry
from accord.partners import services
from tests.apitools import call

pytestmark = pytest.mark.django_db
V1 = "/api/v1"


@pytest.fixture
def trail(channel_manager, partner_a, partner_b, east):
    """A few writes on both partners and on vendor master data (a territory)."""
    services.update_organisation(actor=channel_manager, organisation=partner_a, data={"city": "A"})
    services.update_organisation(actor=channel_manager, organisation=partner_b, data={"city": "B"})
    services.create_contact(actor=channel_manager, organisation=partner_a, data={"full_name": "Li"})
    services.create_territory(actor=None, data={"code": "eu", "name": "Europe", "level": "group"})
    return AuditEntry.objects.all()


def object_types(response) -> list[str]:
    return [item["object_type"] for item in response.json()["items"]]


def test_staff_sees_every_entry_newest_first(api, vendor_admin, trail):
    response = api(vendor_admin).get(f"{V1}/audit?limit=500")
    body = response.json()
    assert body["count"] == trail.count()
    times = [item["at"] for item in body["items"]]
    assert times == sorted(times, reverse=True)
    territory = next(i for i in body["items"] if i["object_type"] == "partners.territory")
    assert territory["organisation_id"] is None
    assert territory["actor_label"] == "system"


def test_partner_sees_only_its_organisations_entries(api, partner_a_user, partner_a, trail):
    items = api(partner_a_user).get(f"{V1}/audit?limit=500").json()["items"]
    assert items
    assert {item["organisation_id"] for item in items} == {partner_a.pk}


def test_partner_viewer_without_the_permission_sees_nothing(api, partner_a_viewer, trail):
    assert api(partner_a_viewer).get(f"{V1}/audit").json() == {"items": [], "count": 0}


def test_filters(api, vendor_admin, channel_manager, partner_a, trail):
    client = api(vendor_admin)
    response = client.get(f"{V1}/audit?object_type=partners.organisation&action=update")
    assert set(object_types(response)) == {"partners.organisation"}
    assert response.json()["count"] == 2

    response = client.get(f"{V1}/audit?object_type=partners.organisation&object_id={partner_a.pk}")
    assert [item["changes"] for item in response.json()["items"]] == [{"city": ["", "A"]}]
    assert response.json()["items"][0]["actor_id"] == channel_manager.pk

    response = client.get(f"{V1}/audit?organisation={partner_a.pk}")
    assert set(object_types(response)) == {"partners.organisation", "partners.contact"}

    now = timezone.now()
    later = (now + dt.timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    earlier = (now - dt.timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert client.get(f"{V1}/audit", {"since": later}).json()["count"] == 0
    assert client.get(f"{V1}/audit", {"until": earlier}).json()["count"] == 0
    window = {"since": earlier, "until": later}
    assert client.get(f"{V1}/audit", window).json()["count"] == AuditEntry.objects.count()


def test_pagination(api, vendor_admin, trail):
    client = api(vendor_admin)
    everything = client.get(f"{V1}/audit?limit=500").json()["items"]
    page = client.get(f"{V1}/audit?limit=2&offset=1").json()
    assert page["items"] == everything[1:3]


@pytest.mark.parametrize(
    "query",
    [
        "object_type=organisation",
        "object_type=nothing.here",
        "object_type=partners.organisation%00",
        "action=explode",
        "organisation=zero",
        "since=yesterday",
        "since=2026-01-01T00:00:00",
        "until=0001-01-01T00:00:00%2B01:00",
        "object_id=" + "9" * 65,
    ],
)
def test_bad_filters_are_422(api, vendor_admin, query):
    response = api(vendor_admin).get(f"{V1}/audit?{query}")
    assert response.status_code == 422, response.content
    assert set(response.json()) == {"error", "detail", "fields"}


def test_anonymous_gets_401(client):
    assert client.get(f"{V1}/audit").status_code == 401


def test_organisation_history_includes_related_objects(api, channel_manager, partner_a, trail):
    history = api(channel_manager).get(f"{V1}/organisations/{partner_a.pk}/history").json()
    assert [item["object_type"] for item in history["items"]] == [
        "partners.contact",
        "partners.organisation",
    ]


def test_history_of_another_organisation_is_404(api, partner_b_user, partner_a, trail):
    response = api(partner_b_user).get(f"{V1}/organisations/{partner_a.pk}/history")
    assert response.status_code == 404


def test_audit_list_query_count(api, vendor_admin, trail, django_assert_max_num_queries):
    client = api(vendor_admin)
    for index in range(20):
        call(
            client, "post", f"{V1}/territories", {"code": f"t{index}", "name": "T", "level": "city"}
        )
    with django_assert_max_num_queries(6):
        assert client.get(f"{V1}/audit?limit=100").json()["count"] > 20
