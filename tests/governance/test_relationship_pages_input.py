"""Bad input on the relationship pages: overflowing ids, NUL characters, dates out of range,
nonsense filters. Each is a form error, an ignored filter or a 404, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from tests.governance.builders import governed

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999999"
POSTS = [
    ("roles/", {"relationship": HUGE, "commercial": "-1", "transformation": "abc\x00"}),
    ("roles/", {"relationship": "1e5"}),
    (
        "slots/",
        {"slot-tier": "working\x00", "slot-function": "general", "slot-vendor_contact": HUGE},
    ),
    ("slots/", {"slot-tier": "working", "slot-function": "general", "slot-partner_contact": HUGE}),
    ("key-people/", {"key-person": HUGE, "key-backup": "\x00", "key-responsibility": "a\x00b"}),
    (
        "meetings/new/",
        {
            "meeting-title": "a\x00",
            "meeting-tier": "working",
            "meeting-starts_at": "0001-01-01T00:00",
            "meeting-duration_minutes": "99999999999999999999",
            "meeting-attendees": [HUGE, "x"],
        },
    ),
    (
        "meetings/new/",
        {
            "meeting-title": "ok",
            "meeting-tier": "working",
            "meeting-starts_at": "9999-12-31T23:59",
            "meeting-duration_minutes": "60",
        },
    ),
    ("cadence/apply/", {"cadence-start": "0001-01-01", "cadence-months": "1"}),
    ("cadence/apply/", {"cadence-start": "9999-12-31", "cadence-months": "36"}),
    ("health/open/", {"survey-period": "\x00" * 3}),
    ("health/open/", {"survey-period": "x" * 30}),
    (
        "onboarding/new/",
        {"onboarding-template": HUGE, "onboarding-subject": HUGE, "onboarding-start": "0001-01-01"},
    ),
    ("edit/", {"health_frequency": "annual", "started_on": "0001-01-01", "notes": "\x00"}),
]


@pytest.mark.parametrize(("suffix", "data"), POSTS)
def test_bad_posts_are_form_errors(
    login: Any, channel_manager: Any, partner_a: Any, suffix: str, data: dict[str, Any]
) -> None:
    governed(partner_a)
    response = login(channel_manager).post(
        f"/governance/relationships/{partner_a.pk}/{suffix}", data
    )
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        "?health_below=1e999",
        "?health_below=nan",
        "?q=%00",
        "?page=99999999999999999999",
        "?kind=%00",
        "?tab=%00",
        "?roles=complete&misaligned=%00",
        "?tab=contacts&tier=%00&function=x",
    ],
)
def test_nonsense_in_the_query_is_ignored(
    login: Any, channel_manager: Any, partner_a: Any, query: str
) -> None:
    governed(partner_a)
    client = login(channel_manager)
    assert client.get("/governance/relationships/" + query).status_code == 200
    assert client.get(f"/governance/relationships/{partner_a.pk}/" + query).status_code == 200


def test_a_task_id_beyond_64_bits_is_404(login: Any, channel_manager: Any) -> None:
    response = login(channel_manager).post("/governance/tasks/999999999999999999/done/")
    assert response.status_code == 404
