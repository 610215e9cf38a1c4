"""Organisation, contact, agreement and territory pages: rendering, filtering, forms, writes."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings: Any) -> None:
    # The fixtures create many users; Argon2 would spend seconds hashing their passwords.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_smoke(login, vendor_admin, partner_a, partner_a_child, partner_b):
    client = login(vendor_admin)
    for url in ["/", "/organisations/", f"/organisations/{partner_a.pk}/",
                "/organisations/new/", f"/organisations/{partner_a.pk}/edit/", "/territories/"]:
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
    for tab in ["profile", "contacts", "territories", "agreements", "history"]:
        response = client.get(f"/organisations/{partner_a.pk}/?tab={tab}")
        assert response.status_code == 200
