"""Review: the same out-of-side steps sent by partner A's administrator and sales user through
the governance pages' forms (not the API): refused (403/404) or the form shown again with an
error, never a 500, and nothing changed anywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from accord.governance.models import ActionItem, Issue, OnboardingTask
from tests.apitools import fingerprint
from tests.governance.test_review_partner_writes import (  # noqa: F401 (fixtures)
    partner_actor,
    world,
)

pytestmark = pytest.mark.django_db
P = "/governance"
W = dict[str, Any]

FORMS: list[tuple[str, Callable[[W], str], Callable[[W], dict]]] = [
    (
        "roles",
        lambda w: f"{P}/relationships/{w['a']}/roles/",
        lambda w: {"service_delivery": w["a_vendor2"]},
    ),
    (
        "slot vendor person",
        lambda w: f"{P}/relationships/{w['a']}/slots/",
        lambda w: {
            "tier": "working",
            "function": "general",
            "vendor_contact": w["a_vendor2"],
            "partner_contact": w["a_partner"],
        },
    ),
    (
        "slot B's person",
        lambda w: f"{P}/relationships/{w['a']}/slots/",
        lambda w: {"tier": "working", "function": "general", "partner_contact": w["b_partner"]},
    ),
    (
        "slot on B",
        lambda w: f"{P}/relationships/{w['b']}/slots/",
        lambda w: {"tier": "working", "function": "general", "partner_contact": w["b_partner"]},
    ),
    (
        "key person B's person",
        lambda w: f"{P}/relationships/{w['a']}/key-people/",
        lambda w: {"person": w["b_partner"]},
    ),
    (
        "key person vendor",
        lambda w: f"{P}/relationships/{w['a']}/key-people/",
        lambda w: {"person": w["a_vendor2"]},
    ),
    (
        "key person backup B",
        lambda w: f"{P}/relationships/{w['a']}/key-people/",
        lambda w: {"person": w["a_partner2"], "backup": w["b_partner"]},
    ),
    (
        "edit relationship",
        lambda w: f"{P}/relationships/{w['a']}/edit/",
        lambda w: {"health_frequency": "annual", "notes": "x"},
    ),
    (
        "apply cadence",
        lambda w: f"{P}/relationships/{w['a']}/cadence/apply/",
        lambda w: {"months": 3},
    ),
    (
        "new meeting",
        lambda w: f"{P}/relationships/{w['a']}/meetings/new/",
        lambda w: {"title": "M", "tier": "working", "starts_at": "2027-01-01 10:00"},
    ),
    ("open health", lambda w: f"{P}/relationships/{w['a']}/health/open/", lambda w: {}),
    (
        "start onboarding",
        lambda w: f"{P}/relationships/{w['a']}/onboarding/new/",
        lambda w: {"template": w["template"]},
    ),
    (
        "assign issue",
        lambda w: f"{P}/issues/{w['a_issue']}/assign/",
        lambda w: {"assign-owner": w["a_partner"]},
    ),
    (
        "resolve issue",
        lambda w: f"{P}/issues/{w['a_issue']}/resolve/",
        lambda w: {"resolve-root_cause": "r", "resolve-resolution": "r"},
    ),
    (
        "reopen issue",
        lambda w: f"{P}/issues/{w['a_resolved']}/reopen/",
        lambda w: {"reopen-reason": "again"},
    ),
    (
        "respond B's issue",
        lambda w: f"{P}/issues/{w['b_issue']}/respond/",
        lambda w: {"respond-note": "n"},
    ),
    (
        "record with B's attendee",
        lambda w: f"{P}/meetings/{w['a_meeting']}/record/",
        lambda w: {"record-minutes": "m", "record-attendees": [w["b_partner"]]},
    ),
    (
        "record with vendor attendee",
        lambda w: f"{P}/meetings/{w['a_meeting']}/record/",
        lambda w: {"record-minutes": "m", "record-attendees": [w["a_vendor2"]]},
    ),
    (
        "record B's meeting",
        lambda w: f"{P}/meetings/{w['b_meeting']}/record/",
        lambda w: {"record-minutes": "m"},
    ),
    (
        "cancel meeting",
        lambda w: f"{P}/meetings/{w['a_meeting']}/cancel/",
        lambda w: {"cancel-reason": "no"},
    ),
    (
        "action owned by vendor",
        lambda w: f"{P}/meetings/{w['a_meeting']}/actions/",
        lambda w: {
            "action-title": "T",
            "action-owner": w["a_vendor"],
            "action-due_on": "2027-01-01",
        },
    ),
    (
        "action owned by B",
        lambda w: f"{P}/meetings/{w['a_meeting']}/actions/",
        lambda w: {
            "action-title": "T",
            "action-owner": w["b_partner"],
            "action-due_on": "2027-01-01",
        },
    ),
    ("vendor action done", lambda w: f"{P}/actions/{w['a_vendor_action']}/done/", lambda w: {}),
    ("vendor task done", lambda w: f"{P}/tasks/{w['vendor_task']}/done/", lambda w: {}),
    (
        "handover",
        lambda w: f"{P}/handovers/new/",
        lambda w: {"predecessor": w["a_partner"], "successor": w["a_partner2"]},
    ),
]


@pytest.mark.parametrize("case", FORMS, ids=[c[0] for c in FORMS])
def test_partner_form_out_of_side_changes_nothing(case, world, partner_actor, login) -> None:  # noqa: F811
    _name, path, body = case
    client = login(partner_actor)
    before = fingerprint()
    response = client.post(path(world), body(world))
    assert response.status_code in (200, 302, 400, 403, 404), response.status_code
    assert fingerprint() == before


def test_forms_controls_do_change(world, partner_actor, login) -> None:  # noqa: F811
    """The refusals above are side checks: the same forms work on the partner's own side."""
    client = login(partner_actor)
    task = OnboardingTask.objects.get(pk=world["vendor_task"])
    own = ActionItem.objects.create(
        organisation_id=world["a"], title="Mine", owner_id=world["a_partner"], due_on=task.due_on
    )
    assert client.post(f"{P}/actions/{own.pk}/done/").status_code == 302
    own.refresh_from_db()
    assert own.status == ActionItem.Status.DONE
    response = client.post(f"{P}/issues/{world['a_issue']}/comment/", {"comment-note": "From us"})
    assert response.status_code in (200, 302), response.status_code
    assert Issue.objects.get(pk=world["a_issue"]).events.filter(note="From us").exists()
