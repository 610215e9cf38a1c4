"""Writes for users, roles and API tokens, and the login throttle."""

from __future__ import annotations

import datetime as dt
import hmac
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.accounts.models import TOKEN_PREFIX, ApiToken, Role, User, hash_token
from accord.core.errors import ValidationError
from accord.core.models import AuditEntry
from accord.core.services import (
    apply_changes,
    create_audited,
    ensure_model_permitted,
    ensure_permitted,
    record,
)
from accord.partners.models import Organisation, Territory

USER_FIELDS = frozenset({"email", "full_name", "language", "is_active"})


def _resolve_roles(organisation: Organisation, codes: Iterable[str]) -> list[Role]:
    codes = sorted(set(codes))
    roles = list(Role.objects.filter(code__in=codes))
    missing = set(codes) - {r.code for r in roles}
    if missing:
        raise ValidationError({"roles": [_("Unknown role: %s") % ", ".join(sorted(missing))]})
    wrong = [r.code for r in roles if r.for_partners == organisation.is_vendor]
    if wrong:
        raise ValidationError(
            {
                "roles": [
                    _("These roles do not fit this organisation's users: %s") % ", ".join(wrong)
                ]
            }
        )
    return roles


def _set_roles(actor: Any, user: User, roles: list[Role]) -> None:
    if actor is not None and not actor.is_superuser:
        # Nobody hands out permissions they do not hold themselves.
        granted = set().union(*(set(r.permissions) for r in roles)) if roles else set()
        if not granted <= set(actor.permission_set):
            raise ValidationError({"roles": [_("You cannot grant permissions you do not hold.")]})
    before = sorted(user.roles.values_list("code", flat=True))
    after = sorted(r.code for r in roles)
    if before != after:
        user.roles.set(roles)
        user.__dict__.pop("role_list", None)
        user.__dict__.pop("permission_set", None)
        user.__dict__.pop("access_scope", None)
        record(
            actor=actor,
            obj=user,
            action=AuditEntry.Action.UPDATE,
            changes={"roles": [before, after]},
        )


def _set_territories(actor: Any, user: User, territories: Iterable[Territory]) -> None:
    territories = list(territories)
    before = sorted(user.territories.values_list("code", flat=True))
    after = sorted(t.code for t in territories)
    if before != after:
        user.territories.set(territories)
        record(
            actor=actor,
            obj=user,
            action=AuditEntry.Action.UPDATE,
            changes={"territories": [before, after]},
        )


@transaction.atomic(durable=True)
def create_user(
    *,
    actor: Any,
    organisation: Organisation,
    data: Mapping[str, Any],
    roles: Iterable[str] = (),
    password: str | None = None,
    territories: Iterable[Territory] = (),
) -> User:
    ensure_permitted(actor, "view", organisation)
    ensure_model_permitted(actor, "add", User)
    unknown = set(data) - USER_FIELDS
    if unknown:
        raise ValidationError({name: [_("This field cannot be set here.")] for name in unknown})
    email = str(data.get("email", "")).strip().lower()
    if User.objects.filter(email=email).exists():
        raise ValidationError({"email": [_("A user with this e-mail address already exists.")]})
    user = User(organisation=organisation, **{**data, "email": email})
    if password:
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise ValidationError({"password": error.messages}) from error
        user.set_password(password)
    else:
        user.set_unusable_password()
    create_audited(actor=actor, obj=user)
    _set_roles(actor, user, _resolve_roles(organisation, roles))
    _set_territories(actor, user, territories)
    return user


@transaction.atomic(durable=True)
def update_user(
    *,
    actor: Any,
    user: User,
    data: Mapping[str, Any],
    roles: Iterable[str] | None = None,
    territories: Iterable[Territory] | None = None,
) -> User:
    ensure_permitted(actor, "change", user)
    unknown = set(data) - USER_FIELDS
    if unknown:
        raise ValidationError({name: [_("This field cannot be set here.")] for name in unknown})
    if "email" in data:
        email = str(data["email"]).strip().lower()
        if User.objects.filter(email=email).exclude(pk=user.pk).exists():
            raise ValidationError({"email": [_("A user with this e-mail address already exists.")]})
        data = {**data, "email": email}
    if actor is not None and actor.pk == user.pk and data.get("is_active") is False:
        raise ValidationError({"is_active": [_("You cannot deactivate yourself.")]})
    apply_changes(actor=actor, obj=user, data=data)
    if roles is not None:
        _set_roles(actor, user, _resolve_roles(user.organisation, roles))
    if territories is not None:
        _set_territories(actor, user, territories)
    if data.get("is_active") is False:
        # A deactivated user's tokens stop working at once.
        user.api_tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
    return user


@transaction.atomic(durable=True)
def create_api_token(
    *, actor: Any, user: User, name: str, expires_at: dt.datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns it with the raw secret, which is never stored."""
    if actor is not None and actor.pk != user.pk:
        ensure_permitted(actor, "change", user)
    if actor is not None:
        ensure_model_permitted(actor, "add", ApiToken)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [_("Give the token a name.")]})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": [_("The expiry must be in the future.")]})
    prefix, raw = ApiToken.generate()
    token = ApiToken(
        user=user, name=name[:100], prefix=prefix, key_hash=hash_token(raw), expires_at=expires_at
    )
    token.save()
    record(
        actor=actor,
        obj=token,
        action=AuditEntry.Action.CREATE,
        changes={"name": [None, token.name], "user": [None, user.email]},
    )
    return token, raw


@transaction.atomic(durable=True)
def revoke_api_token(*, actor: Any, token: ApiToken) -> ApiToken:
    if actor is None or actor.pk != token.user_id:
        ensure_permitted(actor, "delete", token)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record(
            actor=actor,
            obj=token,
            action=AuditEntry.Action.REVOKE,
            changes={"revoked_at": [None, token.revoked_at.isoformat()]},
        )
    return token


LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
TOKEN_ID = re.compile(r"[0-9a-f]{8}")


def authenticate_token(raw: str) -> User | None:
    """The active user behind a raw bearer token, or None. Records last use (coarsely)."""
    parts = (raw or "").strip().split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not TOKEN_ID.fullmatch(parts[1]):
        return None
    token = (
        ApiToken.objects.usable()
        .select_related("user__organisation")
        .filter(prefix=parts[1])
        .first()
    )
    if token is None or not hmac.compare_digest(token.key_hash, hash_token(raw.strip())):
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        # One write a minute at most, not one per request.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def _throttle_keys(email: str, client: str) -> list[str]:
    return [f"login-fail:email:{email.strip().lower()}", f"login-fail:client:{client}"]


def login_throttled(email: str, client: str) -> bool:
    """True while this e-mail (or, more loosely, this client address) failed too often."""
    email_key, client_key = _throttle_keys(email, client)
    limit = settings.ACCORD_LOGIN_MAX_FAILURES
    return cache.get(email_key, 0) >= limit or cache.get(client_key, 0) >= limit * 4


def register_login_failure(email: str, client: str) -> None:
    for key in _throttle_keys(email, client):
        if not cache.add(key, 1, settings.ACCORD_LOGIN_WINDOW_SECONDS):
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, settings.ACCORD_LOGIN_WINDOW_SECONDS)


def clear_login_failures(email: str, client: str) -> None:
    cache.delete(_throttle_keys(email, client)[0])
