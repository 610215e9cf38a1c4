"""Token and user pages against every kind of user: who may see and change what.

anonymous -> sent to log in; another organisation -> 404 (or a refused form choice);
read-only -> 403; editor and staff -> works. Refused requests change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from accord.accounts.models import ApiToken, User
from accord.accounts.services import create_api_token
from accord.core.models import AuditEntry

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "other", "viewer", "analyst", "editor", "channel", "staff")
LOGIN, OK, INVALID = "login", "ok", "invalid"


@pytest.fixture
def world(
    partner_a,
    partner_b_user,
    partner_a_viewer,
    analyst,
    partner_a_user,
    channel_manager,
    vendor_admin,
) -> dict[str, Any]:
    token, _ = create_api_token(actor=None, user=partner_a_user, name="alpha-token")
    return {
        "partner_a": partner_a,
        "token": token,
        "target": partner_a_viewer,
        "users": {
            "anonymous": None,
            "other": partner_b_user,
            "viewer": partner_a_viewer,
            "analyst": analyst,
            "editor": partner_a_user,
            "channel": channel_manager,
            "staff": vendor_admin,
        },
    }


def db_state() -> tuple[Any, ...]:
    return (
        AuditEntry.objects.count(),
        list(User.objects.order_by("pk").values("pk", "email", "full_name", "is_active")),
        list(ApiToken.objects.order_by("pk").values("pk", "name", "revoked_at")),
    )


@dataclass
class Page:
    name: str
    url: Callable[[dict[str, Any]], str]
    expect: dict[str, Any]
    data: Callable[[dict[str, Any]], dict[str, Any]] | None = None


def expect(**outcomes: Any) -> dict[str, Any]:
    assert set(outcomes) == set(ROLES) - {"anonymous"}
    return {"anonymous": LOGIN, **outcomes}


OWN = expect(other=OK, viewer=OK, analyst=OK, editor=OK, channel=OK, staff=OK)
OWNER_ONLY = expect(other=404, viewer=404, analyst=404, editor=OK, channel=404, staff=404)
USER_ADMINS = expect(other=OK, viewer=403, analyst=403, editor=OK, channel=403, staff=OK)
ALPHA_USER = expect(other=404, viewer=404, analyst=404, editor=OK, channel=404, staff=OK)
CREATE_IN_ALPHA = expect(other=INVALID, viewer=403, analyst=403, editor=OK, channel=403, staff=OK)


def new_user(w: dict[str, Any]) -> dict[str, Any]:
    return {
        "email": "fresh@alpha.test",
        "full_name": "Fresh",
        "roles": ["partner_viewer"],
        "organisation": w["partner_a"].pk,
        "is_active": "on",
    }


def edit_user(w: dict[str, Any]) -> dict[str, Any]:
    return {
        "email": w["target"].email,
        "full_name": "Renamed Viewer",
        "roles": ["partner_viewer"],
        "is_active": "on",
    }


PAGES = [
    Page("token list", lambda w: "/accounts/tokens/", OWN),
    Page("token create", lambda w: "/accounts/tokens/", OWN, data=lambda w: {"name": "new"}),
    Page(
        "token revoke",
        lambda w: f"/accounts/tokens/{w['token'].pk}/revoke/",
        OWNER_ONLY,
        data=lambda w: {},
    ),
    Page("user list", lambda w: "/accounts/users/", USER_ADMINS),
    Page("user create form", lambda w: "/accounts/users/new/", USER_ADMINS),
    Page("user create", lambda w: "/accounts/users/new/", CREATE_IN_ALPHA, data=new_user),
    Page("user detail", lambda w: f"/accounts/users/{w['target'].pk}/", ALPHA_USER),
    Page("user edit form", lambda w: f"/accounts/users/{w['target'].pk}/edit/", ALPHA_USER),
    Page(
        "user edit", lambda w: f"/accounts/users/{w['target'].pk}/edit/", ALPHA_USER, data=edit_user
    ),
    Page("password change", lambda w: "/accounts/password-change/", OWN),
]
CASES = [(page, role) for page in PAGES for role in ROLES]


@pytest.mark.parametrize(
    ("page", "role"), CASES, ids=[f"{page.name}-{role}" for page, role in CASES]
)
def test_account_page_isolation(page: Page, role: str, world: dict[str, Any], login) -> None:
    client = login(world["users"][role])
    url = page.url(world)
    outcome = page.expect[role]
    before = db_state()
    response = client.post(url, page.data(world)) if page.data else client.get(url)
    if outcome == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    elif outcome == OK:
        if page.data is None:
            assert response.status_code == 200
        else:
            assert response.status_code in (200, 302)
            assert db_state() != before
    elif outcome == INVALID:
        assert response.status_code == 200
        assert response.context["form"].errors
    else:
        assert response.status_code == outcome
    if outcome != OK:
        assert db_state() == before


def test_matrix_covers_every_accounts_url() -> None:
    from accord.accounts import urls

    covered = {
        "token_list",
        "token_revoke",
        "user_list",
        "user_create",
        "user_detail",
        "user_edit",
        "password_change",
        # public or flow pages, tested in test_views.py
        "login",
        "logout",
        "password_reset",
        "password_reset_done",
        "password_reset_confirm",
        "password_reset_complete",
        "password_change_done",
    }
    assert {pattern.name for pattern in urls.urlpatterns} == covered
