"""Shared set-up of the governance page tests (tests/governance/test_pages_*.py): two governed
relationships (Alpha and Bravo), each with an issue and a planned meeting, and the helpers
the page tests read responses with. Fixtures are imported by the test modules."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from accord.governance.models import Issue, Meeting, Tier
from accord.governance.services import issues as issue_services
from accord.governance.services import meetings as meeting_services
from tests.governance.builders import governed, partner_person, vendor_person

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


def body(response: Any) -> str:
    return response.content.decode()


def chinese(client: Any) -> Any:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    return client


def errors_of(text: str, field_id: str) -> str:
    """The error list Django renders for the input ``id_<field_id>`` ("" if none)."""
    match = re.search(
        rf'<ul class="errorlist" id="{re.escape(field_id)}_error">(.*?)</ul>', text, re.S
    )
    return match.group(1) if match else ""


def raise_issue(organisation: Any, actor: Any, *, now: dt.datetime | None = None, **extra: Any):
    data = {"title": "Late deliveries", "category": "delivery", "severity": "high", **extra}
    return issue_services.raise_issue(
        actor=actor, organisation=organisation, now=now or timezone.now(), **data
    )


def plan_meeting(organisation: Any, actor: Any, attendees: list[Any], **extra: Any) -> Meeting:
    data = {
        "title": "Operations review",
        "tier": Tier.OPERATIONAL,
        "starts_at": timezone.now() + 3 * DAY,
        "agenda": "Fill rate, open orders",
        **extra,
    }
    return meeting_services.create_meeting(
        actor=actor, organisation=organisation, data=data, attendees=attendees
    )


@pytest.fixture
def alpha(partner_a: Any, channel_manager: Any, partner_a_user: Any) -> dict[str, Any]:
    """Alpha governed in full, the partner admin's own card, a manager's card, an open issue
    and a planned meeting with people of both sides."""
    setup = governed(partner_a)
    setup["me"] = partner_person(partner_a, "Alice Alpha", user=partner_a_user)
    setup["manager"] = vendor_person("Carl Channel", user=channel_manager)
    setup["issue"] = raise_issue(partner_a, channel_manager, title="Alpha deliveries late")
    setup["meeting"] = plan_meeting(
        partner_a,
        channel_manager,
        [setup["roles"]["relationship"], setup["partner"][1], setup["me"]],
        title="Alpha operations review",
    )
    return setup


@pytest.fixture
def bravo(partner_b: Any, channel_manager: Any, partner_b_user: Any) -> dict[str, Any]:
    setup = governed(partner_b)
    setup["me"] = partner_person(partner_b, "Bob Bravo", user=partner_b_user)
    setup["issue"] = raise_issue(partner_b, channel_manager, title="Bravo pricing dispute")
    setup["meeting"] = plan_meeting(
        partner_b, channel_manager, [setup["partner"][1]], title="Bravo operations review"
    )
    return setup


def fresh(issue: Issue) -> Issue:
    return Issue.objects.get(pk=issue.pk)
