"""Service helpers: permission checks, field-level diffs, the audit row of every write, and
notifications to users."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from typing import Any, TypeVar

from django.contrib.contenttypes.models import ContentType
from django.core.mail import send_mail
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.core.errors import Http404, PermissionDenied, ValidationError
from accord.core.models import AuditEntry, Notification

M = TypeVar("M", bound=models.Model)


def _plain(value: Any) -> Any:
    """A JSON-safe form of a field value for the audit log."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, list | tuple | set):
        return (
            sorted(_plain(v) for v in value)
            if isinstance(value, set)
            else [_plain(v) for v in value]
        )
    return value


# Never copied into the audit log: secrets, and bookkeeping that is not a decision.
UNAUDITED_FIELDS = frozenset({"password", "key_hash", "last_login", "updated_at"})


def snapshot(obj: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """Audited field values of ``obj`` (foreign keys as ids) keyed by field name."""
    names = [
        name
        for name in (fields or [f.name for f in obj._meta.concrete_fields if not f.primary_key])
        if name not in UNAUDITED_FIELDS
    ]
    values: dict[str, Any] = {}
    for name in names:
        field = obj._meta.get_field(name)
        attname = getattr(field, "attname", name)
        values[name] = _plain(getattr(obj, attname))
    return values


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """``{field: [before, after]}`` for every field whose value changed."""
    return {
        name: [before.get(name), after[name]] for name in after if before.get(name) != after[name]
    }


def record(
    *,
    actor: Any,
    obj: models.Model,
    action: str,
    changes: Mapping[str, Any] | None = None,
    reason: str = "",
) -> AuditEntry:
    """Append one audit entry for ``obj``; call inside the service's transaction."""
    organisation_id = getattr(obj, "owner_organisation_id", None)
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=getattr(actor, "email", None) or "system",
        action=action,
        content_type=ContentType.objects.get_for_model(type(obj)),
        object_id=str(obj.pk),
        object_repr=str(obj)[:255],
        organisation_id=organisation_id,
        changes=dict(changes or {}),
        reason=reason,
    )


def ensure_permitted(actor: Any, action: str, obj: models.Model) -> None:
    """Raise 404 when ``actor`` cannot see ``obj`` and 403 when they see it but may not act.

    ``actor=None`` is the system itself (CLI, demo loader, background tasks).
    """
    if actor is None:
        return
    manager = type(obj)._default_manager
    if manager.restrict(actor, action).filter(pk=obj.pk).exists():
        return
    if action != "view" and manager.restrict(actor, "view").filter(pk=obj.pk).exists():
        raise PermissionDenied
    raise Http404


def ensure_model_permitted(actor: Any, action: str, model: type[models.Model]) -> None:
    """Raise 403 unless ``actor`` holds ``action`` permission on ``model`` at all."""
    if actor is None:
        return
    opts = model._meta
    if not actor.has_perm(f"{opts.app_label}.{action}_{opts.model_name}"):
        raise PermissionDenied


def ensure_still_visible(actor: Any, obj: models.Model) -> None:
    """After a write, the row must still be visible to its author, or the write is refused.

    Stops a partner from moving an object out of their own reach (NetBox's save-then-recheck).
    """
    if actor is None:
        return
    if not type(obj)._default_manager.restrict(actor, "view").filter(pk=obj.pk).exists():
        raise PermissionDenied


def apply_changes(
    *, actor: Any, obj: M, data: Mapping[str, Any], action: str = AuditEntry.Action.UPDATE
) -> M:
    """Set ``data`` on ``obj``, validate, save and audit the changed fields.

    Call from a service that already runs in a transaction. Unknown keys are refused.
    """
    allowed = {f.name for f in obj._meta.concrete_fields if not f.primary_key}
    unknown = set(data) - allowed
    if unknown:
        raise ValueError(f"Unknown fields: {', '.join(sorted(unknown))}")
    before = snapshot(obj, data.keys())
    originals = {name: getattr(obj, name) for name in data}
    for name, value in data.items():
        setattr(obj, name, value)
    try:
        validate(obj)
    except ValidationError:
        # Leave the caller's instance as it was, so a retry starts from the stored state.
        for name, value in originals.items():
            setattr(obj, name, value)
        raise
    if all(originals[name] == getattr(obj, name) for name in data):
        return obj
    obj.save()
    changes = diff(before, snapshot(obj, data.keys()))
    if changes:
        record(actor=actor, obj=obj, action=action, changes=changes)
    ensure_still_visible(actor, obj)
    return obj


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    return False


def validate(obj: models.Model) -> None:
    """``full_clean`` plus what Django leaves to the database: NUL characters in text.

    PostgreSQL refuses ``\x00`` in text columns; refusing it here turns a database error
    (a 500) into a field error on both databases.
    """
    errors: dict[str, list[str]] = {}
    for field in obj._meta.concrete_fields:
        value = getattr(obj, field.attname, None)
        if _has_nul(value):  # in text, and in JSON lists and objects (\u0000 in jsonb)
            errors[field.name] = [_("Null characters are not allowed.")]
    if errors:
        raise ValidationError(errors)
    obj.full_clean()


def create_audited(*, actor: Any, obj: M) -> M:
    """Validate, insert and audit a new object (every field recorded as ``[None, value]``)."""
    validate(obj)
    obj.save(force_insert=True)
    record(
        actor=actor,
        obj=obj,
        action=AuditEntry.Action.CREATE,
        changes={k: [None, v] for k, v in snapshot(obj).items() if v not in (None, "", [])},
    )
    ensure_still_visible(actor, obj)
    return obj


def delete_audited(*, actor: Any, obj: models.Model) -> None:
    """Audit and delete ``obj``; the entry keeps its last field values."""
    record(
        actor=actor,
        obj=obj,
        action=AuditEntry.Action.DELETE,
        changes={k: [v, None] for k, v in snapshot(obj).items() if v not in (None, "", [])},
    )
    obj.delete()


def notify(
    *,
    recipient: Any,
    subject: str,
    body: str,
    link: str = "",
    organisation: models.Model | None = None,
) -> Notification:
    """An in-app notification to one user, e-mailed on commit when they have an address;
    call inside the service's transaction."""
    note = Notification(
        recipient=recipient, subject=subject, body=body, link=link, organisation=organisation
    )
    return notify_many([note])[0]


def notify_many(notes: Sequence[Notification]) -> list[Notification]:
    """Unsaved notifications stored in one statement (however many there are), each
    e-mailed on commit as ``notify`` does; call inside the service's transaction."""
    for note in notes:
        note.subject = note.subject[:200]
        note.link = note.link[:300]
    created = Notification.objects.bulk_create(notes, batch_size=1000)
    for note in created:
        if note.recipient.email:
            transaction.on_commit(
                partial(
                    send_mail,
                    note.subject,
                    note.body,
                    None,
                    [note.recipient.email],
                    fail_silently=True,
                )
            )
    return created


def mark_notification_read(*, actor: Any, notification: Notification) -> Notification:
    """Mark one of ``actor``'s own notifications read; the first reading time stays."""
    if notification.recipient_id != getattr(actor, "pk", None):
        raise Http404
    if notification.read_at is None:
        now = timezone.now()
        if Notification.objects.filter(pk=notification.pk, read_at=None).update(read_at=now):
            notification.read_at = now
        else:  # read meanwhile (another tab): keep that time
            notification.refresh_from_db(fields=["read_at"])
    return notification
