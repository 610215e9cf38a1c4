"""Base models: the restricted queryset every organisation-owned model uses, and the audit log."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Access scopes a user can have; see accounts.models.User.access_scope.
SCOPE_ALL = "all"
SCOPE_TERRITORY = "territory"
SCOPE_ORGANISATION = "organisation"
SCOPE_NONE = "none"


class RestrictedQuerySet(models.QuerySet):
    """A queryset whose ``restrict(user, action)`` is the one way rows reach a user."""

    def restrict(self, user: Any, action: str = "view") -> RestrictedQuerySet:
        """Rows of this queryset that ``user`` may ``action`` (view, add, change, delete, ...).

        Permission decides *whether* the user may act on this model at all; the user's
        scope decides *which rows*: everything, the organisations in their territories,
        or their own organisation and its descendants.
        """
        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        opts = self.model._meta
        if not user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}"):
            return self.none()
        scope = user.access_scope
        if scope == SCOPE_ALL:
            return self
        if scope == SCOPE_NONE:
            return self.none()
        return self.model.restrict_rows(self, user, user.visible_organisation_ids())


class RestrictedManager(models.Manager.from_queryset(RestrictedQuerySet)):  # type: ignore[misc]
    pass


class OrganisationOwned(models.Model):
    """Mixin for models whose rows belong to an organisation.

    ``organisation_field`` names the lookup from this model to its owning organisation;
    ``restrict_rows`` narrows a queryset to rows owned by the given organisation ids.
    """

    organisation_field: ClassVar[str] = "organisation"

    objects = RestrictedManager()

    class Meta:
        abstract = True

    @classmethod
    def restrict_rows(
        cls, queryset: models.QuerySet, user: Any, organisation_ids: models.QuerySet
    ) -> models.QuerySet:
        return queryset.filter(**{f"{cls.organisation_field}__in": organisation_ids})

    @property
    def owner_organisation_id(self) -> int | None:
        value: Any = self
        *path, last = self.organisation_field.split("__")
        for part in path:
            value = getattr(value, part, None)
            if value is None:
                return None
        return getattr(value, f"{last}_id", None) if last != "pk" else value.pk


class AuditQuerySet(RestrictedQuerySet):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("The audit log is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("The audit log is append-only.")

    def for_object(self, obj: models.Model) -> AuditQuerySet:
        return self.filter(
            content_type=ContentType.objects.get_for_model(type(obj)), object_id=str(obj.pk)
        )


class AuditEntry(OrganisationOwned):
    """One write made through a service: who, when, what, and each field before → after."""

    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        UPDATE = "update", _("Updated")
        DELETE = "delete", _("Deleted")
        TRANSITION = "transition", _("Status changed")
        ASSIGN = "assign", _("Assigned")
        UNASSIGN = "unassign", _("Unassigned")
        REVOKE = "revoke", _("Revoked")

    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(_("actor"), max_length=254)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(_("object"), max_length=255)
    # The organisation the object belongs to (null for vendor master data such as
    # territories); kept without a database constraint so history outlives the row.
    organisation = models.ForeignKey(
        "partners.Organisation",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    objects = models.Manager.from_queryset(AuditQuerySet)()

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["content_type", "object_id", "-at"])]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("The audit log is append-only.")


class NotificationQuerySet(models.QuerySet):
    def restrict(self, user: Any, action: str = "view") -> NotificationQuerySet:
        """A notification is its recipient's alone, whatever their role or scope."""
        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        return self.filter(recipient=user)


class Notification(models.Model):
    """A message to one user (an early warning, an escalation, ...), also sent by e-mail."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    organisation = models.ForeignKey(
        "partners.Organisation",
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"))
    link = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("sent"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    objects = models.Manager.from_queryset(NotificationQuerySet)()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_inbox")]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return self.subject
