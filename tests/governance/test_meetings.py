"""Meetings: cadence templates and the calendar planned from them (by the partner's tier,
idempotent), meetings planned, changed, recorded and cancelled, action items with owners,
the overdue flags, and partners kept to their side and their own relationship."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from hypothesis import given
from hypothesis import strategies as st

from accord.accounts.models import User
from accord.core.errors import Http404, InvalidTransition, PermissionDenied, ValidationError
from accord.core.models import AuditEntry, Notification
from accord.governance.models import (
    ActionItem,
    CadenceTemplate,
    GovernanceSettings,
    Meeting,
    RoleAssignment,
    Tier,
)
from accord.governance.selectors import meetings as selectors
from accord.governance.services import meetings
from accord.governance.services.meetings import occurrences
from accord.partners.models import Organisation
from accord.programs.models import Membership, Program
from tests.governance.builders import NOW, TODAY, governed, partner_person, vendor_person

DAY = dt.timedelta(days=1)


@pytest.fixture
def made(partner_a: Organisation) -> dict[str, Any]:
    return governed(partner_a, now=NOW)


def template(name: str, tier: str, frequency: str, partner_tiers: list[str] | None = None):
    return CadenceTemplate.objects.create(
        name=name,
        tier=tier,
        frequency=frequency,
        partner_tiers=partner_tiers or [],
        duration_minutes=45,
        agenda="Standing agenda",
    )


def plan(actor: User, organisation: Organisation, **fields: Any) -> Meeting:
    data = {"title": "Kick-off", "tier": Tier.OPERATIONAL, "starts_at": NOW + 3 * DAY}
    data.update(fields)
    return meetings.create_meeting(actor=actor, organisation=organisation, data=data)


# -- cadence templates ----------------------------------------------------------------


@pytest.mark.django_db
def test_cadence_templates_are_managed_by_the_vendor(
    channel_manager: User, partner_a_user: User, analyst: User
) -> None:
    made = meetings.create_cadence_template(
        actor=channel_manager,
        data={
            "name": "Quarterly business review",
            "name_zh": "季度业务回顾",
            "tier": Tier.OPERATIONAL,
            "frequency": "quarterly",
            "partner_tiers": ["gold", " gold", "silver"],
        },
    )
    assert made.partner_tiers == ["gold", "silver"]
    meetings.update_cadence_template(
        actor=channel_manager, template=made, data={"duration_minutes": 90}
    )
    made.refresh_from_db()
    assert made.duration_minutes == 90
    assert AuditEntry.objects.for_object(made).count() == 2
    for actor in (partner_a_user, analyst):
        with pytest.raises(PermissionDenied):
            meetings.create_cadence_template(
                actor=actor, data={"name": "x", "tier": "working", "frequency": "weekly"}
            )
    for bad in (
        {"name": "x", "tier": "working", "frequency": "daily"},
        {"name": "", "tier": "working", "frequency": "weekly"},
        {"name": "x", "tier": "working", "frequency": "weekly", "partner_tiers": "gold"},
        {"name": "x", "tier": "working", "frequency": "weekly", "partner_tiers": [3]},
        {"name": "x", "tier": "working", "frequency": "weekly", "color": "red"},
    ):
        with pytest.raises(ValidationError):
            meetings.create_cadence_template(actor=channel_manager, data=bad)
    assert CadenceTemplate.objects.count() == 1


def test_occurrences_keep_to_weekdays_and_the_window() -> None:
    start = dt.date(2026, 1, 31)  # a Saturday
    assert occurrences("monthly", start, 3) == [
        dt.date(2026, 2, 2),  # Sat 31 Jan → Mon 2 Feb
        dt.date(2026, 3, 2),  # 28 Feb is a Saturday → Monday
        dt.date(2026, 3, 31),
    ]
    assert occurrences("quarterly", dt.date(2026, 3, 2), 12) == [
        dt.date(2026, 3, 2),
        dt.date(2026, 6, 2),
        dt.date(2026, 9, 2),
        dt.date(2026, 12, 2),
    ]
    assert occurrences("annual", dt.date(2026, 3, 2), 12) == [dt.date(2026, 3, 2)]
    weekly = occurrences("weekly", start, 1)
    assert weekly[0] == dt.date(2026, 2, 2) and weekly[-1] < dt.date(2026, 2, 28)
    assert all(day.weekday() == 0 for day in weekly)


# -- applying cadences ----------------------------------------------------------------


@pytest.mark.django_db
def test_apply_cadences_plans_the_calendar_once_for_the_partner_tier(
    made: dict[str, Any], partner_a: Organisation, channel_manager: User, partner_a_user: User
) -> None:
    weekly = template("Weekly operations call", Tier.WORKING, "weekly")
    qbr = template("Quarterly business review", Tier.OPERATIONAL, "quarterly", ["gold"])
    template("Annual executive review", Tier.EXECUTIVE, "annual", ["platinum"])
    CadenceTemplate.objects.create(
        name="Retired", tier=Tier.WORKING, frequency="monthly", active=False
    )

    # Without a tier program only the templates for every partner apply.
    planned = meetings.apply_cadences(
        actor=channel_manager, organisation=partner_a, start=TODAY, now=NOW
    )
    assert {m.cadence for m in planned} == {weekly}
    assert len(planned) == len(occurrences("weekly", TODAY, 12))

    program = Program.objects.create(code="partner-program", name="Partner program")
    settings = GovernanceSettings.current()
    settings.tier_program = program
    settings.save()
    Membership.objects.create(
        program=program, organisation=partner_a, tier_code="gold", since=TODAY
    )
    planned = meetings.apply_cadences(
        actor=channel_manager, organisation=partner_a, start=TODAY, now=NOW
    )
    assert [m.starts_at for m in planned] == [
        dt.datetime(2026, month, day, 10, tzinfo=dt.UTC)
        for month, day in ((3, 2), (6, 2), (9, 2), (12, 2))
    ]
    first = planned[0]
    assert (first.title, first.tier, first.cadence, first.duration_minutes, first.agenda) == (
        "Quarterly business review",
        Tier.OPERATIONAL,
        qbr,
        45,
        "Standing agenda",
    )
    slot = made["slots"][Tier.OPERATIONAL]
    assert set(first.attendees.all()) == {slot.vendor_contact, slot.partner_contact}

    # Re-applying plans nothing new.
    count = Meeting.objects.count()
    assert meetings.apply_cadences(actor=channel_manager, organisation=partner_a, start=TODAY) == []
    assert Meeting.objects.count() == count

    with pytest.raises(PermissionDenied):
        meetings.apply_cadences(actor=partner_a_user, organisation=partner_a)
    with pytest.raises(ValidationError):
        meetings.apply_cadences(actor=channel_manager, organisation=partner_a, months=0)


@pytest.mark.django_db
def test_cadence_meetings_are_at_ten_local_time(
    partner_a: Organisation, channel_manager: User, settings: Any
) -> None:
    settings.TIME_ZONE = "Asia/Shanghai"
    template("Annual review", Tier.EXECUTIVE, "annual")
    (meeting,) = meetings.apply_cadences(
        actor=channel_manager, organisation=partner_a, start=dt.date(2026, 3, 2)
    )
    assert meeting.starts_at == dt.datetime(2026, 3, 2, 2, tzinfo=dt.UTC)


# -- meetings -----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_vendor_plans_and_changes_meetings_partners_do_not(
    made: dict[str, Any],
    partner_a: Organisation,
    partner_b: Organisation,
    channel_manager: User,
    partner_a_user: User,
) -> None:
    vendor_side, partner_side = made["vendor"][0], made["partner"][0]
    meeting = meetings.create_meeting(
        actor=channel_manager,
        organisation=partner_a,
        data={
            "title": "Kick-off",
            "tier": Tier.OPERATIONAL,
            "starts_at": "2026-03-10T09:30:00+00:00",
            "location": "Shanghai office",
        },
        attendees=[vendor_side, partner_side.pk],
    )
    assert meeting.starts_at == dt.datetime(2026, 3, 10, 9, 30, tzinfo=dt.UTC)
    assert set(meeting.attendees.all()) == {vendor_side, partner_side}
    assert meeting.sequence == 0 and meeting.status == Meeting.Status.PLANNED

    meeting = meetings.update_meeting(
        actor=channel_manager, meeting=meeting, data={"location": "Shanghai office"}
    )
    assert meeting.sequence == 0  # nothing changed
    meeting = meetings.update_meeting(
        actor=channel_manager,
        meeting=meeting,
        data={"starts_at": NOW + 10 * DAY},
        attendees=[vendor_side],
    )
    assert meeting.sequence == 1 and list(meeting.attendees.all()) == [vendor_side]

    with pytest.raises(PermissionDenied):
        plan(partner_a_user, partner_a)
    with pytest.raises(PermissionDenied):
        meetings.update_meeting(actor=partner_a_user, meeting=meeting, data={"title": "Mine"})
    with pytest.raises(PermissionDenied):
        meetings.cancel_meeting(actor=partner_a_user, meeting=meeting, reason="No")
    with pytest.raises(ValidationError) as error:
        meetings.create_meeting(
            actor=channel_manager,
            organisation=partner_a,
            data={"title": "x", "tier": "working", "starts_at": NOW},
            attendees=[partner_person(partner_b, "Outsider")],
        )
    assert "attendees" in error.value.message_dict
    for bad in (
        {"title": "x", "tier": "working"},
        {"title": "x", "tier": "working", "starts_at": "tomorrow"},
        {"title": "x", "tier": "top", "starts_at": NOW},
        {"title": "x\x00", "tier": "working", "starts_at": NOW},
        {"title": "x", "tier": "working", "starts_at": NOW, "status": "held"},
    ):
        with pytest.raises(ValidationError):
            meetings.create_meeting(actor=channel_manager, organisation=partner_a, data=bad)
    assert Meeting.objects.count() == 1


@pytest.mark.django_db
def test_either_side_records_the_minutes(
    made: dict[str, Any],
    partner_a: Organisation,
    channel_manager: User,
    partner_a_user: User,
    partner_b_user: User,
) -> None:
    vendor_side = made["vendor"][0]
    partner_people = made["partner"]
    meeting = meetings.create_meeting(
        actor=channel_manager,
        organisation=partner_a,
        data={"title": "Review", "tier": Tier.OPERATIONAL, "starts_at": NOW - DAY},
        attendees=[vendor_side, partner_people[0]],
    )
    with pytest.raises(Http404):
        meetings.record_meeting(actor=partner_b_user, meeting=meeting, minutes="Not mine")
    with pytest.raises(ValidationError):
        meetings.record_meeting(actor=partner_a_user, meeting=meeting, minutes=" ", now=NOW)
    with pytest.raises(ValidationError):
        meetings.record_meeting(
            actor=partner_a_user, meeting=meeting, minutes="x", held_at=NOW + DAY, now=NOW
        )
    with pytest.raises(ValidationError):  # a partner names only its own side's people
        meetings.record_meeting(
            actor=partner_a_user, meeting=meeting, minutes="x", attendees=[vendor_side], now=NOW
        )
    meeting = meetings.record_meeting(
        actor=partner_a_user,
        meeting=meeting,
        minutes="Reviewed the quarter.",
        decisions="Add a second warehouse.",
        attendees=[partner_people[1], partner_people[2]],
        now=NOW,
    )
    assert meeting.status == Meeting.Status.HELD and meeting.held_at == NOW - DAY
    # The vendor's attendee stays; the partner's side is as the partner recorded it.
    assert set(meeting.attendees.all()) == {vendor_side, partner_people[1], partner_people[2]}
    entry = AuditEntry.objects.for_object(meeting).filter(action="transition").get()
    assert entry.changes["status"] == ["planned", "held"] and entry.actor == partner_a_user
    # Recording again corrects the record.
    meeting = meetings.record_meeting(
        actor=channel_manager, meeting=meeting, minutes="Reviewed Q1.", now=NOW
    )
    assert meeting.minutes == "Reviewed Q1." and meeting.held_at == NOW - DAY


@pytest.mark.django_db
def test_cancelling_tells_the_attendees_and_updates_calendars(
    made: dict[str, Any],
    partner_a: Organisation,
    channel_manager: User,
    partner_a_user: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    partner_side = made["partner"][0]
    partner_side.user = partner_a_user
    partner_side.save()
    emailed = made["partner"][1]
    emailed.email = "oscar@alpha.test"
    emailed.save()
    meeting = meetings.create_meeting(
        actor=channel_manager,
        organisation=partner_a,
        data={"title": "QBR", "tier": Tier.OPERATIONAL, "starts_at": NOW + DAY},
        attendees=[partner_side, emailed],
    )
    with pytest.raises(ValidationError):
        meetings.cancel_meeting(actor=channel_manager, meeting=meeting, reason="")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        meeting = meetings.cancel_meeting(
            actor=channel_manager, meeting=meeting, reason="Partner offsite"
        )
    assert meeting.status == Meeting.Status.CANCELLED and meeting.sequence == 1
    note = Notification.objects.get(recipient=partner_a_user)
    assert "Partner offsite" in note.body and note.link == f"/governance/meetings/{meeting.pk}/"
    assert ["oscar@alpha.test"] in [message.to for message in mail.outbox]
    with pytest.raises(InvalidTransition):
        meetings.cancel_meeting(actor=channel_manager, meeting=meeting, reason="Again")
    with pytest.raises(InvalidTransition):
        meetings.record_meeting(actor=channel_manager, meeting=meeting, minutes="x")
    with pytest.raises(InvalidTransition):
        meetings.update_meeting(actor=channel_manager, meeting=meeting, data={"title": "x"})


# -- action items -------------------------------------------------------------------


@pytest.mark.django_db
def test_partners_own_and_complete_their_side_of_the_action_items(
    made: dict[str, Any],
    partner_a: Organisation,
    channel_manager: User,
    partner_a_user: User,
    partner_b_user: User,
) -> None:
    meeting = plan(channel_manager, partner_a)
    partner_owner = made["partner"][0]
    vendor_owner = made["roles"][RoleAssignment.Role.COMMERCIAL]
    theirs = meetings.add_action_item(
        actor=partner_a_user,
        organisation=partner_a,
        title="Send the stock report",
        owner=partner_owner,
        due_on="2026-03-20",
        meeting=meeting,
    )
    assert (theirs.meeting, theirs.due_on) == (meeting, dt.date(2026, 3, 20))
    with pytest.raises(ValidationError) as error:
        meetings.add_action_item(
            actor=partner_a_user,
            organisation=partner_a,
            title="Vendor to do",
            owner=vendor_owner,
            due_on=TODAY,
        )
    assert error.value.message_dict["owner"] == ["Choose a person of Alpha Distribution."]
    ours = meetings.add_action_item(
        actor=channel_manager,
        organisation=partner_a,
        title="Fix the price list",
        owner=vendor_owner,
        due_on=TODAY,
        meeting=meeting,
    )
    with pytest.raises(PermissionDenied):
        meetings.complete_action_item(actor=partner_a_user, item=ours)
    with pytest.raises(PermissionDenied):
        meetings.update_action_item(actor=partner_a_user, item=ours, data={"title": "x"})
    with pytest.raises(Http404):
        meetings.complete_action_item(actor=partner_b_user, item=theirs)
    with pytest.raises(Http404):
        meetings.add_action_item(
            actor=partner_b_user, organisation=partner_a, title="x", owner=1, due_on=TODAY
        )
    with pytest.raises(PermissionDenied):  # partners cancel nothing
        meetings.update_action_item(actor=partner_a_user, item=theirs, data={"status": "cancelled"})
    done = meetings.complete_action_item(actor=partner_a_user, item=theirs, now=NOW)
    assert done.status == ActionItem.Status.DONE and done.done_at == NOW
    again = meetings.complete_action_item(actor=partner_a_user, item=theirs, now=NOW + DAY)
    assert again.done_at == NOW
    cancelled = meetings.update_action_item(
        actor=channel_manager, item=ours, data={"status": "cancelled", "due_on": "2026-04-01"}
    )
    assert cancelled.status == ActionItem.Status.CANCELLED
    with pytest.raises(InvalidTransition):
        meetings.complete_action_item(actor=channel_manager, item=cancelled)


@pytest.mark.django_db
def test_an_action_item_links_only_this_relationships_meeting(
    made: dict[str, Any], partner_a: Organisation, partner_b: Organisation, channel_manager: User
) -> None:
    governed(partner_b, now=NOW)
    elsewhere = plan(channel_manager, partner_b)
    with pytest.raises(ValidationError) as error:
        meetings.add_action_item(
            actor=channel_manager,
            organisation=partner_a,
            title="x",
            owner=made["vendor"][0],
            due_on=TODAY,
            meeting=elsewhere,
        )
    assert "meeting" in error.value.message_dict


# -- overdue ------------------------------------------------------------------------


@pytest.mark.django_db
def test_overdue_meetings_and_action_items_are_notified_once(
    made: dict[str, Any], partner_a: Organisation, channel_manager: User, vendor: Organisation
) -> None:
    holder = made["roles"][RoleAssignment.Role.RELATIONSHIP]
    holder.user = User.objects.create_user(
        email="rhea@vendor.test", organisation=vendor, full_name="Rhea"
    )
    holder.save()
    owner_user = User.objects.create_user(
        email="owner@vendor.test", organisation=vendor, full_name="Owner"
    )
    owner = vendor_person("Owen Owner", user=owner_user)
    missed = plan(channel_manager, partner_a, starts_at=NOW - 8 * DAY)
    recent = plan(channel_manager, partner_a, starts_at=NOW - 6 * DAY)
    meetings.add_action_item(
        actor=channel_manager, organisation=partner_a, title="Late", owner=owner, due_on=TODAY - DAY
    )
    meetings.add_action_item(
        actor=channel_manager, organisation=partner_a, title="Today", owner=owner, due_on=TODAY
    )
    Notification.objects.all().delete()

    assert meetings.flag_overdue(now=NOW) == {"meetings": 1, "action_items": 1}
    assert set(Notification.objects.values_list("recipient_id", "link")) == {
        (holder.user_id, f"/governance/meetings/{missed.pk}/"),
        (owner_user.pk, f"/governance/relationships/{partner_a.pk}/?tab=meetings"),
    }
    assert meetings.flag_overdue(now=NOW + DAY) == {"meetings": 0, "action_items": 1}
    assert meetings.flag_overdue(now=NOW + DAY) == {"meetings": 0, "action_items": 0}

    overdue = set(
        selectors.list_meetings(channel_manager, {"overdue": "1"}, now=NOW).values_list(
            "pk", flat=True
        )
    )
    assert overdue == {missed.pk}
    assert recent.pk in set(
        selectors.list_meetings(channel_manager, {"overdue": "0"}, now=NOW).values_list(
            "pk", flat=True
        )
    )
    assert [
        i.title for i in selectors.list_action_items(channel_manager, {"overdue": True}, now=NOW)
    ] == ["Late"]


# -- selectors ----------------------------------------------------------------------


@pytest.mark.django_db
def test_meeting_and_action_lists_filter_and_isolate(
    made: dict[str, Any],
    partner_a: Organisation,
    partner_b: Organisation,
    channel_manager: User,
    partner_a_user: User,
    partner_b_user: User,
) -> None:
    governed(partner_b, now=NOW)
    early = plan(channel_manager, partner_a, starts_at=NOW + DAY)
    late = plan(channel_manager, partner_a, starts_at=NOW + 20 * DAY)
    bravo = plan(channel_manager, partner_b, starts_at=NOW + DAY)
    meetings.cancel_meeting(actor=channel_manager, meeting=late, reason="Moved")

    def pks(user: User, **filters: Any) -> list[int]:
        return list(selectors.list_meetings(user, filters).values_list("pk", flat=True))

    assert pks(channel_manager) == [early.pk, bravo.pk, late.pk]
    assert pks(partner_a_user) == [early.pk, late.pk]
    assert pks(partner_b_user) == [bravo.pk]
    assert pks(channel_manager, organisation=partner_a.pk) == [early.pk, late.pk]
    assert pks(channel_manager, status="cancelled") == [late.pk]
    assert pks(channel_manager, **{"from": "2026-03-10"}) == [late.pk]
    assert pks(channel_manager, to=(NOW + DAY).date().isoformat()) == [early.pk, bravo.pk]
    for bad in ({"status": "done"}, {"from": "soon"}, {"organisation": -1}):
        with pytest.raises(ValidationError):
            pks(channel_manager, **bad)
    with pytest.raises(Http404):
        selectors.get_meeting(partner_b_user, early.pk)
    assert selectors.get_meeting(partner_a_user, early.pk) == early

    owner = made["partner"][0]
    item = meetings.add_action_item(
        actor=partner_a_user, organisation=partner_a, title="Mine", owner=owner, due_on=TODAY
    )
    assert [i.pk for i in selectors.list_action_items(partner_a_user, {"owner": owner.pk})] == [
        item.pk
    ]
    assert list(selectors.list_action_items(partner_b_user)) == []
    linked = meetings.add_action_item(
        actor=channel_manager,
        organisation=partner_a,
        title="From the meeting",
        owner=owner,
        due_on=TODAY,
        meeting=early,
    )
    assert [i.pk for i in selectors.list_action_items(channel_manager, {"meeting": early.pk})] == [
        linked.pk
    ]
    assert pks(channel_manager, tier="operational") == [early.pk, bravo.pk, late.pk]
    assert pks(channel_manager, tier="working") == []
    assert list(selectors.list_action_items(channel_manager, {"status": "done"})) == []
    with pytest.raises(Http404):
        selectors.get_action_item(partner_b_user, item.pk)
    assert [t.name for t in selectors.list_cadence_templates(partner_a_user)] == []


@given(
    start=st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2035, 12, 31)),
    months=st.integers(min_value=1, max_value=36),
    frequency=st.sampled_from(["weekly", "monthly", "quarterly", "annual"]),
)
def test_occurrences_property(start: dt.date, months: int, frequency: str) -> None:
    """Every meeting day is a weekday on or after the start, in order, no more than two
    days after its nominal day, and each period of the window gets exactly one."""
    days = occurrences(frequency, start, months)
    assert days == sorted(set(days))
    assert all(day.weekday() < 5 and day >= start for day in days)
    if frequency == "weekly":
        end = meetings._add_months(start, months)
        assert len(days) == -(-((end - meetings._weekday(start)).days) // 7)
        return
    step = {"monthly": 1, "quarterly": 3, "annual": 12}[frequency]
    assert len(days) == -(-months // step)
    for index, day in enumerate(days):
        nominal = meetings._add_months(start, step * index)
        assert dt.timedelta(0) <= day - nominal <= dt.timedelta(days=2)
