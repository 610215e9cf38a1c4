"""The governance API's isolation matrix: every operation called on partner A's objects by
anonymous, partner B's administrator ("other"), a read-only user, an editor and read-only
vendor staff, with the status each must get. Every denied write changes nothing anywhere;
every allowed write changes something; lists show each caller only its own rows.

"Read-only" is partner A's viewer (who sees A's governance but may change none of it);
"editor" partner A's administrator where partners act on their side (issues, meeting
records, the partner half of the contact map, key people, their action items and tasks)
and a channel manager for the vendor's steps; "staff" the vendor analyst (reads all).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from accord.channel.models import Certification
from accord.governance.models import (
    ActionItem,
    CadenceTemplate,
    CertificationRequirement,
    ContactSlot,
    Course,
    GovernanceSettings,
    Handover,
    Issue,
    Meeting,
    OnboardingPlan,
    OnboardingTask,
    OnboardingTemplate,
    RoleAssignment,
    Side,
    Tier,
)
from accord.governance.services import health, issues
from accord.partners.models import Organisation
from tests.apitools import call, fingerprint
from tests.governance.builders import governed, partner_person, vendor_person

pytestmark = pytest.mark.django_db
V1 = "/api/v1"
ACTORS = ("anonymous", "other", "readonly", "editor", "staff")


def _issue(organisation: Organisation, title: str) -> Issue:
    return issues.raise_issue(
        actor=None, organisation=organisation, title=title, category="delivery", severity="high"
    )


def _plan(organisation: Organisation, owner: Any, template: OnboardingTemplate) -> OnboardingPlan:
    plan = OnboardingPlan.objects.create(
        organisation=organisation, template=template, name="Onboarding"
    )
    OnboardingTask.objects.create(
        plan=plan, title="Sign", side=Side.PARTNER, owner=owner, due_on=timezone.localdate()
    )
    return plan


def build_world(partner_a: Organisation, partner_a_child: Organisation, partner_b: Organisation):
    """A governed relationship with each of A, A's child and B, and one of everything."""
    GovernanceSettings.current()
    a, b = governed(partner_a), governed(partner_b)
    governed(partner_a_child)  # holds A's open health check
    now = timezone.now()
    cadence = CadenceTemplate.objects.create(
        name="Operations review", tier=Tier.OPERATIONAL, frequency="monthly"
    )

    def meeting(organisation: Organisation, people: list) -> Meeting:
        found = Meeting.objects.create(
            organisation=organisation,
            title="Review",
            tier=Tier.WORKING,
            starts_at=now - dt.timedelta(days=2),
        )
        found.attendees.set(people)
        return found

    for organisation in (partner_a, partner_b):  # a slot nobody fills: lost cover
        ContactSlot.objects.create(organisation=organisation, tier=Tier.WORKING, function="sales")
    a_meeting = meeting(partner_a, [a["vendor"][0], a["partner"][0]])
    b_meeting = meeting(partner_b, [b["vendor"][0], b["partner"][0]])
    due = timezone.localdate() + dt.timedelta(days=7)
    a_action = ActionItem.objects.create(
        organisation=partner_a, title="Send forecast", owner=a["partner"][0], due_on=due
    )
    b_action = ActionItem.objects.create(
        organisation=partner_b, title="Send forecast", owner=b["partner"][0], due_on=due
    )
    a_issue, b_issue = _issue(partner_a, "Late deliveries"), _issue(partner_b, "Late too")
    a_resolved = _issue(partner_a, "Wrong invoices")
    issues.resolve(actor=None, issue=a_resolved, root_cause="Old prices", resolution="Fixed")
    attachment = issues.add_attachment(
        actor=None, issue=a_issue, name="photo.png", content=b"\x89PNG", content_type="image/png"
    )
    a_survey, links = health.open_survey(actor=None, organisation=partner_a_child)
    b_survey, _links = health.open_survey(actor=None, organisation=partner_b)
    template = OnboardingTemplate.objects.create(
        name="New partner",
        kind="partner",
        tasks=[{"title": "Sign", "side": "partner", "due_days": 7}],
    )
    a_plan, b_plan = _plan(partner_a, a["partner"][0], template), _plan(partner_b, None, template)
    course = Course.objects.create(code="basics", name="Basics", certification="Basics")
    CertificationRequirement.objects.create(tier_code="gold", course=course)
    soon = timezone.localdate() + dt.timedelta(days=20)
    a_cert, b_cert = (
        Certification.objects.create(
            organisation=organisation,
            person="Someone",
            source_key=f"cert-{organisation.pk}",
            name="Basics",
            earned_on=timezone.localdate() - dt.timedelta(days=700),
            expires_on=soon,
        )
        for organisation in (partner_a, partner_b)
    )

    def handover(found: dict) -> Handover:
        return Handover.objects.create(
            organisation=found["partner"][0].organisation,
            predecessor=found["partner"][1],
            successor=found["partner"][2],
        )

    roles = {role: contact.pk for role, contact in a["roles"].items()}
    # The body of a roles PUT that changes something: two holders swap.
    swapped = {
        **roles,
        RoleAssignment.Role.SERVICE_DELIVERY: roles[RoleAssignment.Role.TRANSFORMATION],
        RoleAssignment.Role.TRANSFORMATION: roles[RoleAssignment.Role.SERVICE_DELIVERY],
    }
    return {
        "a": partner_a.pk,
        "child": partner_a_child.pk,
        "b": partner_b.pk,
        "swapped": swapped,
        "a_vendor": a["vendor"][0].pk,
        "a_partner": a["partner"][0].pk,
        "a_new_person": partner_person(partner_a, "Nina New").pk,
        "a_vendor_new": vendor_person("Victor New").pk,
        "a_key": a["key_people"][0].pk,  # the partner executive (partner side)
        "b_key": b["key_people"][0].pk,
        "a_vendor_key": a["key_people"][1].pk,
        "cadence": cadence.pk,
        "a_meeting": a_meeting.pk,
        "b_meeting": b_meeting.pk,
        "a_action": a_action.pk,
        "b_action": b_action.pk,
        "a_issue": a_issue.pk,
        "b_issue": b_issue.pk,
        "a_resolved": a_resolved.pk,
        "a_attachment": attachment.pk,
        "a_survey": a_survey.pk,
        "b_survey": b_survey.pk,
        "token": links[0][1],
        "a_handover": handover(a).pk,
        "b_handover": handover(b).pk,
        "template": template.pk,
        "a_plan": a_plan.pk,
        "b_plan": b_plan.pk,
        "a_task": a_plan.tasks.get().pk,
        "course": course.pk,
        "a_cert": a_cert.pk,
        "b_cert": b_cert.pk,
    }


