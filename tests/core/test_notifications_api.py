"""The notification inbox API: each user lists and marks read their own notifications;
another user's notification answers 404 and stays unread."""

from __future__ import annotations

from typing import Any

import pytest

from accord.core.models import Notification
from accord.core.services import notify
from tests.apitools import call, fingerprint

pytestmark = pytest.mark.django_db
V1 = "/api/v1"


@pytest.fixture
def inbox(partner_a_user: Any, partner_a_viewer: Any, partner_b_user: Any) -> dict[str, Any]:
    first = notify(
        recipient=partner_a_user,
        subject="Gold may lapse",
        body="Revenue is trending down.",
        link="/programs/tiers/",
        organisation=partner_a_user.organisation,
    )
    second = notify(recipient=partner_a_user, subject="Welcome", body="Hello.")
    colleague = notify(recipient=partner_a_viewer, subject="For the viewer", body="Hi.")
    other = notify(recipient=partner_b_user, subject="Bravo only", body="Secret.")
    return {"first": first, "second": second, "colleague": colleague, "other": other}


def test_list_shows_only_the_callers_own(
    inbox: dict, api: Any, partner_a_user: Any, partner_b_user: Any
) -> None:
    response = api(partner_a_user).get(f"{V1}/notifications")
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["unread"]) == (2, 2)
    assert [n["id"] for n in body["items"]] == [inbox["second"].pk, inbox["first"].pk]
    first = body["items"][1]
    assert first["subject"] == "Gold may lapse" and first["link"] == "/programs/tiers/"
    assert first["organisation_id"] == partner_a_user.organisation_id
    assert first["read_at"] is None
    theirs = api(partner_b_user).get(f"{V1}/notifications").json()
    assert [n["id"] for n in theirs["items"]] == [inbox["other"].pk]


def test_mark_read_and_filter_unread(inbox: dict, api: Any, partner_a_user: Any) -> None:
    client = api(partner_a_user)
    path = f"{V1}/notifications/{inbox['first'].pk}/read"
    response = call(client, "post", path)
    assert response.status_code == 200, response.content
    read_at = response.json()["read_at"]
    assert read_at is not None
    # Reading it again keeps the first reading time.
    assert call(client, "post", path).json()["read_at"] == read_at
    unread = client.get(f"{V1}/notifications?unread=true").json()
    assert [n["id"] for n in unread["items"]] == [inbox["second"].pk]
    assert (unread["count"], unread["unread"]) == (1, 1)
    every = client.get(f"{V1}/notifications").json()
    assert (every["count"], every["unread"]) == (2, 1)
    page = client.get(f"{V1}/notifications?limit=1&offset=1").json()
    assert [n["id"] for n in page["items"]] == [inbox["first"].pk]


@pytest.mark.parametrize("whose", ["other", "colleague"])
def test_someone_elses_notification_is_404(
    inbox: dict, api: Any, partner_a_user: Any, whose: str
) -> None:
    client = api(partner_a_user)
    before = fingerprint()
    response = call(client, "post", f"{V1}/notifications/{inbox[whose].pk}/read")
    assert response.status_code == 404
    assert set(response.json()) == {"error", "detail", "fields"}
    assert fingerprint() == before
    assert Notification.objects.get(pk=inbox[whose].pk).read_at is None


def test_staff_see_no_partner_notifications(inbox: dict, api: Any, vendor_admin: Any) -> None:
    assert api(vendor_admin).get(f"{V1}/notifications").json() == {
        "count": 0,
        "unread": 0,
        "items": [],
    }
    response = call(api(vendor_admin), "post", f"{V1}/notifications/{inbox['first'].pk}/read")
    assert response.status_code == 404


@pytest.mark.parametrize(
    "path", ["/notifications?unread=perhaps", "/notifications?limit=0", "/notifications?offset=-1"]
)
def test_bad_query_is_422(inbox: dict, api: Any, partner_a_user: Any, path: str) -> None:
    response = api(partner_a_user).get(V1 + path)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"


def test_bad_or_unknown_ids(inbox: dict, api: Any, partner_a_user: Any) -> None:
    client = api(partner_a_user)
    assert call(client, "post", f"{V1}/notifications/999999/read").status_code == 404
    assert call(client, "post", f"{V1}/notifications/0/read").status_code == 422
    assert call(client, "post", f"{V1}/notifications/{2**63}/read").status_code == 422


def test_anonymous_is_401(inbox: dict, api: Any) -> None:
    assert api(None).get(f"{V1}/notifications").status_code == 401
    response = call(api(None), "post", f"{V1}/notifications/{inbox['first'].pk}/read")
    assert response.status_code == 401
    assert Notification.objects.get(pk=inbox["first"].pk).read_at is None


# The tests above cover every notifications operation: operation -> the tests that do.
NOTIFICATIONS_OPERATIONS = {
    "notifications_list": ("test_list_shows_only_the_callers_own", "test_anonymous_is_401"),
    "notifications_read": ("test_someone_elses_notification_is_404", "test_anonymous_is_401"),
}


def test_every_notifications_operation_has_isolation_tests() -> None:
    from accord.api import api as ninja_api

    operations = {
        operation["operationId"]
        for path in ninja_api.get_openapi_schema()["paths"].values()
        for operation in path.values()
        if operation["tags"] == ["notifications"]
    }
    assert operations == set(NOTIFICATIONS_OPERATIONS)
    for tests in NOTIFICATIONS_OPERATIONS.values():
        assert all(callable(globals().get(test)) for test in tests)
