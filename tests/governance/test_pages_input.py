"""Odd input to every governance page of the pages helper never gives a 500: NUL characters,
numbers beyond 64 bits, negative and empty values, lists where one value is expected, in
every field of every form and in the query strings."""

from __future__ import annotations

from typing import Any

import pytest

from tests.governance import pages_setup

pytestmark = pytest.mark.django_db
alpha = pages_setup.alpha  # the shared fixture

ODD = [
    "\x00",
    "9" * 30,
    "-1",
    "",
    "<b>x</b>",
    "1e999",
    "2026-02-30",
    "\uff10\uff11",  # full-width digits
]

FORMS: dict[str, list[str]] = {
    "/governance/issues/new/": [
        "organisation",
        "title",
        "category",
        "severity",
        "description",
    ],
    "/governance/issues/{issue}/respond/": ["respond-note"],
    "/governance/issues/{issue}/comment/": ["comment-note"],
    "/governance/issues/{issue}/assign/": ["assign-owner"],
    "/governance/issues/{issue}/resolve/": [
        "resolve-root_cause",
        "resolve-resolution",
        "resolve-action_0_title",
        "resolve-action_0_owner",
        "resolve-action_0_due_on",
    ],
    "/governance/issues/{issue}/reopen/": ["reopen-reason"],
    "/governance/issues/{issue}/attach/": ["attach-file"],
    "/governance/meetings/{meeting}/record/": [
        "record-held_at",
        "record-attendees",
        "record-minutes",
        "record-decisions",
    ],
    "/governance/meetings/{meeting}/actions/": ["action-title", "action-owner", "action-due_on"],
    "/governance/meetings/{meeting}/cancel/": ["cancel-reason"],
    "/governance/handovers/new/": ["predecessor", "successor", "leaving", "reason", "confirm"],
    "/governance/settings/": [
        "tier_program",
        "misalignment_threshold",
        "survey_days_open",
        "meeting_grace_days",
        "certification_warning_days",
    ],
    "/governance/cadences/": [
        "cadence-name",
        "cadence-tier",
        "cadence-frequency",
        "cadence-partner_tiers",
        "cadence-duration_minutes",
    ],
    "/governance/slas/": ["critical_response_hours", "low_resolution_hours"],
    "/governance/onboarding-templates/": [
        "template-name",
        "template-kind",
        "template-task_0_title",
        "template-task_0_side",
        "template-task_0_due_days",
        "template-task_59_title",
        "op",
    ],
    "/governance/courses/": [
        "course-code",
        "course-name",
        "course-certification",
        "course-validity_months",
        "tier_code",
    ],
}
QUERIES = [
    "/governance/issues/?organisation={v}&status={v}&tier={v}&severity={v}&page={v}&q={v}",
    "/governance/issues/export.csv?organisation={v}&escalated={v}",
    "/governance/issues/new/?organisation={v}",
    "/governance/handovers/new/?predecessor={v}",
    "/governance/handovers/?page={v}",
]


def _url(template: str, alpha: dict[str, Any]) -> str:
    return template.format(issue=alpha["issue"].pk, meeting=alpha["meeting"].pk)


@pytest.mark.parametrize("url", list(FORMS))
def test_odd_form_values_never_give_a_500(login, alpha, channel_manager, url):
    client = login(channel_manager)
    target = _url(url, alpha)
    for value in ODD:
        for name in FORMS[url]:
            response = client.post(target, {name: value})
            assert response.status_code < 500, (name, value)
        response = client.post(target, {name: [value, value] for name in FORMS[url]})
        assert response.status_code < 500, value


@pytest.mark.parametrize("url", QUERIES)
def test_odd_query_strings_never_give_a_500(login, alpha, channel_manager, url):
    client = login(channel_manager)
    for value in ODD:
        response = client.get(url.format(v=value))
        assert response.status_code < 500, value


@pytest.mark.parametrize(
    "url",
    [
        "/governance/issues/99999999999999999999/",
        "/governance/meetings/99999999999999999999/",
        "/governance/attachments/99999999999999999999/",
        "/governance/handovers/99999999999999999999/",
        "/governance/cadences/99999999999999999999/",
        "/governance/courses/99999999999999999999/",
        "/governance/onboarding-templates/99999999999999999999/",
    ],
)
def test_ids_beyond_64_bits_are_404(login, channel_manager, url):
    assert login(channel_manager).get(url).status_code == 404
