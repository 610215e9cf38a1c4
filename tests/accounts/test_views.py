"""Account pages: login with throttling, logout, password reset and change, tokens, users."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from accord.accounts.models import ApiToken, User
from accord.accounts.services import authenticate_token, create_api_token
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def html(response: Any) -> str:
    return response.content.decode()


# -- login / logout ---------------------------------------------------------------------
def test_login_page_renders(login) -> None:
    body = html(login(None).get("/accounts/login/"))
    assert 'name="username"' in body
    assert 'name="password"' in body
    assert "/accounts/password-reset/" in body


def test_anonymous_is_sent_to_login(login) -> None:
    response = login(None).get("/organisations/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/organisations/"


def test_login_with_email_and_password(login, partner_a_user) -> None:
    client = login(None)
    response = client.post(
        "/accounts/login/", {"username": "ADMIN@alpha.test", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/organisations/"
    assert "Alpha Distribution" in html(client.get("/organisations/"))


def test_login_follows_safe_next_only(login, partner_a_user) -> None:
    response = login(None).post(
        "/accounts/login/?next=/territories/",
        {"username": "admin@alpha.test", "password": PASSWORD, "next": "/territories/"},
    )
    assert response["Location"] == "/territories/"
    response = login(None).post(
        "/accounts/login/",
        {"username": "admin@alpha.test", "password": PASSWORD, "next": "https://evil.test/"},
    )
    assert response["Location"] == "/organisations/"


@pytest.mark.parametrize(
    "data",
    [
        {"username": "admin@alpha.test", "password": "wrong"},
        {"username": "nobody@alpha.test", "password": PASSWORD},
        {"username": "admin@alpha.test\x00", "password": PASSWORD},
        {"username": "admin@alpha.test", "password": "pass\x00word"},
        {"username": "x" * 10000, "password": "y" * 10000},
        {"username": "", "password": ""},
        {},
    ],
)
def test_failed_login_shows_an_error(login, partner_a_user, data) -> None:
    response = login(None).post("/accounts/login/", data)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert "_auth_user_id" not in response.wsgi_request.session


def test_login_is_throttled_after_repeated_failures(login, partner_a_user, settings) -> None:
    client = login(None)
    for _ in range(settings.ACCORD_LOGIN_MAX_FAILURES):
        assert (
            client.post(
                "/accounts/login/", {"username": "admin@alpha.test", "password": "wrong"}
            ).status_code
            == 200
        )
    response = client.post(
        "/accounts/login/", {"username": "admin@alpha.test", "password": PASSWORD}
    )
    assert response.status_code == 429
    assert "Too many failed attempts" in html(response)
    assert "_auth_user_id" not in client.session
    # Another account from the same address is not locked out by these failures.
    User.objects.create_user(
        "other@alpha.test", PASSWORD, full_name="O", organisation=partner_a_user.organisation
    )
    assert (
        client.post(
            "/accounts/login/", {"username": "other@alpha.test", "password": PASSWORD}
        ).status_code
        == 302
    )


def test_successful_login_clears_failures(login, partner_a_user, settings) -> None:
    client = login(None)
    for _ in range(settings.ACCORD_LOGIN_MAX_FAILURES - 1):
        client.post("/accounts/login/", {"username": "admin@alpha.test", "password": "wrong"})
    assert (
        client.post(
            "/accounts/login/", {"username": "admin@alpha.test", "password": PASSWORD}
        ).status_code
        == 302
    )
    client.post("/accounts/logout/")
    for _ in range(settings.ACCORD_LOGIN_MAX_FAILURES - 1):
        client.post("/accounts/login/", {"username": "admin@alpha.test", "password": "wrong"})
    assert (
        client.post(
            "/accounts/login/", {"username": "admin@alpha.test", "password": PASSWORD}
        ).status_code
        == 302
    )


def test_logout_is_post_only(login, partner_a_user) -> None:
    client = login(partner_a_user)
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert client.get("/organisations/").status_code == 302


def test_layout_shows_user_organisation_and_navigation(login, partner_a_user) -> None:
    body = html(login(partner_a_user).get("/organisations/"))
    assert "Alpha Distribution" in body
    assert "admin@alpha.test" in body
    for link in ("/organisations/", "/territories/", "/accounts/tokens/", "/api/docs"):
        assert f'href="{link}"' in body
    assert 'action="/accounts/logout/"' in body
    assert 'action="/i18n/setlang/"' in body


# -- password reset / change -----------------------------------------------------------------
def test_password_reset_flow(login, partner_a_user) -> None:
    client = login(None)
    response = client.post("/accounts/password-reset/", {"email": "admin@alpha.test"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password-reset/sent/"
    assert len(mail.outbox) == 1
    link = re.search(
        r"http://testserver(/accounts/password-reset/[^/]+/[^/]+/)", mail.outbox[0].body
    ).group(1)

    response = client.get(link, follow=True)
    assert response.status_code == 200
    form_url = response.redirect_chain[-1][0]
    response = client.post(
        form_url, {"new_password1": "a-brand-new-secret-9", "new_password2": "a-brand-new-secret-9"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password-reset/complete/"
    partner_a_user.refresh_from_db()
    assert partner_a_user.check_password("a-brand-new-secret-9")


def test_password_reset_does_not_reveal_unknown_addresses(login) -> None:
    response = login(None).post("/accounts/password-reset/", {"email": "nobody@x.test"})
    assert response["Location"] == "/accounts/password-reset/sent/"
    assert mail.outbox == []


@pytest.mark.parametrize("email", ["not-an-email", "a@b.test\x00", "x" * 400 + "@a.test"])
def test_password_reset_bad_input(login, email) -> None:
    response = login(None).post("/accounts/password-reset/", {"email": email})
    assert response.status_code == 200
    assert response.context["form"].errors


def test_password_reset_bad_link(login) -> None:
    response = login(None).get("/accounts/password-reset/Zm9v/bad-token/")
    assert response.status_code == 200
    assert "invalid" in html(response)


def test_password_change(login, partner_a_user) -> None:
    client = login(partner_a_user)
    response = client.post(
        "/accounts/password-change/",
        {
            "old_password": PASSWORD,
            "new_password1": "another-long-secret-7",
            "new_password2": "another-long-secret-7",
        },
    )
    assert response.status_code == 302
    partner_a_user.refresh_from_db()
    assert partner_a_user.check_password("another-long-secret-7")
    response = client.post(
        "/accounts/password-change/",
        {"old_password": "wrong", "new_password1": "short", "new_password2": "short"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors


# -- API tokens ------------------------------------------------------------------------------
def test_token_is_created_and_shown_once(login, partner_a_viewer) -> None:
    client = login(partner_a_viewer)
    response = client.post("/accounts/tokens/", {"name": "ERP sync"})
    assert response.status_code == 200
    raw = response.context["raw_token"]
    assert raw and raw in html(response)
    assert response["Cache-Control"] == "no-store"
    token = ApiToken.objects.get(user=partner_a_viewer)
    assert token.name == "ERP sync"
    assert raw not in (token.key_hash, token.prefix)
    assert authenticate_token(raw) == partner_a_viewer

    listing = html(client.get("/accounts/tokens/"))
    assert "ERP sync" in listing
    assert raw not in listing
    assert token.prefix in listing


def test_token_list_shows_only_own_tokens(login, partner_a_user, partner_a_viewer) -> None:
    create_api_token(actor=None, user=partner_a_viewer, name="viewer-secret-name")
    create_api_token(actor=None, user=partner_a_user, name="admin-own-token")
    body = html(login(partner_a_user).get("/accounts/tokens/"))
    assert "admin-own-token" in body
    assert "viewer-secret-name" not in body


def test_token_revoke(login, partner_a_user, partner_a_viewer) -> None:
    token, raw = create_api_token(actor=None, user=partner_a_user, name="to revoke")
    client = login(partner_a_user)
    response = client.post(f"/accounts/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert authenticate_token(raw) is None
    assert "Revoked" in html(client.get("/accounts/tokens/"))
    assert client.get(f"/accounts/tokens/{token.pk}/revoke/").status_code == 405


def test_cannot_revoke_someone_elses_token(login, partner_a_user, vendor_admin) -> None:
    token, _raw = create_api_token(actor=None, user=partner_a_user, name="mine")
    response = login(vendor_admin).post(f"/accounts/tokens/{token.pk}/revoke/")
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "nul\x00"}, "name"),
        ({"name": "ok", "expires_on": "2000-01-01"}, "expires_on"),
        ({"name": "ok", "expires_on": "9999-12-31"}, "expires_on"),
        ({"name": "ok", "expires_on": "2026-13-45"}, "expires_on"),
    ],
)
def test_token_form_errors(login, partner_a_user, data, field) -> None:
    response = login(partner_a_user).post("/accounts/tokens/", data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_token_with_expiry(login, partner_a_user) -> None:
    expires_on = timezone.localdate() + dt.timedelta(days=30)
    response = login(partner_a_user).post(
        "/accounts/tokens/", {"name": "temp", "expires_on": expires_on.isoformat()}
    )
    assert response.status_code == 200
    token = ApiToken.objects.get()
    assert token.expires_at is not None
    assert timezone.localtime(token.expires_at).date() == expires_on


# -- users ---------------------------------------------------------------------------------
def test_user_list_is_restricted(
    login, vendor_admin, partner_a_user, partner_a_viewer, partner_b_user
) -> None:
    staff = html(login(vendor_admin).get("/accounts/users/"))
    assert "admin@bravo.test" in staff and "viewer@alpha.test" in staff
    partner = html(login(partner_a_user).get("/accounts/users/"))
    assert "viewer@alpha.test" in partner
    assert "admin@bravo.test" not in partner
    assert "admin@vendor.test" not in partner


def test_partner_admin_creates_and_edits_a_user(login, partner_a_user, partner_a) -> None:
    client = login(partner_a_user)
    form = html(client.get("/accounts/users/new/"))
    assert "Partner viewer" in form
    assert "Administrator</label>" not in form  # vendor roles are not offered to partners
    response = client.post(
        "/accounts/users/new/",
        {
            "email": "New.Person@Alpha.test",
            "full_name": "New Person",
            "organisation": partner_a.pk,
            "roles": ["partner_viewer"],
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    created = User.objects.get(email="new.person@alpha.test")
    assert created.organisation == partner_a
    assert [r.code for r in created.roles.all()] == ["partner_viewer"]
    assert not created.has_usable_password()

    response = client.post(
        f"/accounts/users/{created.pk}/edit/",
        {
            "email": "new.person@alpha.test",
            "full_name": "Renamed",
            "roles": ["partner_sales"],
        },
    )
    assert response.status_code == 302
    created.refresh_from_db()
    assert created.full_name == "Renamed"
    assert not created.is_active
    assert [r.code for r in created.roles.all()] == ["partner_sales"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "bad"}, "email"),
        ({"email": "admin@bravo.test"}, "email"),
        ({"roles": ["administrator"]}, "roles"),
        ({"roles": ["no-such-role"]}, "roles"),
        ({"organisation": "999999"}, "organisation"),
        ({"password": "short"}, "password"),
        ({"full_name": "x\x00"}, "full_name"),
    ],
)
def test_user_form_errors(login, partner_a_user, partner_a, partner_b_user, data, field) -> None:
    before = User.objects.count()
    payload = {
        "email": "n@alpha.test",
        "full_name": "N",
        "organisation": partner_a.pk,
        "roles": ["partner_viewer"],
        **data,
    }
    response = login(partner_a_user).post("/accounts/users/new/", payload)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert User.objects.count() == before


def test_partner_admin_cannot_create_users_in_another_organisation(
    login, partner_a_user, partner_b
) -> None:
    response = login(partner_a_user).post(
        "/accounts/users/new/",
        {
            "email": "spy@bravo.test",
            "full_name": "Spy",
            "organisation": partner_b.pk,
            "roles": ["partner_viewer"],
        },
    )
    assert response.status_code == 200
    assert "organisation" in response.context["form"].errors
    assert not User.objects.filter(email="spy@bravo.test").exists()


@pytest.mark.parametrize("size", [2, 30])
def test_user_and_token_lists_query_counts(
    login, vendor_admin, vendor, size, django_assert_max_num_queries
) -> None:
    from tests.factories import UserFactory

    for number in range(size):
        UserFactory(organisation=vendor, email=f"u{number}@vendor.test", roles=["analyst"])
        create_api_token(actor=None, user=vendor_admin, name=f"token {number}")
    client = login(vendor_admin)
    client.get("/accounts/users/")
    with django_assert_max_num_queries(8):
        assert client.get("/accounts/users/").status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get("/accounts/tokens/").status_code == 200


def test_login_applies_the_users_saved_language(login, partner_a_user) -> None:
    partner_a_user.language = "zh-hans"
    partner_a_user.save(update_fields=["language"])
    client = login(None)
    client.post("/accounts/login/", {"username": "admin@alpha.test", "password": PASSWORD})
    assert client.cookies["django_language"].value == "zh-hans"
    assert "<h1>组织</h1>" in html(client.get("/organisations/"))
