"""Review: every governance API write sent by partner A's administrator and sales user with ids
in the body that belong to partner B or to the vendor side, or a step partners may not take
(vendor half of a slot, roles, resolve/reopen/assign, vendor tasks). Each must answer 4xx with
the JSON error shape and change nothing anywhere in the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from accord.accounts.models import User
from accord.governance.models import (
    ActionItem,
    CadenceTemplate,
    Course,
    GovernanceSettings,
    Issue,
    Meeting,
    OnboardingPlan,
    OnboardingTask,
    OnboardingTemplate,
    Side,
    Tier,
)
from accord.governance.services import health, issues
from accord.partners.models import Organisation
from tests.apitools import call, fingerprint
from tests.factories import UserFactory
from tests.governance.builders import governed

pytestmark = pytest.mark.django_db
G = "/api/v1/governance"


def _issue(org: Organisation, title: str) -> Issue:
    return issues.raise_issue(
        actor=None, organisation=org, title=title, category="delivery", severity="high"
    )


@pytest.fixture
def world(vendor, partner_a, partner_b) -> dict[str, Any]:
    GovernanceSettings.current()
    a, b = governed(partner_a), governed(partner_b)
    now = timezone.now()
    due = timezone.localdate() + dt.timedelta(days=7)

    def meeting(org: Organisation, people: list) -> Meeting:
        found = Meeting.objects.create(
            organisation=org,
            title="Review",
            tier=Tier.WORKING,
            starts_at=now - dt.timedelta(days=1),
        )
        found.attendees.set(people)
        return found

    a_meeting = meeting(partner_a, [a["vendor"][0], a["vendor"][1], a["partner"][0]])
    b_meeting = meeting(partner_b, [b["vendor"][0], b["partner"][0]])
    a_vendor_action = ActionItem.objects.create(
        organisation=partner_a, title="Vendor step", owner=a["vendor"][0], due_on=due
    )
    template = OnboardingTemplate.objects.create(
        name="New partner",
        kind="partner",
        tasks=[{"title": "Sign", "side": "vendor", "due_days": 7}],
    )
    plan = OnboardingPlan.objects.create(organisation=partner_a, template=template, name="Onb")
    vendor_task = OnboardingTask.objects.create(
        plan=plan, title="Kick-off", side=Side.VENDOR, owner=a["vendor"][0], due_on=due
    )
    a_issue, b_issue = _issue(partner_a, "Late deliveries"), _issue(partner_b, "Late too")
    a_resolved = _issue(partner_a, "Wrong invoices")
    issues.resolve(actor=None, issue=a_resolved, root_cause="Old prices", resolution="Fixed")
    b_survey, _links = health.open_survey(actor=None, organisation=partner_b)
    return {
        "a": partner_a.pk,
        "b": partner_b.pk,
        "a_vendor": a["vendor"][0].pk,
        "a_vendor2": a["vendor"][2].pk,
        "a_partner": a["partner"][0].pk,
        "a_partner2": a["partner"][1].pk,
        "b_partner": b["partner"][0].pk,
        "b_vendor": b["vendor"][0].pk,
        "a_partner_key": a["key_people"][0].pk,
        "a_vendor_key": a["key_people"][1].pk,
        "b_key": b["key_people"][0].pk,
        "a_meeting": a_meeting.pk,
        "b_meeting": b_meeting.pk,
        "a_vendor_action": a_vendor_action.pk,
        "vendor_task": vendor_task.pk,
        "template": template.pk,
        "a_issue": a_issue.pk,
        "b_issue": b_issue.pk,
        "a_resolved": a_resolved.pk,
        "b_survey": b_survey.pk,
        "cadence": CadenceTemplate.objects.create(
            name="Ops", tier=Tier.OPERATIONAL, frequency="monthly"
        ).pk,
        "course": Course.objects.create(code="basics", name="Basics", certification="B").pk,
    }


W = dict[str, Any]
Body = Callable[[W], Any]
DUE = (timezone.localdate() + dt.timedelta(days=5)).isoformat()

# (name, method, path(w), body(w))
CASES: list[tuple[str, str, Callable[[W], str], Body | None]] = [
    (
        "patch relationship",
        "patch",
        lambda w: f"{G}/relationships/{w['a']}",
        lambda w: {"notes": "x"},
    ),
    (
        "roles own vendor ids",
        "put",
        lambda w: f"{G}/relationships/{w['a']}/roles",
        lambda w: {
            "service_delivery": w["a_vendor2"],
            "transformation": None,
            "relationship": None,
            "commercial": None,
        },
    ),
    (
        "roles on B",
        "put",
        lambda w: f"{G}/relationships/{w['b']}/roles",
        lambda w: {"service_delivery": None},
    ),
    (
        "slot vendor_contact",
        "put",
        lambda w: f"{G}/relationships/{w['a']}/contact-map/working/general",
        lambda w: {"vendor_contact_id": w["a_vendor2"]},
    ),
    (
        "slot vendor_contact cleared",
        "put",
        lambda w: f"{G}/relationships/{w['a']}/contact-map/working/general",
        lambda w: {"vendor_contact_id": None},
    ),
    (
        "slot partner = B's person",
        "put",
        lambda w: f"{G}/relationships/{w['a']}/contact-map/working/general",
        lambda w: {"partner_contact_id": w["b_partner"]},
    ),
    (
        "slot partner = vendor person",
        "put",
        lambda w: f"{G}/relationships/{w['a']}/contact-map/working/general",
        lambda w: {"partner_contact_id": w["a_vendor"]},
    ),
    (
        "slot on B",
        "put",
        lambda w: f"{G}/relationships/{w['b']}/contact-map/working/general",
        lambda w: {"partner_contact_id": w["a_partner"]},
    ),
    (
        "key person = B's person",
        "post",
        lambda w: f"{G}/key-people",
        lambda w: {"organisation_id": w["a"], "person_id": w["b_partner"]},
    ),
    (
        "key person = vendor person",
        "post",
        lambda w: f"{G}/key-people",
        lambda w: {"organisation_id": w["a"], "person_id": w["a_vendor2"]},
    ),
    (
        "key person backup = B's person",
        "post",
        lambda w: f"{G}/key-people",
        lambda w: {
            "organisation_id": w["a"],
            "person_id": w["a_partner2"],
            "backup_id": w["b_partner"],
        },
    ),
    (
        "key person backup = vendor",
        "post",
        lambda w: f"{G}/key-people",
        lambda w: {
            "organisation_id": w["a"],
            "person_id": w["a_partner2"],
            "backup_id": w["a_vendor"],
        },
    ),
    (
        "key person on B",
        "post",
        lambda w: f"{G}/key-people",
        lambda w: {"organisation_id": w["b"], "person_id": w["b_partner"]},
    ),
    (
        "patch vendor key person",
        "patch",
        lambda w: f"{G}/key-people/{w['a_vendor_key']}",
        lambda w: {"responsibility": "mine"},
    ),
    (
        "patch own key person backup = B",
        "patch",
        lambda w: f"{G}/key-people/{w['a_partner_key']}",
        lambda w: {"backup_id": w["b_partner"]},
    ),
    (
        "patch own key person person = vendor",
        "patch",
        lambda w: f"{G}/key-people/{w['a_partner_key']}",
        lambda w: {"person_id": w["a_vendor"]},
    ),
    (
        "patch B key person",
        "patch",
        lambda w: f"{G}/key-people/{w['b_key']}",
        lambda w: {"responsibility": "x"},
    ),
    ("delete vendor key person", "delete", lambda w: f"{G}/key-people/{w['a_vendor_key']}", None),
    ("delete B key person", "delete", lambda w: f"{G}/key-people/{w['b_key']}", None),
    (
        "cadence template",
        "post",
        lambda w: f"{G}/cadence-templates",
        lambda w: {"name": "X", "tier": "working", "frequency": "monthly"},
    ),
    (
        "patch cadence template",
        "patch",
        lambda w: f"{G}/cadence-templates/{w['cadence']}",
        lambda w: {"name": "Y"},
    ),
    ("apply cadence", "post", lambda w: f"{G}/relationships/{w['a']}/cadence/apply", lambda w: {}),
    (
        "create meeting",
        "post",
        lambda w: f"{G}/meetings",
        lambda w: {
            "organisation_id": w["a"],
            "title": "M",
            "tier": "working",
            "starts_at": "2027-01-01T10:00:00Z",
            "attendee_ids": [w["a_partner"]],
        },
    ),
    (
        "patch meeting",
        "patch",
        lambda w: f"{G}/meetings/{w['a_meeting']}",
        lambda w: {"title": "Changed"},
    ),
    (
        "record with B's attendee",
        "post",
        lambda w: f"{G}/meetings/{w['a_meeting']}/record",
        lambda w: {"minutes": "m", "decisions": "d", "attendee_ids": [w["b_partner"]]},
    ),
    (
        "record with vendor attendee",
        "post",
        lambda w: f"{G}/meetings/{w['a_meeting']}/record",
        lambda w: {"minutes": "m", "decisions": "d", "attendee_ids": [w["a_vendor2"]]},
    ),
    (
        "record B's meeting",
        "post",
        lambda w: f"{G}/meetings/{w['b_meeting']}/record",
        lambda w: {"minutes": "m", "decisions": "d"},
    ),
    (
        "cancel meeting",
        "post",
        lambda w: f"{G}/meetings/{w['a_meeting']}/cancel",
        lambda w: {"reason": "no"},
    ),
    (
        "action owner = vendor",
        "post",
        lambda w: f"{G}/action-items",
        lambda w: {
            "organisation_id": w["a"],
            "title": "T",
            "owner_id": w["a_vendor"],
            "due_on": DUE,
        },
    ),
    (
        "action owner = B's person",
        "post",
        lambda w: f"{G}/action-items",
        lambda w: {
            "organisation_id": w["a"],
            "title": "T",
            "owner_id": w["b_partner"],
            "due_on": DUE,
        },
    ),
    (
        "action on B's meeting",
        "post",
        lambda w: f"{G}/action-items",
        lambda w: {
            "organisation_id": w["a"],
            "title": "T",
            "owner_id": w["a_partner"],
            "due_on": DUE,
            "meeting_id": w["b_meeting"],
        },
    ),
    (
        "action on B's issue",
        "post",
        lambda w: f"{G}/action-items",
        lambda w: {
            "organisation_id": w["a"],
            "title": "T",
            "owner_id": w["a_partner"],
            "due_on": DUE,
            "issue_id": w["b_issue"],
        },
    ),
    (
        "action on B",
        "post",
        lambda w: f"{G}/action-items",
        lambda w: {
            "organisation_id": w["b"],
            "title": "T",
            "owner_id": w["b_partner"],
            "due_on": DUE,
        },
    ),
    (
        "complete vendor action",
        "post",
        lambda w: f"{G}/action-items/{w['a_vendor_action']}/complete",
        lambda w: {},
    ),
    (
        "issue on B",
        "post",
        lambda w: f"{G}/issues",
        lambda w: {
            "organisation_id": w["b"],
            "title": "T",
            "category": "delivery",
            "severity": "low",
        },
    ),
    (
        "issue owner = B's person",
        "post",
        lambda w: f"{G}/issues",
        lambda w: {
            "organisation_id": w["a"],
            "title": "T",
            "category": "delivery",
            "severity": "low",
            "owner_id": w["b_partner"],
        },
    ),
    (
        "issue owner = B's vendor holder",
        "post",
        lambda w: f"{G}/issues",
        lambda w: {
            "organisation_id": w["a"],
            "title": "T",
            "category": "delivery",
            "severity": "low",
            "owner_id": w["b_vendor"],
        },
    ),
    (
        "respond B's issue",
        "post",
        lambda w: f"{G}/issues/{w['b_issue']}/respond",
        lambda w: {"note": "n"},
    ),
    (
        "comment B's issue",
        "post",
        lambda w: f"{G}/issues/{w['b_issue']}/comment",
        lambda w: {"note": "n"},
    ),
    (
        "assign issue",
        "post",
        lambda w: f"{G}/issues/{w['a_issue']}/assign",
        lambda w: {"owner_id": w["a_partner"]},
    ),
    (
        "assign issue to B",
        "post",
        lambda w: f"{G}/issues/{w['a_issue']}/assign",
        lambda w: {"owner_id": w["b_partner"]},
    ),
    (
        "resolve issue",
        "post",
        lambda w: f"{G}/issues/{w['a_issue']}/resolve",
        lambda w: {
            "root_cause": "r",
            "resolution": "r",
            "corrective_actions": [{"title": "t", "owner_id": w["b_partner"], "due_on": DUE}],
        },
    ),
    (
        "reopen issue",
        "post",
        lambda w: f"{G}/issues/{w['a_resolved']}/reopen",
        lambda w: {"reason": "again"},
    ),
    (
        "severity slas",
        "put",
        lambda w: f"{G}/severity-slas",
        lambda w: {"slas": [{"severity": "low", "response_hours": 1, "resolution_hours": 2}]},
    ),
    (
        "open survey",
        "post",
        lambda w: f"{G}/relationships/{w['a']}/health-surveys",
        lambda w: {"respondent_ids": [w["a_partner"], w["b_partner"]]},
    ),
    ("close B survey", "post", lambda w: f"{G}/health-surveys/{w['b_survey']}/close", lambda w: {}),
    (
        "handover to B's person",
        "post",
        lambda w: f"{G}/handovers",
        lambda w: {"predecessor_id": w["a_partner"], "successor_id": w["b_partner"]},
    ),
    (
        "handover own side",
        "post",
        lambda w: f"{G}/handovers",
        lambda w: {"predecessor_id": w["a_partner"], "successor_id": w["a_partner2"]},
    ),
    (
        "handover vendor",
        "post",
        lambda w: f"{G}/handovers",
        lambda w: {"predecessor_id": w["a_vendor"], "successor_id": w["a_vendor2"]},
    ),
    (
        "onboarding template",
        "post",
        lambda w: f"{G}/onboarding-templates",
        lambda w: {"name": "X", "kind": "partner", "tasks": []},
    ),
    (
        "patch onboarding template",
        "patch",
        lambda w: f"{G}/onboarding-templates/{w['template']}",
        lambda w: {"name": "Y"},
    ),
    (
        "start onboarding",
        "post",
        lambda w: f"{G}/relationships/{w['a']}/onboarding-plans",
        lambda w: {"template_id": w["template"], "owners": {"partner": w["b_partner"]}},
    ),
    (
        "complete vendor task",
        "post",
        lambda w: f"{G}/onboarding-tasks/{w['vendor_task']}/complete",
        lambda w: {"done": True},
    ),
    (
        "course",
        "post",
        lambda w: f"{G}/courses",
        lambda w: {"code": "c2", "name": "C", "certification": "C"},
    ),
    ("patch course", "patch", lambda w: f"{G}/courses/{w['course']}", lambda w: {"name": "Z"}),
    (
        "requirements",
        "put",
        lambda w: f"{G}/certification-requirements/gold",
        lambda w: {"requirements": [{"course_id": w["course"], "minimum": 1}]},
    ),
    ("settings", "put", lambda w: f"{G}/settings", lambda w: {"survey_days_open": 3}),
]


@pytest.fixture(params=["partner_admin", "partner_sales"])
def partner_actor(request, partner_a) -> User:
    email = f"{request.param}@alpha.test"
    user = UserFactory(organisation=partner_a, email=email, roles=[request.param])
    return User.objects.select_related("organisation").get(pk=user.pk)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_partner_write_out_of_side_changes_nothing(case, world, partner_actor, api) -> None:
    _name, method, path, body = case
    client = api(partner_actor)
    before = fingerprint()
    response = call(client, method, path(world), body(world) if body else None)
    assert response.status_code in (403, 404, 422), (response.status_code, response.content)
    assert set(response.json()) == {"error", "detail", "fields"}
    assert fingerprint() == before


def test_partner_record_keeps_vendor_attendees(world, partner_actor, api) -> None:
    """A partner's attendee list replaces only partner-side attendees."""
    meeting = Meeting.objects.get(pk=world["a_meeting"])
    vendor_ids = {c.pk for c in meeting.attendees.all() if c.organisation_id != world["a"]}
    response = call(
        api(partner_actor),
        "post",
        f"{G}/meetings/{meeting.pk}/record",
        {"minutes": "m", "decisions": "d", "attendee_ids": [world["a_partner2"]]},
    )
    assert response.status_code == 200, response.content
    now_ids = set(meeting.attendees.values_list("pk", flat=True))
    assert vendor_ids <= now_ids
    assert world["a_partner2"] in now_ids and world["a_partner"] not in now_ids


def test_controls_partner_side_writes_succeed(world, partner_actor, api) -> None:
    """The refusals above are side checks: the same operations work on the partner's side."""
    client = api(partner_actor)
    slot = call(
        client,
        "put",
        f"{G}/relationships/{world['a']}/contact-map/working/general",
        {"partner_contact_id": world["a_partner2"]},
    )
    assert slot.status_code == 200, slot.content
    action = call(
        client,
        "post",
        f"{G}/action-items",
        {
            "organisation_id": world["a"],
            "title": "T",
            "owner_id": world["a_partner"],
            "due_on": DUE,
        },
    )
    assert action.status_code in (200, 201), action.content
    done = call(client, "post", f"{G}/action-items/{action.json()['id']}/complete", {})
    assert done.status_code == 200, done.content
    issue = call(
        client,
        "post",
        f"{G}/issues",
        {"organisation_id": world["a"], "title": "T", "category": "delivery", "severity": "low"},
    )
    assert issue.status_code in (200, 201), issue.content
