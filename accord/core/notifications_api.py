"""REST endpoints of the notification inbox (mounted under /api/v1/): each user reads and
marks their own notifications; anyone else's answers 404, as a missing one does."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from ninja import Path, Query, Router

from accord.core import selectors, services
from accord.core.notification_schemas import NotificationFilter, NotificationOut, NotificationPage
from accord.core.schemas import ObjectId, error_responses

router = Router(tags=["notifications"])


@router.get(
    "/notifications",
    response={200: NotificationPage, **error_responses(422)},
    operation_id="notifications_list",
)
def notifications_list(request: HttpRequest, filters: Query[NotificationFilter]) -> Any:
    """The caller's notifications, newest first (``unread=true``: only those not read)."""
    user = request.auth
    notes = selectors.notifications(user, unread=filters.unread)
    return {
        "count": notes.count(),
        "unread": selectors.notifications(user, unread=True).count(),
        "items": list(notes[filters.offset : filters.offset + filters.limit]),
    }


@router.post(
    "/notifications/{id}/read",
    response={200: NotificationOut, **error_responses(404, 422)},
    operation_id="notifications_read",
)
def notifications_read(request: HttpRequest, id: Path[ObjectId]) -> Any:
    """Mark one of the caller's notifications read (again: no change)."""
    user = request.auth
    note = selectors.notifications(user).filter(pk=id).first()
    if note is None:
        raise Http404
    return services.mark_notification_read(actor=user, notification=note)
