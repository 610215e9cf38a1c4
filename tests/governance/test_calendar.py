"""The .ics feed: a valid iCalendar document (parsed back with ``icalendar``) holding the
user's own meetings only, in UTC, cancelled ones marked so; the subscription page, the
session download and the secret-key address (a bad or replaced key is a 404)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from icalendar import Calendar

from accord.accounts.models import User
from accord.governance import calendar
from accord.governance.models import CalendarFeed, Meeting, RoleAssignment, Tier
from accord.governance.services import meetings
from accord.partners.models import Organisation
from tests.factories import UserFactory
from tests.governance.builders import NOW, governed

DAY = dt.timedelta(days=1)


def events(document: bytes) -> dict[str, Any]:
    parsed = Calendar.from_ical(document)
    assert str(parsed["VERSION"]) == "2.0" and "Accord" in str(parsed["PRODID"])
    return {str(event["UID"]): event for event in parsed.walk("VEVENT")}


@pytest.fixture
def world(
    partner_a: Organisation,
    partner_b: Organisation,
    partner_a_user: User,
    partner_b_user: User,
    channel_manager: User,
) -> dict[str, Any]:
    """Meetings of Alpha (one attended by Alpha's user, one cancelled, one without them)
    and of Bravo (attended by Bravo's user); a vendor user holding Alpha's relationship
    role."""
    alpha, bravo = governed(partner_a, now=NOW), governed(partner_b, now=NOW)
    alpha_card, bravo_card = alpha["partner"][0], bravo["partner"][0]
    alpha_card.user, bravo_card.user = partner_a_user, partner_b_user
    alpha_card.save()
    bravo_card.save()
    holder = alpha["roles"][RoleAssignment.Role.RELATIONSHIP]
    holder.user = UserFactory(
        organisation=Organisation.objects.vendor(),
        email="rhea@vendor.test",
        roles=["partner_account_manager"],
    )
    holder.save()

    def meeting(org: Organisation, title: str, starts_at: dt.datetime, *attendees: Any):
        return meetings.create_meeting(
            actor=channel_manager,
            organisation=org,
            data={
                "title": title,
                "tier": Tier.OPERATIONAL,
                "starts_at": starts_at,
                "location": "Room 1",
                "agenda": "1. Numbers\n2. Plans",
            },
            attendees=attendees,
        )

    review = meeting(partner_a, "Review", NOW + DAY, alpha_card, holder)
    cancelled = meeting(partner_a, "Cancelled call", NOW + 2 * DAY, alpha_card)
    meetings.cancel_meeting(actor=channel_manager, meeting=cancelled, reason="Holiday")
    vendor_only = meeting(partner_a, "Vendor prep", NOW + 3 * DAY, alpha["vendor"][0])
    theirs = meeting(partner_b, "Bravo review", NOW + DAY, bravo_card)
    return {
        "review": Meeting.objects.get(pk=review.pk),
        "cancelled": Meeting.objects.get(pk=cancelled.pk),
        "vendor_only": vendor_only,
        "theirs": theirs,
        "holder": User.objects.get(pk=holder.user_id),
        "alpha_card": alpha_card,
    }


@pytest.mark.django_db
def test_the_feed_holds_the_users_meetings_in_utc(world: dict[str, Any], partner_a_user: User):
    found = events(calendar.feed_for(partner_a_user, now=NOW))
    review, cancelled = world["review"], world["cancelled"]
    assert set(found) == {str(review.uid), str(cancelled.uid)}
    event = found[str(review.uid)]
    assert event.decoded("DTSTART") == NOW + DAY
    assert event.decoded("DTSTART").utcoffset() == dt.timedelta(0)
    assert event.decoded("DTEND") == NOW + DAY + dt.timedelta(minutes=60)
    assert str(event["SUMMARY"]) == "Review · Alpha Distribution"
    assert str(event["LOCATION"]) == "Room 1"
    assert str(event["DESCRIPTION"]) == "1. Numbers\n2. Plans"
    assert str(event["STATUS"]) == "CONFIRMED" and int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTAMP").utcoffset() == dt.timedelta(0)
    gone = found[str(cancelled.uid)]
    assert str(gone["STATUS"]) == "CANCELLED" and int(gone["SEQUENCE"]) == 1
    raw = calendar.feed_for(partner_a_user, now=NOW).decode()
    assert "DTSTART:20260303T090000Z" in raw


@pytest.mark.django_db
def test_a_role_holder_sees_every_meeting_of_the_relationship(world: dict[str, Any]) -> None:
    found = events(calendar.feed_for(world["holder"], now=NOW))
    assert set(found) == {str(world[name].uid) for name in ("review", "cancelled", "vendor_only")}


@pytest.mark.django_db
def test_another_partner_never_sees_them(
    world: dict[str, Any], partner_a_user: User, partner_b_user: User
) -> None:
    assert set(events(calendar.feed_for(partner_b_user, now=NOW))) == {str(world["theirs"].uid)}
    # Even a row that wrongly lists Alpha's person at Bravo's meeting stays with Bravo.
    world["theirs"].attendees.add(world["alpha_card"])
    assert str(world["theirs"].uid) not in events(calendar.feed_for(partner_a_user, now=NOW))


@pytest.mark.django_db
def test_an_empty_feed_is_still_a_calendar(analyst: User) -> None:
    assert events(calendar.feed_for(analyst)) == {}


@pytest.mark.django_db
def test_feed_keys_are_stored_hashed_and_replaced(partner_a_user: User) -> None:
    key = calendar.new_feed_key(partner_a_user)
    feed = CalendarFeed.objects.get(user=partner_a_user)
    assert key not in feed.key_hash and len(feed.key_hash) == 64
    assert calendar.user_for_feed_key(key) == partner_a_user
    newer = calendar.new_feed_key(partner_a_user)
    assert calendar.user_for_feed_key(key) is None
    assert calendar.user_for_feed_key(newer) == partner_a_user
    for bad in ("", "x" * 500, None, "\x00"):
        assert calendar.user_for_feed_key(bad) is None
    partner_a_user.is_active = False
    partner_a_user.save()
    assert calendar.user_for_feed_key(newer) is None


# -- pages --------------------------------------------------------------------------


@pytest.mark.django_db
def test_subscribing_through_the_page(
    world: dict[str, Any], partner_a_user: User, login: Callable[[User | None], Client]
) -> None:
    browser = login(partner_a_user)
    page = browser.get("/governance/calendar/")
    assert page.status_code == 200
    assert b"You have no subscription address yet." in page.content
    made = browser.post("/governance/calendar/")
    assert made.status_code == 200
    url = re.search(rb"http://testserver(/governance/calendar/[A-Za-z0-9_-]+\.ics)", made.content)
    assert url is not None
    address = url.group(1).decode()

    client = Client()  # a calendar application: no session
    feed = client.get(address)
    assert feed.status_code == 200
    assert feed["Content-Type"] == "text/calendar; charset=utf-8"
    assert set(events(feed.content)) == {str(world["review"].uid), str(world["cancelled"].uid)}

    # The page no longer shows the key; a new one replaces the old address.
    again = browser.get("/governance/calendar/")
    assert address.encode() not in again.content
    browser.post("/governance/calendar/")
    assert client.get(address).status_code == 404


@pytest.mark.django_db
def test_session_download_and_bad_keys(
    world: dict[str, Any],
    partner_b_user: User,
    login: Callable[[User | None], Client],
) -> None:
    anonymous = login(None)
    assert anonymous.get("/governance/calendar.ics").status_code == 302
    assert anonymous.get("/governance/calendar/").status_code == 302
    assert anonymous.post("/governance/calendar/").status_code == 302
    assert not CalendarFeed.objects.exists()
    for key in ("nope", "A" * 43, "%00"):
        assert anonymous.get(f"/governance/calendar/{key}.ics").status_code == 404
    download = login(partner_b_user).get("/governance/calendar.ics")
    assert download.status_code == 200
    assert set(events(download.content)) == {str(world["theirs"].uid)}
    assert login(partner_b_user).put("/governance/calendar/").status_code == 405
