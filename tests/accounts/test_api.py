"""REST API of accord.accounts: users (administration), /me and API tokens."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from accord.accounts.models import ApiToken, User
from accord.accounts.services import create_api_token
from accord.core.models import AuditEntry
from tests.apitools import call, fingerprint
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
V1 = "/api/v1"


def assert_error(response, status: int, error: str | None = None, field: str | None = None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error", "detail", "fields"}
    if error:
        assert body["error"] == error, body
    if field:
        assert field in body["fields"], body
    return body


def emails(response) -> list[str]:
    return [item["email"] for item in response.json()["items"]]


# -- users ----------------------------------------------------------------------------
def test_vendor_admin_lists_every_user_partner_admin_only_its_own(
    api, vendor_admin, partner_a_user, partner_a_viewer, partner_b_user
):
    assert set(emails(api(vendor_admin).get(f"{V1}/users"))) == {
        vendor_admin.email,
        partner_a_user.email,
        partner_a_viewer.email,
        partner_b_user.email,
    }
    assert emails(api(partner_a_user).get(f"{V1}/users")) == [
        partner_a_user.email,
        partner_a_viewer.email,
    ]


def test_users_without_the_permission_see_no_users(api, analyst, partner_a_viewer):
    assert api(analyst).get(f"{V1}/users").json() == {"items": [], "count": 0}
    assert_error(api(partner_a_viewer).get(f"{V1}/users/{analyst.pk}"), 404)


def test_user_filters(api, vendor_admin, partner_a_user, partner_a_viewer, partner_a):
    client = api(vendor_admin)
    assert emails(client.get(f"{V1}/users?role=partner_viewer")) == [partner_a_viewer.email]
    assert set(emails(client.get(f"{V1}/users?organisation={partner_a.pk}"))) == {
        partner_a_user.email,
        partner_a_viewer.email,
    }
    assert emails(client.get(f"{V1}/users?q=viewer@")) == [partner_a_viewer.email]
    partner_a_viewer.is_active = False
    partner_a_viewer.save()
    assert partner_a_viewer.email not in emails(client.get(f"{V1}/users?is_active=true"))
    assert emails(client.get(f"{V1}/users?is_active=false")) == [partner_a_viewer.email]


def test_user_detail(api, vendor_admin, regional_coordinator):
    body = api(vendor_admin).get(f"{V1}/users/{regional_coordinator.pk}").json()
    assert body["roles"] == ["regional_coordinator"]
    assert body["territories"] == ["cn-east"]
    assert body["organisation_name"] == "Accord Vendor"
    assert "password" not in body


def test_create_user_with_roles_territories_and_password(api, vendor_admin, vendor, east):
    response = call(
        api(vendor_admin),
        "post",
        f"{V1}/users",
        {
            "organisation_id": vendor.pk,
            "email": "  Coordinator.East@Vendor.Test ",
            "full_name": "陈静",
            "roles": ["regional_coordinator"],
            "territories": ["cn-east"],
            "password": "a long and unusual passphrase",
            "language": "zh-hans",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["email"] == "coordinator.east@vendor.test"
    assert (body["roles"], body["territories"]) == (["regional_coordinator"], ["cn-east"])
    user = User.objects.get(pk=body["id"])
    assert user.check_password("a long and unusual passphrase")
    assert AuditEntry.objects.for_object(user).filter(action="create").exists()


def test_create_user_without_password_cannot_log_in(api, vendor_admin, vendor):
    response = call(
        api(vendor_admin),
        "post",
        f"{V1}/users",
        {"organisation_id": vendor.pk, "email": "x@vendor.test", "full_name": "X"},
    )
    assert response.status_code == 201
    assert not User.objects.get(email="x@vendor.test").has_usable_password()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"roles": ["emperor"]}, "roles"),
        ({"roles": ["administrator"]}, "roles"),  # a vendor role for partner staff
        ({"territories": ["atlantis"]}, "territories"),
        ({"password": "123"}, "password"),
        ({"password": "password123"}, "password"),
        ({"email": "not an address"}, "email"),
        ({"email": "admin@alpha.test"}, "email"),  # taken
        ({"language": "klingon"}, "language"),
        ({"full_name": "\x00"}, "full_name"),
        ({"organisation_id": 10**30}, "organisation_id"),
    ],
)
def test_create_user_rejects_bad_input(
    api, vendor_admin, partner_a, partner_a_user, changes, field
):
    payload = {
        "organisation_id": partner_a.pk,
        "email": "new@alpha.test",
        "full_name": "New Person",
        "roles": ["partner_sales"],
        **changes,
    }
    client = api(vendor_admin)
    before = fingerprint()
    assert_error(call(client, "post", f"{V1}/users", payload), 422, field=field)
    assert fingerprint() == before


def test_partner_admin_creates_staff_in_its_own_organisation_only(
    api, partner_a_user, partner_a, partner_a_child, partner_b
):
    client = api(partner_a_user)
    response = call(
        client,
        "post",
        f"{V1}/users",
        {
            "organisation_id": partner_a_child.pk,
            "email": "shop@alpha.test",
            "full_name": "Shop",
            "roles": ["partner_sales"],
        },
    )
    assert response.status_code == 201, response.content
    response = call(
        client,
        "post",
        f"{V1}/users",
        {"organisation_id": partner_b.pk, "email": "spy@bravo.test", "full_name": "Spy"},
    )
    body = assert_error(response, 422, field="organisation_id")
    assert body["fields"]["organisation_id"] == ["Unknown organisation."]
    assert not User.objects.filter(email="spy@bravo.test").exists()


def test_update_user_roles_and_deactivation_revokes_tokens(api, partner_a_user, partner_a_viewer):
    _, raw = create_api_token(actor=None, user=partner_a_viewer, name="script")
    client = api(partner_a_user)
    path = f"{V1}/users/{partner_a_viewer.pk}"
    response = call(client, "patch", path, {"roles": ["partner_sales"], "full_name": "Viewer"})
    assert response.status_code == 200, response.content
    assert response.json()["roles"] == ["partner_sales"]
    assert response.json()["full_name"] == "Viewer"
    response = call(client, "patch", path, {"is_active": False})
    assert response.json()["is_active"] is False
    viewer = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert_error(viewer.get(f"{V1}/me"), 401, "unauthenticated")


def test_nobody_deactivates_themselves(api, vendor_admin):
    response = call(
        api(vendor_admin), "patch", f"{V1}/users/{vendor_admin.pk}", {"is_active": False}
    )
    assert_error(response, 422, field="is_active")


def test_nobody_grants_what_they_do_not_hold(api, partner_a_user, partner_a_viewer):
    response = call(
        api(partner_a_user), "patch", f"{V1}/users/{partner_a_viewer.pk}", {"roles": ["emperor"]}
    )
    assert_error(response, 422, field="roles")


# -- me -------------------------------------------------------------------------------
def test_me_for_a_partner(api, partner_a_viewer, partner_a):
    body = api(partner_a_viewer).get(f"{V1}/me").json()
    assert body["email"] == partner_a_viewer.email
    assert body["organisation"] == {"id": partner_a.pk, "name": partner_a.name, "is_vendor": False}
    assert body["roles"] == [{"code": "partner_viewer", "name": "Partner viewer"}]
    assert body["access_scope"] == "organisation"
    assert body["is_partner"] is True
    assert "partners.view_organisation" in body["permissions"]
    assert body["permissions"] == sorted(body["permissions"])


def test_me_for_vendor_staff(api, regional_coordinator, login):
    body = api(regional_coordinator).get(f"{V1}/me").json()
    assert (body["access_scope"], body["territories"]) == ("territory", ["cn-east"])
    # The browser session works as well as a token.
    assert login(regional_coordinator).get(f"{V1}/me").json()["id"] == regional_coordinator.pk


def test_me_needs_authentication():
    response = Client().get(f"{V1}/me")
    assert_error(response, 401, "unauthenticated")
    assert response["WWW-Authenticate"] == "Bearer"
    response = Client(HTTP_AUTHORIZATION="Bearer acc_nope_nope").get(f"{V1}/me")
    assert_error(response, 401)


# -- tokens ---------------------------------------------------------------------------
def test_token_lifecycle(api, partner_a_viewer):
    client = api(partner_a_viewer)
    response = call(client, "post", f"{V1}/tokens", {"name": "ERP sync"})
    assert response.status_code == 201, response.content
    created = response.json()
    raw = created["token"]
    assert raw.startswith(f"acc_{created['prefix']}_")
    assert "key_hash" not in created
    token = ApiToken.objects.get(pk=created["id"])
    assert raw not in (token.key_hash, token.prefix)

    listed = client.get(f"{V1}/tokens").json()["items"]
    assert {item["name"] for item in listed} == {"test", "ERP sync"}
    assert all("token" not in item and "key_hash" not in item for item in listed)

    machine = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert machine.get(f"{V1}/me").status_code == 200
    assert client.delete(f"{V1}/tokens/{created['id']}").status_code == 204
    assert_error(machine.get(f"{V1}/me"), 401)
    # Revoking twice is harmless.
    assert client.delete(f"{V1}/tokens/{created['id']}").status_code == 204
    revoked = [i for i in client.get(f"{V1}/tokens").json()["items"] if i["id"] == created["id"]]
    assert revoked[0]["is_active"] is False and revoked[0]["revoked_at"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "t", "expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "t", "expires_at": "2099-01-01T00:00:00"}, "expires_at"),  # no offset
        ({"name": "t", "expires_at": "9999-12-31T23:59:59-23:59"}, "expires_at"),
        ({"name": "t", "expires_at": "tomorrow"}, "expires_at"),
        ({"name": "t", "user_id": 424242}, "user_id"),
    ],
)
def test_token_create_rejects_bad_input(api, partner_a_user, payload, field):
    client = api(partner_a_user)
    before = fingerprint()
    assert_error(call(client, "post", f"{V1}/tokens", payload), 422, field=field)
    assert fingerprint() == before


def test_token_with_expiry(api, partner_a_user):
    expires = (timezone.now() + dt.timedelta(days=30)).replace(microsecond=0)
    response = call(
        api(partner_a_user),
        "post",
        f"{V1}/tokens",
        {"name": "temp", "expires_at": expires.isoformat()},
    )
    assert response.status_code == 201
    assert ApiToken.objects.get(pk=response.json()["id"]).expires_at == expires


def test_admins_see_and_revoke_tokens_of_users_they_administer(
    api, partner_a_user, partner_a_viewer, partner_b_user
):
    viewer_token, _ = create_api_token(actor=None, user=partner_a_viewer, name="viewer's")
    b_token, _ = create_api_token(actor=None, user=partner_b_user, name="bravo's")
    admin = api(partner_a_user)
    listed = admin.get(f"{V1}/tokens?user_id={partner_a_viewer.pk}").json()["items"]
    assert [item["id"] for item in listed] == [viewer_token.pk]
    # Another organisation's user: nothing to see, and nothing to revoke.
    assert admin.get(f"{V1}/tokens?user_id={partner_b_user.pk}").json()["items"] == []
    before = fingerprint()
    assert_error(admin.delete(f"{V1}/tokens/{b_token.pk}"), 404)
    assert fingerprint() == before
    assert admin.delete(f"{V1}/tokens/{viewer_token.pk}").status_code == 204
    viewer_token.refresh_from_db()
    assert viewer_token.revoked_at is not None


def test_admin_creates_a_token_for_a_user_it_administers(api, partner_a_user, partner_a_viewer):
    response = call(
        api(partner_a_user),
        "post",
        f"{V1}/tokens",
        {"name": "for the viewer", "user_id": partner_a_viewer.pk},
    )
    assert response.status_code == 201, response.content
    assert response.json()["user_id"] == partner_a_viewer.pk


def test_ordinary_users_touch_only_their_own_tokens(api, partner_a_viewer, partner_a_user):
    admin_token, _ = create_api_token(actor=None, user=partner_a_user, name="admin's")
    viewer = api(partner_a_viewer)
    assert viewer.get(f"{V1}/tokens?user_id={partner_a_user.pk}").json()["items"] == []
    before = fingerprint()
    assert_error(viewer.delete(f"{V1}/tokens/{admin_token.pk}"), 404)
    response = call(viewer, "post", f"{V1}/tokens", {"name": "x", "user_id": partner_a_user.pk})
    assert_error(response, 422, field="user_id")
    assert fingerprint() == before


def test_token_list_query_count(api, vendor_admin, django_assert_max_num_queries):
    for index in range(15):
        create_api_token(actor=None, user=vendor_admin, name=f"t{index}")
    client = api(vendor_admin)
    with django_assert_max_num_queries(6):
        assert client.get(f"{V1}/tokens").json()["count"] == 16


def test_user_list_query_count(api, vendor_admin, partner_a, django_assert_max_num_queries):
    for _ in range(15):
        UserFactory(organisation=partner_a, roles=["partner_sales"])
    client = api(vendor_admin)
    with django_assert_max_num_queries(7):
        assert client.get(f"{V1}/users").json()["count"] == 16