@pytest.fixture
def world(
    vendor, partner_a, partner_a_child, partner_b, partner_a_user, partner_a_viewer, analyst
) -> dict[str, Any]:
    return build_world(partner_a, partner_a_child, partner_b)


@dataclass(frozen=True)
class Case:
    """One operation called on partner A's object, and what each actor must get."""

    name: str
    method: str
    path: Callable[[dict], str]
    body: Callable[[dict], Any] | None = None
    editor: str = "partner_a_user"
    readonly: str = "partner_a_viewer"
    expect: dict[str, int] = field(default_factory=dict)
    # For lists: the world keys of A's row and B's row, and the answer's id field.
    rows: tuple[str, str] | None = None
    row_key: str = "id"
    multipart: bool = False

    @property
    def is_read(self) -> bool:
        return self.method == "get"

    def expected(self, actor: str) -> int:
        defaults = {
            "anonymous": 401,
            "other": 200 if self.rows else 404,
            "readonly": 200 if self.is_read else 403,
            "editor": 200,
            "staff": 200 if self.is_read else 403,
        }
        return self.expect.get(actor, defaults[actor])


def p(template: str) -> Callable[[dict], str]:
    return lambda w: V1 + "/governance" + template.format(**w)


STAFF = "channel_manager"
# Network-wide templates every governance reader sees, that only managers change.
SHARED_READ = {"other": 200}
MANAGED = {"other": 403, "editor": 201}
CADENCE = {"name": "Quarterly review", "tier": "executive", "frequency": "quarterly"}
TEMPLATE = {
    "name": "New staff",
    "kind": "staff",
    "tasks": [{"title": "Meet the peer", "side": "vendor", "due_days": 14}],
}
COURSE = {"code": "advanced", "name": "Advanced", "certification": "Advanced"}
SETTINGS = {
    "tier_program": None,
    "misalignment_threshold": "1.5",
    "survey_days_open": 14,
    "meeting_grace_days": 3,
    "certification_warning_days": 30,
}
ANSWERS = {
    "communication": 4,
    "satisfaction": 4,
    "trust": 5,
    "compatibility": 3,
    "goal_alignment": 4,
    "nps": 9,
}
SOON = (timezone.localdate() + dt.timedelta(days=10)).isoformat()
LATER = (timezone.now() + dt.timedelta(days=30)).isoformat()

