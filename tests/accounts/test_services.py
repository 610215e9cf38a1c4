"""Users, roles, API tokens and the login throttle."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from accord.accounts import services
from accord.accounts.models import ApiToken, Role, User
from accord.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_passwords_are_hashed_with_argon2(partner_a_user, settings):
    from accord import settings as production

    assert production.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS
    partner_a_user.set_password("another-long-passphrase")
    assert partner_a_user.password.startswith("argon2")
    assert partner_a_user.check_password("another-long-passphrase")


def test_roles_exist_for_vendor_and_partner_staff():
    codes = set(Role.objects.values_list("code", flat=True))
    assert {
        "administrator",
        "executive",
        "channel_manager",
        "partner_account_manager",
        "regional_coordinator",
        "commercial_manager",
        "service_delivery_manager",
        "transformation_manager",
        "analyst",
        "partner_admin",
        "partner_sales",
        "partner_viewer",
    } <= codes


def test_role_permissions_name_real_permissions():
    from django.contrib.auth.models import Permission

    real = {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Permission.objects.select_related("content_type")
    }
    for role in Role.objects.all():
        assert set(role.permissions) <= real, role.code


def test_partner_admin_creates_a_colleague_with_partner_roles(partner_a_user, partner_a):
    user = services.create_user(
        actor=partner_a_user,
        organisation=partner_a,
        data={"email": "New@Alpha.test", "full_name": "New"},
        roles=["partner_sales"],
    )
    assert user.email == "new@alpha.test"
    assert user.organisation == partner_a
    assert not user.has_usable_password()
    actions = list(AuditEntry.objects.for_object(user).values_list("action", flat=True))
    assert sorted(actions) == ["create", "update"]


def test_partner_admin_cannot_hand_out_vendor_roles(partner_a_user, partner_a):
    with pytest.raises(ValidationError) as error:
        services.create_user(
            actor=partner_a_user,
            organisation=partner_a,
            data={"email": "x@alpha.test", "full_name": "X"},
            roles=["administrator"],
        )
    assert "roles" in error.value.message_dict
    assert not User.objects.filter(email="x@alpha.test").exists()


def test_partner_admin_cannot_create_users_elsewhere(partner_a_user, partner_b):
    with pytest.raises(Http404):
        services.create_user(
            actor=partner_a_user,
            organisation=partner_b,
            data={"email": "x@bravo.test", "full_name": "X"},
        )
    assert not User.objects.filter(email="x@bravo.test").exists()


def test_nobody_grants_more_than_they_hold(channel_manager, vendor):
    with pytest.raises(PermissionDenied):
        services.create_user(
            actor=channel_manager,
            organisation=vendor,
            data={"email": "y@vendor.test", "full_name": "Y"},
            roles=["administrator"],
        )


def test_duplicate_email_and_weak_password_are_field_errors(vendor_admin, vendor):
    with pytest.raises(ValidationError) as error:
        services.create_user(
            actor=vendor_admin,
            organisation=vendor,
            data={"email": "ADMIN@vendor.test", "full_name": "Dup"},
        )
    assert "email" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.create_user(
            actor=vendor_admin,
            organisation=vendor,
            data={"email": "weak@vendor.test", "full_name": "W"},
            password="12345678",
        )
    assert not User.objects.filter(email="weak@vendor.test").exists()


def test_token_is_shown_once_stored_hashed_and_authenticates(partner_a_user):
    token, raw = services.create_api_token(
        actor=partner_a_user, user=partner_a_user, name="ERP sync"
    )
    stored = ApiToken.objects.get(pk=token.pk)
    assert raw.startswith(f"acc_{stored.prefix}_")
    assert raw not in {stored.key_hash, stored.prefix, stored.name}
    assert stored.last_used_at is None
    assert services.authenticate_token(raw) == partner_a_user
    stored.refresh_from_db()
    assert stored.last_used_at is not None


@pytest.mark.parametrize(
    "raw", ["", "acc", "acc__", "Bearer x", "acc_deadbeef_wrong", "x" * 5000, "acc_\x00_\x00"]
)
def test_malformed_tokens_do_not_authenticate(raw, partner_a_user):
    services.create_api_token(actor=None, user=partner_a_user, name="t")
    assert services.authenticate_token(raw) is None


def test_revoked_expired_and_deactivated_tokens_stop_working(partner_a_user, vendor_admin):
    token, raw = services.create_api_token(actor=None, user=partner_a_user, name="t")
    services.revoke_api_token(actor=partner_a_user, token=token)
    assert services.authenticate_token(raw) is None

    token, raw = services.create_api_token(actor=None, user=partner_a_user, name="t2")
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(1))
    assert services.authenticate_token(raw) is None

    _, raw = services.create_api_token(actor=None, user=partner_a_user, name="t3")
    services.update_user(actor=vendor_admin, user=partner_a_user, data={"is_active": False})
    assert services.authenticate_token(raw) is None


def test_other_partner_cannot_revoke_my_token(partner_a_user, partner_b_user):
    token, raw = services.create_api_token(actor=None, user=partner_a_user, name="t")
    with pytest.raises(Http404):
        services.revoke_api_token(actor=partner_b_user, token=token)
    assert services.authenticate_token(raw) == partner_a_user


def test_token_needs_a_name_and_a_future_expiry(partner_a_user):
    with pytest.raises(ValidationError):
        services.create_api_token(actor=partner_a_user, user=partner_a_user, name="  ")
    with pytest.raises(ValidationError):
        services.create_api_token(
            actor=partner_a_user,
            user=partner_a_user,
            name="x",
            expires_at=timezone.now() - dt.timedelta(seconds=1),
        )


def test_login_throttle_counts_failures_per_email(settings):
    settings.ACCORD_LOGIN_MAX_FAILURES = 3
    for _ in range(2):
        services.register_login_failure("a@x.test", "10.0.0.1")
    assert not services.login_throttled("a@x.test", "10.0.0.1")
    services.register_login_failure("A@x.test", "10.0.0.2")
    assert services.login_throttled("a@x.test", "10.0.0.3")
    assert not services.login_throttled("b@x.test", "10.0.0.3")
    services.clear_login_failures("a@x.test", "10.0.0.1")
    assert not services.login_throttled("a@x.test", "10.0.0.9")


def test_login_throttle_also_limits_one_client_trying_many_emails(settings):
    settings.ACCORD_LOGIN_MAX_FAILURES = 2
    for n in range(8):
        services.register_login_failure(f"u{n}@x.test", "10.0.0.7")
    assert services.login_throttled("fresh@x.test", "10.0.0.7")
    assert not services.login_throttled("fresh@x.test", "10.0.0.8")


def test_the_audit_log_never_holds_password_hashes_or_token_hashes(vendor_admin, vendor):
    user = services.create_user(
        actor=vendor_admin,
        organisation=vendor,
        data={"email": "secret@vendor.test", "full_name": "S"},
        password="a-long-and-unusual-passphrase",
        roles=["analyst"],
    )
    token, _raw = services.create_api_token(actor=user, user=user, name="t")
    services.update_user(actor=vendor_admin, user=user, data={"full_name": "Sam"})
    for entry in AuditEntry.objects.all():
        text = str(entry.changes)
        assert "password" not in entry.changes and "key_hash" not in entry.changes
        assert user.password not in text and token.key_hash not in text
