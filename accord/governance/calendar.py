"""The iCalendar (.ics) feed of a user's governance meetings, and the secret key a calendar
client subscribes with (only its hash is stored)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from icalendar import Calendar, Event

from accord.core.models import AuditEntry
from accord.core.services import record
from accord.governance.models import CalendarFeed, Meeting, RoleAssignment

PRODID = "-//Accord//Governance meetings//EN"
# Past meetings stay in the feed this long, so a client keeps recent history.
HISTORY_DAYS = 365
KEY_BYTES = 32


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def user_meetings(user: Any, *, since: dt.datetime | None = None) -> Any:
    """The meetings ``user`` may see where one of their contact cards attends or they hold
    one of the relationship's roles."""
    attending = Meeting.attendees.through.objects.filter(contact__user=user).values("meeting_id")
    roles = RoleAssignment.objects.filter(holder__user=user).values("organisation_id")
    queryset = (
        Meeting.objects.restrict(user, "view")
        .filter(Q(pk__in=attending) | Q(organisation_id__in=roles))
        .select_related("organisation")
    )
    if since is not None:
        queryset = queryset.filter(starts_at__gte=since)
    return queryset.order_by("starts_at", "pk")


def feed_for(user: Any, *, now: dt.datetime | None = None) -> bytes:
    """The user's meetings as an iCalendar document (times in UTC; cancelled meetings stay
    in the feed with STATUS:CANCELLED so clients remove them)."""
    now = now or timezone.now()
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", "Accord")
    for meeting in user_meetings(user, since=now - dt.timedelta(days=HISTORY_DAYS)):
        start = meeting.starts_at.astimezone(dt.UTC)
        event = Event()
        event.add("uid", str(meeting.uid))
        event.add("dtstamp", (meeting.updated_at or now).astimezone(dt.UTC))
        event.add("dtstart", start)
        event.add("dtend", start + dt.timedelta(minutes=meeting.duration_minutes))
        event.add("summary", f"{meeting.title} · {meeting.organisation.name}")
        if meeting.location:
            event.add("location", meeting.location)
        if meeting.agenda:
            event.add("description", meeting.agenda)
        event.add(
            "status", "CANCELLED" if meeting.status == Meeting.Status.CANCELLED else "CONFIRMED"
        )
        event.add("sequence", meeting.sequence)
        calendar.add_component(event)
    return calendar.to_ical()


@transaction.atomic(durable=True)
def new_feed_key(user: Any) -> str:
    """A fresh secret key for ``user``'s feed (the old address stops working). The key is
    returned once; only its SHA-256 is kept."""
    key = secrets.token_urlsafe(KEY_BYTES)
    feed, created = CalendarFeed.objects.update_or_create(
        user=user, defaults={"key_hash": _hash(key), "created_at": timezone.now()}
    )
    record(
        actor=user,
        obj=feed,
        action=AuditEntry.Action.CREATE if created else AuditEntry.Action.UPDATE,
        reason="calendar feed key",
    )
    return key


def user_for_feed_key(key: str) -> Any:
    """The active user whose feed ``key`` opens, else None."""
    if not isinstance(key, str) or not key or len(key) > 200:
        return None
    feed = (
        CalendarFeed.objects.select_related("user__organisation")
        .filter(key_hash=_hash(key))
        .first()
    )
    if feed is None or not feed.user.is_active:
        return None
    return feed.user


def feed_created_at(user: Any) -> dt.datetime | None:
    """When the user's current feed key was made (None: no key yet)."""
    feed = CalendarFeed.objects.filter(user=user).first()
    return feed.created_at if feed is not None else None
