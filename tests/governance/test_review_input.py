"""Review findings: a ``next`` that is not a path and attendee ids beyond 64 bits were 500s."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accord.governance.models import ActionItem
from accord.governance.services import meetings as meeting_services
from tests.governance import pages_setup

pytestmark = pytest.mark.django_db
alpha = pages_setup.alpha  # the shared fixture


@pytest.mark.parametrize("target", ["0", "a b", "a\x00b", "true", "[]", "%s%n"])
def test_a_next_that_is_not_a_path_falls_back(login, alpha, channel_manager, target):
    item = meeting_services.add_action_item(
        actor=channel_manager,
        organisation=alpha["relationship"].organisation,
        title="Send the forecast",
        owner=alpha["manager"],
        due_on=timezone.localdate() + dt.timedelta(days=3),
    )
    response = login(channel_manager).post(f"/governance/actions/{item.pk}/done/", {"next": target})
    assert response.status_code == 302
    assert response["Location"] == "/governance/"
    assert ActionItem.objects.get(pk=item.pk).status == ActionItem.Status.DONE


@pytest.mark.parametrize("value", [str(2**70), str(-(2**63) - 1), "9" * 23])
def test_attendee_ids_beyond_64_bits_are_a_field_error(login, alpha, channel_manager, value):
    organisation = alpha["relationship"].organisation
    response = login(channel_manager).post(
        f"/governance/relationships/{organisation.pk}/meetings/new/",
        {"meeting-title": "Review", "meeting-tier": "working", "meeting-attendees": value},
    )
    assert response.status_code < 500
