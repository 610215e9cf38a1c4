"""Fixtures for the demo network tests: a cheap password hasher (the demo hashes once)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings: Any) -> None:
    # Logging in as each of the twelve demo users would cost half a second of Argon2 each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
