"""Shared fixtures: the vendor and two partners with staff of every kind (STYLE.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.test import Client

from accord.accounts.models import User
from accord.accounts.services import create_api_token
from accord.partners.models import Organisation, Territory, TerritoryAssignment
from tests.factories import OrganisationFactory, TerritoryFactory, UserFactory

PASSWORD = "correct-horse-battery"
ARGON2 = "django.contrib.auth.hashers.Argon2PasswordHasher"


def pytest_configure(config: pytest.Config) -> None:
    # Argon2 is deliberately slow (~0.1 s a hash); tests that are not about hashing use a
    # fast hasher. tests/accounts/test_services.py checks that production uses Argon2.
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", ARGON2]


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _english_after_each_test() -> Iterator[None]:
    """A request in Chinese leaves the thread's language active: reset it after each test."""
    from django.utils import translation

    yield
    translation.activate("en")


@pytest.fixture
def vendor(db: None) -> Organisation:
    return Organisation.objects.vendor()


@pytest.fixture
def east(db: None) -> Territory:
    group = TerritoryFactory(code="asia", name="Asia", level=Territory.Level.GROUP)
    return TerritoryFactory(code="cn-east", name="China East", parent=group)


@pytest.fixture
def partner_a(db: None, east: Territory) -> Organisation:
    organisation = OrganisationFactory(name="Alpha Distribution", kind="distributor")
    TerritoryAssignment.objects.create(organisation=organisation, territory=east, exclusive=True)
    return organisation


@pytest.fixture
def partner_a_child(partner_a: Organisation) -> Organisation:
    return OrganisationFactory(name="Alpha Retail Shanghai", kind="retailer", parent=partner_a)


@pytest.fixture
def partner_b(db: None) -> Organisation:
    return OrganisationFactory(name="Bravo Resellers", kind="reseller", country="DE")


def _user(organisation: Organisation, email: str, *roles: str) -> User:
    user = UserFactory(organisation=organisation, email=email, roles=list(roles))
    return User.objects.select_related("organisation").get(pk=user.pk)


@pytest.fixture
def vendor_admin(vendor: Organisation) -> User:
    return _user(vendor, "admin@vendor.test", "administrator")


@pytest.fixture
def channel_manager(vendor: Organisation) -> User:
    return _user(vendor, "channel@vendor.test", "channel_manager")


@pytest.fixture
def analyst(vendor: Organisation) -> User:
    return _user(vendor, "analyst@vendor.test", "analyst")


@pytest.fixture
def regional_coordinator(vendor: Organisation, east: Territory) -> User:
    user = _user(vendor, "coordinator@vendor.test", "regional_coordinator")
    user.territories.set([east])
    return user


@pytest.fixture
def partner_a_user(partner_a: Organisation) -> User:
    return _user(partner_a, "admin@alpha.test", "partner_admin")


@pytest.fixture
def partner_a_viewer(partner_a: Organisation) -> User:
    return _user(partner_a, "viewer@alpha.test", "partner_viewer")


@pytest.fixture
def partner_b_user(partner_b: Organisation) -> User:
    return _user(partner_b, "admin@bravo.test", "partner_admin")


@pytest.fixture
def login() -> Callable[[User | None], Client]:
    """A browser-like client logged in as ``user`` (anonymous for None)."""

    def make(user: User | None) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def api() -> Callable[[User | None], Client]:
    """An API client authenticating with a fresh bearer token of ``user``."""

    def make(user: User | None) -> Client:
        if user is None:
            return Client()
        _, raw = create_api_token(actor=None, user=user, name="test")
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make
