"""Reads of accord.accounts: users through ``restrict()``, a user's own API tokens, roles."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q

from accord.accounts.models import ApiToken, Role, User
from accord.core.errors import Http404, PermissionDenied
from accord.partners.models import Organisation


def list_own_tokens(user: Any) -> models.QuerySet[ApiToken]:
    """The tokens of ``user`` themselves, newest first (owning a token is the permission)."""
    if not getattr(user, "is_authenticated", False):
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user_id=user.pk).order_by("-created_at", "-pk")


def get_own_token(user: Any, pk: Any) -> ApiToken:
    try:
        return list_own_tokens(user).get(pk=pk)
    except (ApiToken.DoesNotExist, ValueError, TypeError, OverflowError) as error:
        raise Http404 from error


def list_users(user: Any, *, q: str = "") -> models.QuerySet[User]:
    queryset = (
        User.objects.restrict(user, "view").select_related("organisation")
        .prefetch_related("roles").order_by("organisation__name", "email")
    )
    if q:
        queryset = queryset.filter(
            Q(email__icontains=q) | Q(full_name__icontains=q) | Q(organisation__name__icontains=q)
        )
    return queryset


def get_user(user: Any, pk: Any, action: str = "view") -> User:
    """A user ``user`` may see: 404 when hidden, 403 when seen but ``action`` is not allowed."""
    queryset = User.objects.select_related("organisation").prefetch_related("roles", "territories")
    try:
        found = queryset.restrict(user, "view").get(pk=pk)
    except (User.DoesNotExist, ValueError, TypeError, OverflowError) as error:
        raise Http404 from error
    if action != "view" and not User.objects.restrict(user, action).filter(pk=found.pk).exists():
        raise PermissionDenied
    return found


def user_organisation_choices(user: Any) -> models.QuerySet[Organisation]:
    """Organisations ``user`` may create users in: those they see."""
    return Organisation.objects.restrict(user, "view").order_by("-is_vendor", "name")


def role_choices(for_partners: bool | None = None) -> models.QuerySet[Role]:
    queryset = Role.objects.order_by("for_partners", "name")
    if for_partners is not None:
        queryset = queryset.filter(for_partners=for_partners)
    return queryset
