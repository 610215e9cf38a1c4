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
        User.objects.restrict(user, "view")
        .select_related("organisation")
        .prefetch_related("roles")
        .order_by("organisation__name", "email")
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


# -- API reads -------------------------------------------------------------------
def search_users(
    user: Any,
    *,
    organisation: int | None = None,
    role: str | None = None,
    is_active: bool | None = None,
    q: str | None = None,
) -> models.QuerySet[User]:
    """Users ``user`` may see (needs accounts.view_user), filtered, with roles and
    territories prefetched."""
    queryset = (
        User.objects.restrict(user, "view")
        .select_related("organisation")
        .prefetch_related(
            models.Prefetch("roles", queryset=Role.objects.order_by("code")),
            "territories",
        )
    )
    if organisation is not None:
        queryset = queryset.filter(organisation_id=organisation)
    if role:
        queryset = queryset.filter(roles__code=role)
    if is_active is not None:
        queryset = queryset.filter(is_active=is_active)
    if q:
        queryset = queryset.filter(Q(email__icontains=q) | Q(full_name__icontains=q))
    return queryset.order_by("email", "pk")


def get_user_detail(user: Any, pk: int) -> User:
    """One user ``user`` may see, with roles and territories, else 404."""
    try:
        return search_users(user).get(pk=pk)
    except User.DoesNotExist as error:
        raise Http404 from error


def find_user(user: Any, pk: int | None) -> User | None:
    """The visible user ``pk`` referenced from a request body, else None."""
    if pk is None:
        return None
    return User.objects.restrict(user, "view").select_related("organisation").filter(pk=pk).first()


def get_me(user: Any) -> User:
    """The caller, with organisation, roles and territories loaded."""
    return (
        User.objects.select_related("organisation")
        .prefetch_related(models.Prefetch("roles", queryset=Role.objects.order_by("code")))
        .prefetch_related("territories")
        .get(pk=user.pk)
    )


def search_tokens(user: Any, *, user_id: int | None = None) -> models.QuerySet[ApiToken]:
    """The caller's own tokens; with ``user_id``, that user's tokens if the caller may see
    them (their own always, others' with accounts.view_apitoken)."""
    if user_id is None or user_id == user.pk:
        queryset = list_own_tokens(user)
    else:
        queryset = ApiToken.objects.restrict(user, "view").filter(user_id=user_id)
    return queryset.select_related("user").order_by("-created_at", "-pk")


def get_token(user: Any, pk: int) -> ApiToken:
    """A token of the caller, or one they may see through restrict(); else 404."""
    queryset = ApiToken.objects.select_related("user")
    token = (
        queryset.filter(user_id=user.pk, pk=pk).first()
        or queryset.restrict(user, "view").filter(pk=pk).first()
    )
    if token is None:
        raise Http404
    return token
