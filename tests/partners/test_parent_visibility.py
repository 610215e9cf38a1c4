"""A partner whose parent organisation it cannot see learns nothing about that parent."""

from __future__ import annotations

import pytest

from accord.accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def child_user(partner_a_child) -> User:
    return User.objects.get(
        pk=UserFactory(organisation=partner_a_child, roles=["partner_admin"]).pk
    )


def test_api_hides_an_invisible_parent(
    api, child_user, partner_a, partner_a_child, channel_manager
):
    client = api(child_user)
    body = client.get(f"/api/v1/organisations/{partner_a_child.pk}").json()
    assert body["parent_id"] is None
    listed = client.get("/api/v1/organisations").json()
    assert [row["parent_id"] for row in listed["items"]] == [None]
    assert client.get(f"/api/v1/organisations?parent={partner_a.pk}").json()["count"] == 0

    staff = api(channel_manager).get(f"/api/v1/organisations/{partner_a_child.pk}").json()
    assert staff["parent_id"] == partner_a.pk


def test_api_shows_a_visible_parent(api, partner_a_user, partner_a, partner_a_child):
    client = api(partner_a_user)
    assert client.get(f"/api/v1/organisations/{partner_a_child.pk}").json()["parent_id"] == (
        partner_a.pk
    )
    assert client.get(f"/api/v1/organisations?parent={partner_a.pk}").json()["count"] == 1


def test_page_does_not_name_an_invisible_parent(login, child_user, partner_a, partner_a_child):
    response = login(child_user).get(f"/organisations/{partner_a_child.pk}/")
    assert response.status_code == 200
    assert partner_a.name not in response.content.decode()
