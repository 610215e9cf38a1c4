"""Users (e-mail login, one organisation each), roles as data, and hashed API tokens."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any, ClassVar

from django.apps import apps
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from accord.core.models import (
    SCOPE_ALL,
    SCOPE_NONE,
    SCOPE_ORGANISATION,
    SCOPE_TERRITORY,
    OrganisationOwned,
    RestrictedQuerySet,
)
from accord.partners.models import within_path


class Role(models.Model):
    """A named bundle of permissions with a row scope; assigned to users."""

    class Scope(models.TextChoices):
        ALL = SCOPE_ALL, _("All organisations")
        TERRITORY = SCOPE_TERRITORY, _("Organisations in the user's territories")
        ORGANISATION = SCOPE_ORGANISATION, _("The user's own organisation")

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    for_partners = models.BooleanField(
        _("partner role"), default=False, help_text=_("Held by partner staff, not vendor staff.")
    )
    scope = models.CharField(_("scope"), max_length=20, choices=Scope.choices)
    permissions = models.JSONField(
        _("permissions"),
        default=list,
        help_text=_('Permission names such as "partners.view_organisation".'),
    )

    class Meta:
        ordering = ["for_partners", "name"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self) -> str:
        return str(self.display_name)

    @property
    def display_name(self) -> str:
        from accord.accounts.roles import ROLE_LABELS

        return ROLE_LABELS.get(self.code, self.name)


class UserManager(BaseUserManager.from_queryset(RestrictedQuerySet)):  # type: ignore[misc]
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        if "organisation" not in fields and "organisation_id" not in fields:
            fields["organisation"] = apps.get_model("partners", "Organisation").objects.vendor()
        fields.setdefault("full_name", email.split("@")[0])
        return self.create_user(email, password, is_superuser=True, is_staff=True, **fields)


class User(AbstractBaseUser, OrganisationOwned):
    """A person who logs in. Belongs to exactly one organisation: the vendor or a partner."""

    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150)
    organisation = models.ForeignKey(
        "partners.Organisation",
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="users",
    )
    roles = models.ManyToManyField(Role, verbose_name=_("roles"), blank=True, related_name="users")
    territories = models.ManyToManyField(
        "partners.Territory",
        verbose_name=_("territories"),
        blank=True,
        related_name="coordinators",
        help_text=_("For regional coordinators: the regions they coordinate."),
    )
    language = models.CharField(_("language"), max_length=10, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("Django admin access"), default=False)
    is_superuser = models.BooleanField(_("superuser"), default=False)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["full_name"]

    objects = UserManager()

    class Meta:
        ordering = ["email"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.email.lower()

    # -- permissions: roles are the only source ------------------------------
    @cached_property
    def role_list(self) -> list[Role]:
        return list(self.roles.all()) if self.pk else []

    @cached_property
    def permission_set(self) -> frozenset[str]:
        perms: set[str] = set()
        for role in self.role_list:
            perms.update(role.permissions)
        return frozenset(perms)

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        if not self.is_active:
            return False
        return self.is_superuser or perm in self.permission_set

    def has_perms(self, perm_list: Any, obj: Any = None) -> bool:
        return all(self.has_perm(p, obj) for p in perm_list)

    def has_module_perms(self, app_label: str) -> bool:
        if not self.is_active:
            return False
        return self.is_superuser or any(p.startswith(f"{app_label}.") for p in self.permission_set)

    def get_all_permissions(self, obj: Any = None) -> set[str]:
        return set(self.permission_set)

    @property
    def is_partner(self) -> bool:
        return not self.organisation.is_vendor

    @cached_property
    def access_scope(self) -> str:
        """Which rows this user reaches: all, their territories', or their organisation's."""
        if self.is_superuser and not self.is_partner:
            return SCOPE_ALL
        if self.is_partner:
            # Partner staff never see past their own organisation, whatever role they hold.
            return SCOPE_ORGANISATION
        scopes = {role.scope for role in self.role_list}
        if SCOPE_ALL in scopes:
            return SCOPE_ALL
        if SCOPE_TERRITORY in scopes:
            return SCOPE_TERRITORY
        return SCOPE_NONE

    def visible_organisation_ids(self) -> models.QuerySet:
        """A subquery of the organisation ids within this user's scope."""
        organisation_model = apps.get_model("partners", "Organisation")
        organisations = organisation_model.objects.all()
        if self.access_scope == SCOPE_ORGANISATION:
            return organisations.filter(within_path(self.organisation.path)).values("pk")
        if self.access_scope == SCOPE_TERRITORY:
            # Straight from the assignments: no join back to the organisation table.
            assignment_model = apps.get_model("partners", "TerritoryAssignment")
            territory_model = apps.get_model("partners", "Territory")
            territory_ids = territory_model.objects.within(self.territories.all()).values("pk")
            return assignment_model.objects.filter(territory__in=territory_ids).values(
                "organisation_id"
            )
        if self.access_scope == SCOPE_ALL:
            return organisations.values("pk")
        return organisations.none().values("pk")


TOKEN_PREFIX = "acc"


def hash_token(raw: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough; no password-style stretching.
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenQuerySet(RestrictedQuerySet):
    def usable(self) -> ApiTokenQuerySet:
        now = timezone.now()
        return self.filter(revoked_at__isnull=True, user__is_active=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiToken(OrganisationOwned):
    """A bearer token for machines. Only its hash is stored; the secret is shown once."""

    organisation_field = "user__organisation"

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = models.Manager.from_queryset(ApiTokenQuerySet)()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and (
            self.expires_at is None or self.expires_at > timezone.now()
        )

    @staticmethod
    def generate() -> tuple[str, str]:
        """A new ``(prefix, raw_token)`` pair; the raw token is ``acc_<prefix>_<secret>``."""
        prefix = secrets.token_hex(4)
        return prefix, f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