CASES = [
    # -- relationships and structure
    Case("governance_relationships_list", "get", p("/relationships"), rows=("a", "b")),
    Case("governance_relationships_get", "get", p("/relationships/{a}")),
    Case(
        "governance_relationships_update",
        "patch",
        p("/relationships/{a}"),
        lambda w: {"notes": "Key account", "health_frequency": "quarterly"},
        editor=STAFF,
    ),
    Case("governance_roles_get", "get", p("/relationships/{a}/roles")),
    Case(
        "governance_roles_update",
        "put",
        p("/relationships/{a}/roles"),
        lambda w: w["swapped"],
        editor=STAFF,
    ),
    Case("governance_contact_map_get", "get", p("/relationships/{a}/contact-map")),
    Case(
        "governance_contact_map_set",
        "put",
        p("/relationships/{a}/contact-map/working/general"),
        lambda w: {"partner_contact_id": w["a_new_person"]},
    ),
    Case("governance_key_people_list", "get", p("/key-people"), rows=("a_key", "b_key")),
    Case(
        "governance_key_people_create",
        "post",
        p("/key-people"),
        lambda w: {"organisation_id": w["a"], "person_id": w["a_new_person"]},
        expect={"other": 422, "editor": 201},
    ),
    Case(
        "governance_key_people_update",
        "patch",
        p("/key-people/{a_key}"),
        lambda w: {"responsibility": "Executive sponsor"},
    ),
    Case(
        "governance_key_people_delete",
        "delete",
        p("/key-people/{a_key}"),
        editor=STAFF,
        expect={"editor": 204},
    ),
    # -- cadence and meetings
    Case(
        "governance_cadence_templates_list",
        "get",
        p("/cadence-templates"),
        editor=STAFF,
        expect=SHARED_READ,
    ),
    Case(
        "governance_cadence_templates_create",
        "post",
        p("/cadence-templates"),
        lambda w: CADENCE,
        editor=STAFF,
        expect=MANAGED,
    ),
    Case(
        "governance_cadence_templates_update",
        "patch",
        p("/cadence-templates/{cadence}"),
        lambda w: {"duration_minutes": 90},
        editor=STAFF,
        expect={"other": 403},
    ),
    Case(
        "governance_cadence_apply",
        "post",
        p("/relationships/{a}/cadence/apply"),
        lambda w: {"months": 3},
        editor=STAFF,
    ),
    Case("governance_meetings_list", "get", p("/meetings"), rows=("a_meeting", "b_meeting")),
    Case(
        "governance_meetings_create",
        "post",
        p("/meetings"),
        lambda w: {
            "organisation_id": w["a"],
            "title": "Kick-off",
            "tier": "executive",
            "starts_at": LATER,
            "attendee_ids": [w["a_vendor"], w["a_partner"]],
        },
        editor=STAFF,
        expect={"other": 403, "editor": 201},
    ),
    Case("governance_meetings_get", "get", p("/meetings/{a_meeting}")),
    Case(
        "governance_meetings_update",
        "patch",
        p("/meetings/{a_meeting}"),
        lambda w: {"location": "Room 4"},
        editor=STAFF,
    ),
    Case(
        "governance_meetings_record",
        "post",
        p("/meetings/{a_meeting}/record"),
        lambda w: {"minutes": "Agreed the forecast.", "decisions": "Weekly calls"},
    ),
    Case(
        "governance_meetings_cancel",
        "post",
        p("/meetings/{a_meeting}/cancel"),
        lambda w: {"reason": "Public holiday"},
        editor=STAFF,
    ),
    Case("governance_action_items_list", "get", p("/action-items"), rows=("a_action", "b_action")),
    Case(
        "governance_action_items_create",
        "post",
        p("/action-items"),
        lambda w: {
            "organisation_id": w["a"],
            "title": "Share the stock report",
            "owner_id": w["a_partner"],
            "due_on": SOON,
        },
        expect={"other": 422, "editor": 201},
    ),
    Case("governance_action_items_complete", "post", p("/action-items/{a_action}/complete")),
    # -- issues
    Case("governance_issues_list", "get", p("/issues"), rows=("a_issue", "b_issue")),
    Case(
        "governance_issues_create",
        "post",
        p("/issues"),
        lambda w: {
            "organisation_id": w["a"],
            "title": "Damaged pallets",
            "category": "quality",
            "severity": "critical",
        },
        expect={"other": 422, "editor": 201},
    ),
    Case("governance_issues_get", "get", p("/issues/{a_issue}")),
    Case(
        "governance_issues_respond",
        "post",
        p("/issues/{a_issue}/respond"),
        lambda w: {"note": "Looking into it"},
    ),
    Case(
        "governance_issues_comment",
        "post",
        p("/issues/{a_issue}/comment"),
        lambda w: {"note": "Photos attached"},
    ),
    Case(
        "governance_issues_assign",
        "post",
        p("/issues/{a_issue}/assign"),
        lambda w: {"owner_id": w["a_vendor_new"]},
        editor=STAFF,
    ),
    Case(
        "governance_issues_resolve",
        "post",
        p("/issues/{a_issue}/resolve"),
        lambda w: {
            "root_cause": "Loose straps",
            "resolution": "New straps",
            "corrective_actions": [
                {"title": "Check straps", "owner_id": w["a_vendor"], "due_on": SOON}
            ],
        },
        editor=STAFF,
    ),
    Case(
        "governance_issues_reopen",
        "post",
        p("/issues/{a_resolved}/reopen"),
        lambda w: {"reason": "Wrong again"},
        editor=STAFF,
    ),
    Case("governance_issues_events", "get", p("/issues/{a_issue}/events")),
    Case(
        "governance_issues_attach",
        "post",
        p("/issues/{a_issue}/attachments"),
        lambda w: {"file": SimpleUploadedFile("notes.txt", b"hello", "text/plain")},
        multipart=True,
        expect={"editor": 201},
    ),
    Case("governance_attachments_download", "get", p("/attachments/{a_attachment}")),
    Case(
        "governance_severity_slas_get",
        "get",
        p("/severity-slas"),
        editor=STAFF,
        expect=SHARED_READ,
    ),
    Case(
        "governance_severity_slas_update",
        "put",
        p("/severity-slas"),
        lambda w: {"slas": [{"severity": "high", "response_hours": 4, "resolution_hours": 48}]},
        editor=STAFF,
        expect={"other": 403},
    ),
    # -- health checks
    Case(
        "governance_health_surveys_list",
        "get",
        p("/health-surveys"),
        rows=("a_survey", "b_survey"),
    ),
    Case("governance_health_surveys_get", "get", p("/health-surveys/{a_survey}")),
    Case(
        "governance_health_surveys_open",
        "post",
        p("/relationships/{a}/health-surveys"),
        lambda w: {},
        editor=STAFF,
        expect={"editor": 201},
    ),
    Case(
        "governance_health_surveys_close",
        "post",
        p("/health-surveys/{a_survey}/close"),
        editor=STAFF,
    ),
    Case("governance_health_trend", "get", p("/relationships/{a}/health")),
    # The link's token is the key: no account, the same answer for everyone.
    Case(
        "governance_survey_get",
        "get",
        p("/survey/{token}"),
        expect={"anonymous": 200, "other": 200},
    ),
    Case(
        "governance_survey_answer",
        "post",
        p("/survey/{token}"),
        lambda w: ANSWERS,
        expect=dict.fromkeys(ACTORS, 200),
    ),
    # -- continuity
    Case("governance_handovers_list", "get", p("/handovers"), rows=("a_handover", "b_handover")),
    Case(
        "governance_handovers_create",
        "post",
        p("/handovers"),
        lambda w: {"predecessor_id": w["a_vendor"], "successor_id": w["a_vendor_new"]},
        editor=STAFF,
        expect={"other": 403, "editor": 201},
    ),
    Case(
        "governance_coverage",
        "get",
        p("/coverage"),
        rows=("a", "b"),
        row_key="organisation_id",
    ),
    # -- onboarding
    Case(
        "governance_onboarding_templates_list",
        "get",
        p("/onboarding-templates"),
        editor=STAFF,
        expect=SHARED_READ,
    ),
    Case(
        "governance_onboarding_templates_create",
        "post",
        p("/onboarding-templates"),
        lambda w: TEMPLATE,
        editor=STAFF,
        expect=MANAGED,
    ),
    Case(
        "governance_onboarding_templates_update",
        "patch",
        p("/onboarding-templates/{template}"),
        lambda w: {"name": "New reseller"},
        editor=STAFF,
        expect={"other": 403},
    ),
    Case(
        "governance_onboarding_plans_list",
        "get",
        p("/onboarding-plans"),
        rows=("a_plan", "b_plan"),
    ),
    Case("governance_onboarding_plans_get", "get", p("/onboarding-plans/{a_plan}")),
    Case(
        "governance_onboarding_plans_create",
        "post",
        p("/relationships/{a}/onboarding-plans"),
        lambda w: {"template_id": w["template"]},
        editor=STAFF,
        expect={"editor": 201},
    ),
    Case(
        "governance_onboarding_tasks_complete",
        "post",
        p("/onboarding-tasks/{a_task}/complete"),
        lambda w: {},
    ),
    # -- enablement
    Case("governance_courses_list", "get", p("/courses"), editor=STAFF, expect=SHARED_READ),
    Case(
        "governance_courses_create",
        "post",
        p("/courses"),
        lambda w: COURSE,
        editor=STAFF,
        expect=MANAGED,
    ),
    Case(
        "governance_courses_update",
        "patch",
        p("/courses/{course}"),
        lambda w: {"hours": 8},
        editor=STAFF,
        expect={"other": 403},
    ),
    Case(
        "governance_requirements_list",
        "get",
        p("/certification-requirements"),
        editor=STAFF,
        expect=SHARED_READ,
    ),
    Case(
        "governance_requirements_update",
        "put",
        p("/certification-requirements/gold"),
        lambda w: {"requirements": [{"course_id": w["course"], "minimum": 2}]},
        editor=STAFF,
        expect={"other": 403},
    ),
    Case("governance_enablement", "get", p("/relationships/{a}/enablement")),
    Case(
        "governance_certifications_expiring",
        "get",
        p("/certifications/expiring"),
        rows=("a_cert", "b_cert"),
    ),
    # -- the caller's own calendar, the settings and the dashboard
    Case("governance_calendar", "get", p("/calendar.ics"), expect={"other": 200}),
    Case(
        "governance_settings_get",
        "get",
        p("/settings"),
        editor=STAFF,
        expect={"other": 403, "readonly": 403},  # staff (the analyst) reads it
    ),
    Case(
        "governance_settings_update",
        "put",
        p("/settings"),
        lambda w: SETTINGS,
        editor=STAFF,
        expect={"other": 403},
    ),
    Case("governance_dashboard", "get", p("/dashboard"), expect={"other": 200}),
]
GOVERNANCE_OPERATIONS = {case.name for case in CASES}


