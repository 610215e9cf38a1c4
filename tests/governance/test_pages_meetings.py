"""The meeting page over real HTTP: agenda and attendees of both sides, recording minutes and
decisions (partners too, for their side's attendees), action items with owners and due dates,
marking them done, cancelling (staff only); other partners get 404."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accord.governance.models import ActionItem, Meeting
from accord.governance.services import meetings as meeting_services
from tests.governance import pages_setup
from tests.governance.pages_setup import DAY, body, chinese, errors_of, plan_meeting

pytestmark = pytest.mark.django_db
alpha, bravo = pages_setup.alpha, pages_setup.bravo  # the shared fixtures


def fresh(meeting: Meeting) -> Meeting:
    return Meeting.objects.get(pk=meeting.pk)


def test_staff_and_partner_a_see_the_meeting_with_both_sides(
    login, alpha, channel_manager, partner_a_user
):
    meeting = alpha["meeting"]
    for user in (channel_manager, partner_a_user):
        text = body(login(user).get(f"/governance/meetings/{meeting.pk}/"))
        assert "Alpha operations review" in text and "Fill rate, open orders" in text
        vendor = text.split('id="vendor-attendees"', 1)[1].split("</ul>", 1)[0]
        partner = text.split('id="partner-attendees"', 1)[1].split("</ul>", 1)[0]
        assert "Rhea Relationship" in vendor
        assert "Oscar Operations" in partner and "Alice Alpha" in partner
        assert 'id="record-form"' in text and 'id="action-form"' in text
    assert 'id="cancel-form"' in body(
        login(channel_manager).get(f"/governance/meetings/{meeting.pk}/")
    )
    assert 'id="cancel-form"' not in text  # the partner's page


def test_partner_b_gets_404_on_alphas_meeting_and_its_actions(
    login, alpha, bravo, partner_b_user, channel_manager
):
    meeting = alpha["meeting"]
    item = meeting_services.add_action_item(
        actor=channel_manager,
        organisation=meeting.organisation,
        title="Send the forecast",
        owner=alpha["partner"][0],
        due_on=timezone.localdate() + dt.timedelta(days=7),
        meeting=meeting,
    )
    client = login(partner_b_user)
    assert client.get(f"/governance/meetings/{meeting.pk}/").status_code == 404
    for action, data in [
        ("record", {"record-minutes": "x"}),
        ("actions", {"action-title": "x"}),
        ("cancel", {"cancel-reason": "x"}),
    ]:
        assert client.post(f"/governance/meetings/{meeting.pk}/{action}/", data).status_code == 404
    assert client.post(f"/governance/actions/{item.pk}/done/").status_code == 404
    assert fresh(meeting).status == Meeting.Status.PLANNED
    assert ActionItem.objects.get(pk=item.pk).status == ActionItem.Status.OPEN


def test_staff_record_minutes_decisions_and_attendees(login, alpha, channel_manager):
    meeting = alpha["meeting"]
    client = login(channel_manager)
    response = client.post(f"/governance/meetings/{meeting.pk}/record/", {"record-minutes": ""})
    assert response.status_code == 400 and errors_of(body(response), "id_record-minutes")
    executive = alpha["roles"]["commercial"]
    response = client.post(
        f"/governance/meetings/{meeting.pk}/record/",
        {
            "record-minutes": "Reviewed the fill rate.",
            "record-decisions": "Second carrier.",
            "record-attendees": [executive.pk, alpha["partner"][1].pk],
        },
    )
    assert response.status_code == 302
    meeting = fresh(meeting)
    assert meeting.status == Meeting.Status.HELD and meeting.decisions == "Second carrier."
    assert set(meeting.attendees.values_list("pk", flat=True)) == {
        executive.pk,
        alpha["partner"][1].pk,
    }
    text = body(client.get(f"/governance/meetings/{meeting.pk}/"))
    assert 'id="minutes">Reviewed the fill rate.' in text


def test_a_partner_records_its_side_and_the_vendors_attendees_stay(login, alpha, partner_a_user):
    meeting = alpha["meeting"]
    vendor_attendee = alpha["roles"]["relationship"]
    response = login(partner_a_user).post(
        f"/governance/meetings/{meeting.pk}/record/",
        {"record-minutes": "Our notes", "record-attendees": [alpha["me"].pk]},
    )
    assert response.status_code == 302
    attendees = set(fresh(meeting).attendees.values_list("pk", flat=True))
    assert attendees == {vendor_attendee.pk, alpha["me"].pk}


def test_a_future_held_time_is_a_field_error(login, alpha, channel_manager):
    meeting = alpha["meeting"]
    later = timezone.localtime() + 2 * DAY
    response = login(channel_manager).post(
        f"/governance/meetings/{meeting.pk}/record/",
        {"record-minutes": "x", "record-held_at": later.strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 400 and errors_of(body(response), "id_record-held_at")
    assert fresh(meeting).status == Meeting.Status.PLANNED


def test_action_items_with_owners_and_due_dates(login, alpha, channel_manager, partner_a_user):
    meeting = alpha["meeting"]
    client = login(channel_manager)
    owner = alpha["partner"][0]
    response = client.post(
        f"/governance/meetings/{meeting.pk}/actions/",
        {"action-title": "Send the forecast", "action-owner": owner.pk, "action-due_on": "31/02"},
    )
    assert response.status_code == 400 and errors_of(body(response), "id_action-due_on")
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    response = client.post(
        f"/governance/meetings/{meeting.pk}/actions/",
        {"action-title": "x", "action-owner": owner.pk, "action-due_on": yesterday.isoformat()},
    )
    assert "past" in errors_of(body(response), "id_action-due_on")
    due = timezone.localdate() + dt.timedelta(days=10)
    response = client.post(
        f"/governance/meetings/{meeting.pk}/actions/",
        {"action-title": "Send the forecast", "action-owner": owner.pk, "action-due_on": due},
    )
    assert response.status_code == 302
    item = ActionItem.objects.get(meeting=meeting)
    assert (item.owner, item.due_on) == (owner, due)
    # The partner's owner choices are its own side only.
    text = body(login(partner_a_user).get(f"/governance/meetings/{meeting.pk}/"))
    owners = text.split('name="action-owner"', 1)[1].split("</select>", 1)[0]
    assert "Wendy Working" in owners and "Rhea Relationship" not in owners


def test_marking_done_follows_the_sides(login, alpha, channel_manager, partner_a_user):
    meeting = alpha["meeting"]
    due = timezone.localdate() + dt.timedelta(days=7)
    theirs = meeting_services.add_action_item(
        actor=channel_manager,
        organisation=meeting.organisation,
        title="Partner task",
        owner=alpha["me"],
        due_on=due,
        meeting=meeting,
    )
    ours = meeting_services.add_action_item(
        actor=channel_manager,
        organisation=meeting.organisation,
        title="Vendor task",
        owner=alpha["roles"]["relationship"],
        due_on=due,
        meeting=meeting,
    )
    client = login(partner_a_user)
    assert client.post(f"/governance/actions/{ours.pk}/done/").status_code == 403
    assert ActionItem.objects.get(pk=ours.pk).status == ActionItem.Status.OPEN
    response = client.post(f"/governance/actions/{theirs.pk}/done/", {"next": "/governance/"})
    assert response.status_code == 302 and response["Location"] == "/governance/"
    assert ActionItem.objects.get(pk=theirs.pk).status == ActionItem.Status.DONE
    # An outside "next" is ignored: back to the meeting.
    response = login(channel_manager).post(
        f"/governance/actions/{ours.pk}/done/", {"next": "https://evil.example/"}
    )
    assert response["Location"] == f"/governance/meetings/{meeting.pk}/"


def test_cancelling_is_for_staff(login, alpha, channel_manager, partner_a_user):
    meeting = alpha["meeting"]
    response = login(partner_a_user).post(
        f"/governance/meetings/{meeting.pk}/cancel/", {"cancel-reason": "No time"}
    )
    assert response.status_code == 403 and fresh(meeting).status == Meeting.Status.PLANNED
    client = login(channel_manager)
    response = client.post(f"/governance/meetings/{meeting.pk}/cancel/", {"cancel-reason": ""})
    assert response.status_code == 400 and errors_of(body(response), "id_cancel-reason")
    response = client.post(
        f"/governance/meetings/{meeting.pk}/cancel/", {"cancel-reason": "Moved to next month"}
    )
    assert response.status_code == 302 and fresh(meeting).status == Meeting.Status.CANCELLED


def test_an_overdue_meeting_is_flagged(login, alpha, channel_manager):
    past = plan_meeting(
        alpha["relationship"].organisation,
        channel_manager,
        [],
        title="Missed QBR",
        starts_at=timezone.now() - 20 * DAY,
    )
    text = body(login(channel_manager).get(f"/governance/meetings/{past.pk}/"))
    assert 'id="meeting-overdue"' in text and 'id="overdue-note"' in text


def test_the_meeting_page_renders_in_chinese(login, alpha, channel_manager, partner_a_user):
    for user in (channel_manager, partner_a_user):
        response = chinese(login(user)).get(f"/governance/meetings/{alpha['meeting'].pk}/")
        assert response.status_code == 200 and 'lang="zh-hans"' in body(response)
