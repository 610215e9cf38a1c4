"""The notification inbox through the Django test client: each user sees only their own
notifications, unread first; marking one or all read; someone else's answers 404 and
stays unread."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from django.test import Client
from django.utils import timezone

from accord.core.models import Notification
from accord.core.services import notify

INBOX = "/notifications/"


def note(
    user: Any, subject: str, *, minutes_ago: int = 0, read: bool = False, **extra: Any
) -> Notification:
    created = notify(recipient=user, subject=subject, body=f"Body of {subject}", **extra)
    created.created_at = timezone.now() - dt.timedelta(minutes=minutes_ago)
    if read:
        created.read_at = timezone.now()
    created.save()
    return created


def listed(html: str) -> list[str]:
    return re.findall(r'data-notification="(\d+)"', html)


def test_inbox_lists_own_notifications_unread_first(
    partner_a_user: Any, partner_b_user: Any, partner_a: Any, login: Callable[..., Client]
) -> None:
    old_unread = note(partner_a_user, "Old unread", minutes_ago=50)
    new_read = note(partner_a_user, "New but read", minutes_ago=1, read=True)
    new_unread = note(
        partner_a_user,
        "Tier at risk",
        minutes_ago=5,
        link="/programs/partner-program/",
        organisation=partner_a,
    )
    other = note(partner_b_user, "Bravo's own news")
    response = login(partner_a_user).get(INBOX)
    assert response.status_code == 200
    html = response.content.decode()
    assert listed(html) == [str(new_unread.pk), str(old_unread.pk), str(new_read.pk)]
    assert "Bravo's own news" not in html and str(other.pk) not in listed(html)
    assert 'href="/programs/partner-program/"' in html
    assert "2 unread" in html
    assert partner_a.name in html
    unread_only = login(partner_a_user).get(INBOX + "?unread=1").content.decode()
    assert listed(unread_only) == [str(new_unread.pk), str(old_unread.pk)]


def test_links_off_the_site_are_not_links(
    partner_a_user: Any, login: Callable[..., Client]
) -> None:
    note(partner_a_user, "Script", link="javascript:alert(1)")
    note(partner_a_user, "Elsewhere", link="//evil.example/x")
    note(partner_a_user, "Absolute", link="https://evil.example/")
    html = login(partner_a_user).get(INBOX).content.decode()
    assert "javascript:" not in html and "evil.example" not in html
    assert "Script" in html and "Elsewhere" in html


def test_mark_one_read(partner_a_user: Any, login: Callable[..., Client]) -> None:
    first = note(partner_a_user, "First")
    second = note(partner_a_user, "Second")
    response = login(partner_a_user).post(f"{INBOX}{first.pk}/read/", {"next": INBOX + "?unread=1"})
    assert response.status_code == 302 and response["Location"] == INBOX + "?unread=1"
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None and second.read_at is None
    # Marking it again keeps the first reading time.
    read_at = first.read_at
    login(partner_a_user).post(f"{INBOX}{first.pk}/read/")
    first.refresh_from_db()
    assert first.read_at == read_at


def test_mark_all_read_is_only_ones_own(
    partner_a_user: Any, partner_b_user: Any, login: Callable[..., Client]
) -> None:
    mine = [note(partner_a_user, f"Mine {i}") for i in range(3)]
    theirs = note(partner_b_user, "Theirs")
    response = login(partner_a_user).post(f"{INBOX}read-all/", follow=True)
    assert response.status_code == 200
    assert "3 notifications marked read." in response.content.decode()
    assert all(Notification.objects.get(pk=n.pk).read_at for n in mine)
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_someone_elses_notification_is_404_and_stays_unread(
    partner_a_user: Any, partner_b_user: Any, vendor_admin: Any, login: Callable[..., Client]
) -> None:
    theirs = note(partner_b_user, "Theirs")
    for user in (partner_a_user, vendor_admin):  # not even an administrator reads it
        assert login(user).post(f"{INBOX}{theirs.pk}/read/").status_code == 404
        assert "Theirs" not in login(user).get(INBOX).content.decode()
    assert login(partner_a_user).post(f"{INBOX}999999999/read/").status_code == 404
    assert Notification.objects.get(pk=theirs.pk).read_at is None


def test_unsafe_next_and_methods(partner_a_user: Any, login: Callable[..., Client]) -> None:
    mine = note(partner_a_user, "Mine")
    client = login(partner_a_user)
    response = client.post(f"{INBOX}{mine.pk}/read/", {"next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == INBOX
    assert client.get(f"{INBOX}{mine.pk}/read/").status_code == 405
    assert client.get(f"{INBOX}read-all/").status_code == 405
    assert client.get(INBOX + "?page=zzz").status_code == 200


def test_anonymous_is_sent_to_log_in(partner_a_user: Any, login: Callable[..., Client]) -> None:
    mine = note(partner_a_user, "Mine")
    for method, url in (
        ("get", INBOX),
        ("post", f"{INBOX}{mine.pk}/read/"),
        ("post", f"{INBOX}read-all/"),
    ):
        response = getattr(login(None), method)(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert Notification.objects.get(pk=mine.pk).read_at is None


def test_empty_inbox(partner_b_user: Any, login: Callable[..., Client]) -> None:
    html = login(partner_b_user).get(INBOX).content.decode()
    assert "No notifications yet." in html and 'id="mark-all-read"' not in html
