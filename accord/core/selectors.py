"""Reads of accord.core: the audit log and the notification inbox, through ``restrict()``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext as _

from accord.core.errors import ValidationError
from accord.core.models import AuditEntry, Notification


def audit_object_type(label: str) -> ContentType:
    """The content type of ``"app_label.model"``; a field error when there is none."""
    app_label, _separator, model = label.partition(".")
    try:
        return ContentType.objects.get_by_natural_key(app_label, model)
    except ContentType.DoesNotExist as error:
        raise ValidationError({"object_type": [_("Unknown object type.")]}) from error


def search_audit_entries(
    user: Any,
    *,
    object_type: str | None = None,
    object_id: str | None = None,
    organisation: int | None = None,
    action: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> models.QuerySet[AuditEntry]:
    """Audit entries ``user`` may see, newest first, filtered."""
    queryset = AuditEntry.objects.restrict(user, "view").select_related("content_type")
    if object_type:
        queryset = queryset.filter(content_type=audit_object_type(object_type))
    if object_id:
        queryset = queryset.filter(object_id=object_id)
    if organisation is not None:
        queryset = queryset.filter(organisation_id=organisation)
    if action:
        queryset = queryset.filter(action=action)
    if since is not None:
        queryset = queryset.filter(at__gte=since)
    if until is not None:
        queryset = queryset.filter(at__lt=until)
    return queryset.order_by("-at", "-pk")


def notifications(user: Any, *, unread: bool = False) -> models.QuerySet[Notification]:
    """``user``'s own notifications, newest first (only the unread ones if asked)."""
    queryset = Notification.objects.restrict(user, "view")
    if unread:
        queryset = queryset.filter(read_at=None)
    return queryset.order_by("-created_at", "-pk")
