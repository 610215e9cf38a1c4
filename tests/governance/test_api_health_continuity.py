"""The governance REST API for health checks (opening, the token survey with no account,
closing into a score and a misalignment flag, the trend), continuity (handover in one step,
409 on a role clash, coverage), onboarding, enablement, the calendar feed, settings and the
dashboard, over a real database and HTTP. The world is the isolation matrix's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from icalendar import Calendar

from accord.governance.models import (
    GovernanceSettings,
    HealthResponse,
    HealthSurvey,
    Meeting,
    OnboardingTask,
    Relationship,
    RoleAssignment,
)
from accord.governance.services import continuity, health
from accord.partners.models import Contact
from tests.apitools import call, fingerprint
from tests.governance.builders import vendor_person
from tests.governance.test_api import get, refused, send
from tests.governance.test_api_isolation import ANSWERS, build_world

pytestmark = pytest.mark.django_db
V1 = "/api/v1/governance"


@pytest.fixture
def world(
    vendor,
    partner_a,
    partner_a_child,
    partner_b,
    partner_a_user,
    partner_a_viewer,
    partner_b_user,
    channel_manager,
    analyst,
) -> dict[str, Any]:
    return build_world(partner_a, partner_a_child, partner_b)


def tokens(survey_id: int) -> dict[str, list[str]]:
    """Fresh link tokens of every respondent of a survey, by side (the e-mailed ones are
    not kept: make new nonces the way the service does)."""
    found: dict[str, list[str]] = {"vendor": [], "partner": []}
    for response in HealthResponse.objects.filter(survey_id=survey_id):
        nonce = f"test-{response.pk}"
        HealthResponse.objects.filter(pk=response.pk).update(token_hash=health._digest(nonce))
        found[response.side].append(health.make_token(response.pk, nonce))
    return found


# -- health checks ----------------------------------------------------------------------------
def test_a_health_check_from_opening_to_score_and_misalignment(
    world, api, channel_manager, partner_a_user
) -> None:
    staff = api(channel_manager)
    opened = send(
        staff, "post", f"/relationships/{world['a']}/health-surveys", {"period": "2031"}, 201
    )
    assert opened["status"] == "open" and opened["period"] == "2031"
    assert opened["invited"] >= 2 and opened["answered"] == 0
    assert opened["progress"]["vendor"]["invited"] and opened["progress"]["partner"]["invited"]
    answer = refused(
        staff, "post", f"/relationships/{world['a']}/health-surveys", {"period": "2032"}, 409
    )
    assert answer["error"] == "conflict"
    links = tokens(opened["id"])
    anonymous = Client()
    form = anonymous.get(f"{V1}/survey/{links['partner'][0]}").json()
    assert form["side"] == "partner" and form["period"] == "2031"
    assert [q["code"] for q in form["questions"]] == [
        "communication",
        "satisfaction",
        "trust",
        "compatibility",
        "goal_alignment",
        "nps",
    ]
    # The vendor is happy, the partner is not: misaligned.
    for token in links["vendor"]:
        response = call(anonymous, "post", f"{V1}/survey/{token}", ANSWERS)
        assert response.status_code == 200, response.content
    low = {**ANSWERS, "trust": 1, "communication": 2}
    for token in links["partner"]:
        assert call(anonymous, "post", f"{V1}/survey/{token}", low).status_code == 200
    # Single use: the second answer is 410, the form too.
    again = call(anonymous, "post", f"{V1}/survey/{links['partner'][0]}", ANSWERS)
    assert again.status_code == 410 and again.json()["error"] == "link_used"
    assert anonymous.get(f"{V1}/survey/{links['partner'][0]}").status_code == 410
    refused(api(partner_a_user), "post", f"/health-surveys/{opened['id']}/close", None, 403)
    closed = send(staff, "post", f"/health-surveys/{opened['id']}/close")
    assert closed["status"] == "closed" and closed["score"] is not None
    assert closed["misaligned"] is True and "trust" in closed["result"]["misaligned_on"]
    assert closed["why"] and closed["reasons"]
    refused(staff, "post", f"/health-surveys/{opened['id']}/close", None, 409)
    trend = get(api(partner_a_user), f"/relationships/{world['a']}/health")
    assert [point["period"] for point in trend] == ["2031"]
    assert trend[0]["score"] == closed["score"] and trend[0]["misaligned"] is True
    row = get(staff, f"/relationships/{world['a']}")
    assert row["misaligned"] is True and row["health_score"] == closed["score"]
    expired = call(anonymous, "post", f"{V1}/survey/{links['vendor'][0]}", ANSWERS)
    assert expired.status_code == 410


@pytest.mark.parametrize(
    "token", ["nonsense", "a" * 500, "eyJyIjoxfQ:1abc:def", "x:y:z", "%00", "..", "-"]
)
def test_survey_links_that_are_not_valid_are_400(world, token: str) -> None:
    before = fingerprint()
    anonymous = Client()
    for response in (
        anonymous.get(f"{V1}/survey/{token}"),
        call(anonymous, "post", f"{V1}/survey/{token}", ANSWERS),
    ):
        assert response.status_code in (400, 404, 422), (token, response.content)
        assert set(response.json()) == {"error", "detail", "fields"}
    assert fingerprint() == before


@pytest.mark.parametrize(
    ("fields", "name"),
    [
        ({"trust": 0}, "trust"),
        ({"trust": 6}, "trust"),
        ({"nps": 11}, "nps"),
        ({"nps": -1}, "nps"),
        ({"nps": "ten"}, "nps"),
        ({"satisfaction": 3.5}, "satisfaction"),
        ({"comment": "\x00"}, "comment"),
        ({"mood": "good"}, "mood"),
    ],
)
def test_bad_survey_answers_are_422(world, fields: dict, name: str) -> None:
    token = tokens(world["a_survey"])["partner"][0]
    before = fingerprint()
    response = call(Client(), "post", f"{V1}/survey/{token}", {**ANSWERS, **fields})
    assert response.status_code == 422 and name in response.json()["fields"], response.content
    assert fingerprint() == before
    missing = {key: value for key, value in ANSWERS.items() if key != "goal_alignment"}
    response = call(Client(), "post", f"{V1}/survey/{token}", missing)
    assert response.status_code == 422 and "goal_alignment" in response.json()["fields"]


def test_opening_needs_people_on_both_sides(world, api, channel_manager) -> None:
    staff = api(channel_manager)
    path = f"/relationships/{world['a']}/health-surveys"
    answer = refused(
        staff, "post", path, {"period": "2033", "respondent_ids": [world["a_vendor"]]}, 422
    )
    assert "respondent_ids" in answer["fields"]
    answer = refused(staff, "post", path, {"respondent_ids": [999_999_999]}, 422)
    assert "respondent_ids" in answer["fields"]
    for period in ("2031-Q5", "31", "2031\x00"):
        refused(staff, "post", path, {"period": period}, 422)
    made = send(
        staff,
        "post",
        path,
        {"period": "2033-Q1", "respondent_ids": [world["a_vendor"], world["a_partner"]]},
        201,
    )
    assert made["invited"] == 2


# -- continuity --------------------------------------------------------------------------------
def test_handover_moves_everything_in_one_step(world, api, channel_manager) -> None:
    staff = api(channel_manager)
    leaver = Contact.objects.get(pk=world["a_vendor"])
    held = RoleAssignment.objects.filter(holder=leaver).count()
    made = send(
        staff,
        "post",
        "/handovers",
        {
            "predecessor_id": world["a_vendor"],
            "successor_id": world["a_vendor_new"],
            "reason": "Moved to another region",
        },
        201,
    )
    assert made["predecessor"]["id"] == world["a_vendor"] and made["leaving"] is True
    assert len(made["moved"]["roles"]) == held >= 1
    assert continuity.orphans(leaver) == {key: [] for key in continuity.orphans(leaver)}
    leaver.refresh_from_db()
    assert leaver.active is False
    listed = get(staff, f"/handovers?organisation={made['organisation_id']}")["items"]
    assert made["id"] in {row["id"] for row in listed}


def test_a_successor_who_holds_another_role_is_409_and_nothing_moves(
    world, api, channel_manager, partner_a_user
) -> None:
    staff = api(channel_manager)
    roles = {
        row.role: row.holder_id for row in RoleAssignment.objects.filter(organisation_id=world["a"])
    }
    body = {
        "predecessor_id": roles[RoleAssignment.Role.SERVICE_DELIVERY],
        "successor_id": roles[RoleAssignment.Role.COMMERCIAL],
    }
    answer = refused(staff, "post", "/handovers", body, 409)
    assert answer["error"] == "conflict" and "successor_id" in answer["fields"]
    assert "only one of the four roles" in answer["fields"]["successor_id"][0]
    refused(api(partner_a_user), "post", "/handovers", body, 403)
    for bad, name in (
        ({"successor_id": world["a_partner"]}, "successor_id"),  # another organisation
        ({"successor_id": body["predecessor_id"]}, "successor_id"),
        ({"predecessor_id": 999_999_999}, "predecessor_id"),
        ({"leaving": "sometimes"}, "leaving"),
    ):
        answer = refused(staff, "post", "/handovers", {**body, **bad}, 422)
        assert name in answer["fields"], answer


def test_coverage_lists_what_lost_cover(world, api, channel_manager, partner_a_user) -> None:
    Contact.objects.filter(pk=world["a_vendor"]).update(active=False)
    report = {row["organisation_id"]: row for row in get(api(channel_manager), "/coverage")}
    kinds = {problem["kind"] for problem in report[world["a"]]["problems"]}
    assert {"slot_empty", "role_inactive"} <= kinds
    mine = get(api(partner_a_user), "/coverage")
    assert world["b"] not in {row["organisation_id"] for row in mine}


# -- onboarding --------------------------------------------------------------------------------
def test_onboarding_from_template_to_ticked_tasks(
    world, api, channel_manager, partner_a_user
) -> None:
    staff, partner = api(channel_manager), api(partner_a_user)
    template = send(
        staff,
        "post",
        "/onboarding-templates",
        {
            "name": "New reseller",
            "kind": "partner",
            "tasks": [
                {"title": "Agreement signed", "side": "partner", "due_days": 7},
                {"title": "Portal access", "side": "vendor", "due_days": 3},
            ],
        },
        201,
    )
    start = timezone.localdate() - dt.timedelta(days=5)
    plan = send(
        staff,
        "post",
        f"/relationships/{world['a']}/onboarding-plans",
        {
            "template_id": template["id"],
            "owners": {"partner": world["a_partner"]},
            "start": start.isoformat(),
        },
        201,
    )
    assert plan["progress"] == {"done": 0, "total": 2, "pct": 0, "overdue": 1}
    by_title = {task["title"]: task for task in plan["tasks"]}
    assert by_title["Agreement signed"]["owner"]["id"] == world["a_partner"]
    assert by_title["Portal access"]["overdue"] is True
    own, vendors = by_title["Agreement signed"]["id"], by_title["Portal access"]["id"]
    refused(partner, "post", f"/onboarding-tasks/{vendors}/complete", {}, 403)
    ticked = send(partner, "post", f"/onboarding-tasks/{own}/complete", {})
    assert ticked["done_at"]
    send(staff, "post", f"/onboarding-tasks/{vendors}/complete", {"done": True})
    assert get(partner, f"/onboarding-plans/{plan['id']}")["progress"]["pct"] == 100
    reopened = send(partner, "post", f"/onboarding-tasks/{own}/complete", {"done": False})
    assert reopened["done_at"] is None
    refused(
        partner,
        "post",
        f"/relationships/{world['a']}/onboarding-plans",
        {"template_id": template["id"]},
        403,
    )
    for bad, name in (
        ({"template_id": 999_999_999}, "template_id"),
        ({"owners": {"partner": world["a_vendor"]}}, "owners.partner"),
        ({"owners": {"board": 1}}, "owners.board"),
        ({"start": "2026-02-30"}, "start"),
    ):
        answer = refused(
            staff,
            "post",
            f"/relationships/{world['a']}/onboarding-plans",
            {"template_id": template["id"], **bad},
            422,
        )
        assert name in answer["fields"], answer
    for bad in ({"tasks": []}, {"tasks": [{"title": "x", "side": "both", "due_days": 1}]}):
        refused(staff, "post", "/onboarding-templates", {**template, **bad, "id": None}, 422)
    assert OnboardingTask.objects.filter(plan_id=plan["id"]).count() == 2


# -- enablement --------------------------------------------------------------------------------
def test_courses_requirements_and_enablement(world, api, channel_manager, partner_a_user):
    staff = api(channel_manager)
    course = send(
        staff,
        "post",
        "/courses",
        {"code": "install", "name": "Installation", "certification": "Installer"},
        201,
    )
    answer = refused(
        staff,
        "post",
        "/courses",
        {"code": "install", "name": "Again", "certification": "Installer 2"},
        422,
    )
    assert "code" in answer["fields"]
    send(staff, "patch", f"/courses/{course['id']}", {"validity_months": 12})
    saved = send(
        staff,
        "put",
        "/certification-requirements/gold",
        {"requirements": [{"course_id": course["id"], "minimum": 2}]},
    )
    assert [(row["course_code"], row["minimum"]) for row in saved] == [("install", 2)]
    assert get(api(partner_a_user), "/certification-requirements?tier_code=gold") == saved
    answer = refused(
        staff,
        "put",
        "/certification-requirements/gold",
        {"requirements": [{"course_id": 999_999_999}]},
        422,
    )
    assert "requirements" in answer["fields"]
    refused(staff, "put", "/certification-requirements/gold!", {"requirements": []}, 422)
    found = get(api(partner_a_user), f"/relationships/{world['a']}/enablement")
    assert found["organisation_id"] == world["a"]
    [person] = found["people"]
    assert person["certifications"][0]["status"] == "expiring"
    expiring = get(staff, "/certifications/expiring?days=30")
    assert {row["id"] for row in expiring["items"]} == {world["a_cert"], world["b_cert"]}
    assert get(staff, "/certifications/expiring?days=5")["count"] == 0
    mine = get(api(partner_a_user), "/certifications/expiring")["items"]
    assert {row["id"] for row in mine} == {world["a_cert"]}
    get(staff, "/certifications/expiring?days=99999", 422)


# -- calendar, settings, dashboard -------------------------------------------------------------
def test_calendar_feed_is_icalendar(world, api, login, channel_manager) -> None:
    holder = vendor_person("Cal Holder", user=channel_manager)
    Meeting.objects.get(pk=world["a_meeting"]).attendees.add(holder)
    response = api(channel_manager).get(f"{V1}/calendar.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    uids = {str(event["uid"]) for event in calendar.walk("VEVENT")}
    assert str(Meeting.objects.get(pk=world["a_meeting"]).uid) in uids
    assert Client().get(f"{V1}/calendar.ics").status_code == 401
    # The browser's session works too.
    session = login(channel_manager).get(f"{V1}/calendar.ics")
    assert session.status_code == 200 and session.content == response.content


def test_settings_round_trip(world, api, channel_manager, analyst) -> None:
    staff = api(channel_manager)
    saved = send(
        staff,
        "put",
        "/settings",
        {
            "tier_program": None,
            "misalignment_threshold": "1.5",
            "survey_days_open": 14,
            "meeting_grace_days": 3,
            "certification_warning_days": 30,
        },
    )
    assert saved["misalignment_threshold"] == "1.5" and saved["meeting_grace_days"] == 3
    assert get(staff, "/settings")["survey_days_open"] == 14
    assert GovernanceSettings.current().certification_warning_days == 30
    for bad, name in (
        ({"misalignment_threshold": "9"}, "misalignment_threshold"),
        ({"misalignment_threshold": "0.05"}, "misalignment_threshold"),
        ({"misalignment_threshold": "NaN"}, "misalignment_threshold"),
        ({"survey_days_open": 0}, "survey_days_open"),
        ({"tier_program": "no-such-program"}, "tier_program"),
        ({"tier_program": "bad code!"}, "tier_program"),
        ({"extra": True}, "extra"),
    ):
        answer = refused(staff, "put", "/settings", {**saved, **bad, "updated_at": None}, 422)
        assert name in answer["fields"] or "updated_at" in answer["fields"], answer


def test_dashboard_counts_what_needs_attention(world, api, channel_manager, partner_a_user):
    Meeting.objects.filter(pk__in=[world["a_meeting"], world["b_meeting"]]).update(
        starts_at=timezone.now() - dt.timedelta(days=30)
    )
    Relationship.objects.filter(organisation_id=world["b"]).update(misaligned=True)
    staff = get(api(channel_manager), "/dashboard")
    assert staff["overdue_meetings"]["count"] == 2
    assert {row["id"] for row in staff["overdue_meetings"]["items"]} == {
        world["a_meeting"],
        world["b_meeting"],
    }
    assert staff["misaligned"]["items"][0]["id"] == world["b"]
    assert staff["open_issues"] == 2
    assert [row["tier"] for row in staff["issues_by_tier"]] == [
        "working",
        "operational",
        "executive",
    ]
    assert staff["expiring_certifications"]["count"] == 2
    assert staff["coverage"]["problems"] >= 2
    partner = get(api(partner_a_user), "/dashboard")
    assert partner["overdue_meetings"]["count"] == 1 and partner["misaligned"]["count"] == 0
    assert partner["open_issues"] == 1 and partner["expiring_certifications"]["count"] == 1


def test_the_survey_needs_no_account_but_every_other_operation_does(world) -> None:
    from accord.api import api as ninja_api

    anonymous = Client()
    for path, operations in ninja_api.get_openapi_schema()["paths"].items():
        if not path.startswith("/api/v1/governance/") or "/survey/" in path:
            continue
        for method in operations:
            url = path.format(id=world["a"], tier="working", function="general", tier_code="gold")
            response = call(anonymous, method, url, {} if method != "get" else None)
            assert response.status_code == 401, (method, path, response.status_code)
    assert HealthSurvey.objects.filter(pk=world["a_survey"]).exists()