def test_every_governance_operation_is_in_the_matrix() -> None:
    from accord.api import api as ninja_api

    operations = {
        operation["operationId"]
        for path in ninja_api.get_openapi_schema()["paths"].values()
        for operation in path.values()
        if operation["tags"] == ["governance"]
    }
    assert operations == GOVERNANCE_OPERATIONS


def actor_user(request: pytest.FixtureRequest, case: Case, actor: str) -> Any:
    name = {
        "anonymous": None,
        "other": "partner_b_user",
        "readonly": case.readonly,
        "editor": case.editor,
        "staff": "analyst",
    }[actor]
    return request.getfixturevalue(name) if name else None


def send(client: Client, case: Case, world: dict) -> Any:
    path = case.path(world)
    if case.multipart:
        return client.post(path, case.body(world))
    return call(client, case.method, path, case.body(world) if case.body else None)


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_isolation(request, world, api, case: Case, actor: str) -> None:
    user = actor_user(request, case, actor)
    client = api(user) if user else Client()
    before = fingerprint()
    response = send(client, case, world)

    expected = case.expected(actor)
    assert response.status_code == expected, (actor, response.content[:500])
    if expected >= 400:
        assert set(response.json()) == {"error", "detail", "fields"}
    if not case.is_read:
        if expected >= 400:
            assert fingerprint() == before, f"{actor}'s {case.name} changed data"
        else:
            assert fingerprint() != before, f"{case.name} by the editor changed nothing"
    if case.rows and expected == 200:
        body = response.json()
        items = body["items"] if isinstance(body, dict) else body
        found = {item[case.row_key] for item in items}
        mine, theirs = (world[key] for key in case.rows)
        if actor == "other":
            assert mine not in found
        elif actor in ("readonly", "editor"):
            assert mine in found and theirs not in found
        elif actor == "staff":
            assert {mine, theirs} <= found
