"""Coverage, handovers, and the network-wide templates and settings pages over real HTTP: who
may open them (partners 403 on the management pages and on handovers, another partner 404 on
a handover of Alpha's people), the preview of what a handover moves, and form errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accord.governance.models import (
    CadenceTemplate,
    CertificationRequirement,
    Course,
    GovernanceSettings,
    Handover,
    Issue,
    KeyPerson,
    OnboardingTemplate,
    RoleAssignment,
    SeveritySla,
)
from accord.governance.services import continuity as continuity_services
from accord.governance.services import settings as settings_services
from accord.partners.models import Contact
from tests.governance import pages_setup
from tests.governance.builders import partner_person, vendor_person
from tests.governance.pages_setup import body, chinese, errors_of
from tests.leads.builders import tier_program

pytestmark = pytest.mark.django_db
alpha, bravo = pages_setup.alpha, pages_setup.bravo  # the shared fixtures

MANAGEMENT_PAGES = [
    "/governance/settings/",
    "/governance/cadences/",
    "/governance/slas/",
    "/governance/onboarding-templates/",
    "/governance/courses/",
]


# -- coverage ----------------------------------------------------------------------------------
def test_coverage_lists_the_relationships_that_lost_cover(login, alpha, bravo, channel_manager):
    RoleAssignment.objects.filter(organisation=bravo["relationship"].organisation).filter(
        role="commercial"
    ).delete()
    KeyPerson.objects.filter(pk=alpha["key_people"][0].pk).update(backup=None)
    text = body(login(channel_manager).get("/governance/coverage/"))
    assert "2 problems in 2 relationships" in text
    assert 'data-kind="role_missing"' in text and 'data-kind="no_backup"' in text


def test_partners_see_their_own_coverage_only(login, alpha, bravo, partner_a_user):
    RoleAssignment.objects.filter(organisation=bravo["relationship"].organisation).delete()
    text = body(login(partner_a_user).get("/governance/coverage/"))
    assert "Bravo" not in text and 'id="coverage-empty"' in text


# -- handovers -----------------------------------------------------------------------------------
def test_a_handover_previews_what_moves_then_moves_it(login, alpha, channel_manager):
    leaver = alpha["roles"]["relationship"]
    successor = vendor_person("Nina Newcomer")
    client = login(channel_manager)
    text = body(client.get(f"/governance/handovers/new/?predecessor={leaver.pk}"))
    assert f'<option value="{leaver.pk}" selected>' in text
    data = {
        "predecessor": leaver.pk,
        "successor": successor.pk,
        "leaving": "on",
        "reason": "Moves to another region",
    }
    response = client.post("/governance/handovers/new/", data)
    text = body(response)
    assert response.status_code == 200 and 'id="handover-preview"' in text
    preview = text.split('id="handover-preview"', 1)[1].split('id="confirm-handover"', 1)[0]
    assert 'data-kind="roles"' in preview and "Relationship management" in preview
    assert 'data-kind="slots"' in preview and 'data-kind="meetings"' in preview
    assert not Handover.objects.exists()  # nothing moved yet
    assert f'name="previewed" value="{leaver.pk}:{successor.pk}"' in text
    # Confirming other people than were previewed shows their preview first.
    other = vendor_person("Otto Other")
    response = client.post(
        "/governance/handovers/new/",
        {**data, "successor": other.pk, "confirm": "1", "previewed": f"{leaver.pk}:{successor.pk}"},
    )
    assert 'id="handover-preview"' in body(response) and not Handover.objects.exists()
    response = client.post(
        "/governance/handovers/new/",
        {**data, "confirm": "1", "previewed": f"{leaver.pk}:{successor.pk}"},
    )
    handover = Handover.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/governance/handovers/{handover.pk}/"
    assert continuity_services.orphans(leaver) == {}
    assert not Contact.objects.get(pk=leaver.pk).active
    text = body(client.get(f"/governance/handovers/{handover.pk}/"))
    assert "Nina Newcomer" in text and 'data-kind="roles"' in text
    assert "Relationship management" in text
    assert "Moves to another region" in body(client.get("/governance/handovers/"))


def test_handover_form_errors(login, alpha, bravo, channel_manager):
    client = login(channel_manager)
    person = alpha["partner"][0]
    response = client.post("/governance/handovers/new/", {"predecessor": person.pk})
    assert errors_of(body(response), "id_successor")
    response = client.post(
        "/governance/handovers/new/", {"predecessor": person.pk, "successor": person.pk}
    )
    assert "other than" in errors_of(body(response), "id_successor")
    other_side = bravo["partner"][0]
    response = client.post(
        "/governance/handovers/new/",
        {"predecessor": person.pk, "successor": other_side.pk, "confirm": "1", "previewed": "x"},
    )
    assert "Alpha Distribution" in errors_of(body(response), "id_successor")
    # The successor already holds another role in the relationship: the service refuses.
    response = client.post(
        "/governance/handovers/new/",
        {
            "predecessor": alpha["roles"]["relationship"].pk,
            "successor": alpha["roles"]["commercial"].pk,
            "confirm": "1",
            "previewed": f"{alpha['roles']['relationship'].pk}:{alpha['roles']['commercial'].pk}",
        },
    )
    text = body(response)
    assert response.status_code == 200
    assert "already holds" in errors_of(text, "id_successor") + text.split("form-errors", 1)[-1]
    assert not Handover.objects.exists()


def test_partners_may_not_hand_over_and_partner_b_gets_404(
    login, alpha, bravo, channel_manager, partner_a_user, partner_b_user
):
    leaver = alpha["partner"][1]
    successor = partner_person(alpha["relationship"].organisation, "Sam Successor")
    handover = continuity_services.handover(
        actor=channel_manager, predecessor=leaver, successor=successor, leaving=True
    )
    client = login(partner_a_user)
    assert client.get("/governance/handovers/new/").status_code == 403
    assert client.post("/governance/handovers/new/", {}).status_code == 403
    assert client.get(f"/governance/handovers/{handover.pk}/").status_code == 200
    client = login(partner_b_user)
    assert client.get(f"/governance/handovers/{handover.pk}/").status_code == 404
    assert "Sam Successor" not in body(client.get("/governance/handovers/"))


# -- settings and templates ------------------------------------------------------------------------
@pytest.mark.parametrize("url", MANAGEMENT_PAGES)
def test_management_pages_are_for_managers(login, url, channel_manager, partner_a_user, analyst):
    assert login(channel_manager).get(url).status_code == 200
    assert chinese(login(channel_manager)).get(url).status_code == 200
    for user in (partner_a_user, analyst):
        client = login(user)
        assert client.get(url).status_code == 403
        assert client.post(url, {}).status_code == 403


def test_settings_are_saved_and_checked(login, channel_manager):
    program = tier_program(code="govtiers")
    client = login(channel_manager)
    data = {
        "tier_program": program.pk,
        "misalignment_threshold": "1.5",
        "survey_days_open": "30",
        "meeting_grace_days": "5",
        "certification_warning_days": "90",
    }
    response = client.post("/governance/settings/", {**data, "survey_days_open": "0"})
    assert response.status_code == 200 and errors_of(body(response), "id_survey_days_open")
    response = client.post("/governance/settings/", data)
    assert response.status_code == 302
    current = GovernanceSettings.current()
    assert current.tier_program == program
    assert current.misalignment_threshold == Decimal("1.5")
    assert (current.meeting_grace_days, current.certification_warning_days) == (5, 90)


def test_cadence_templates_are_created_and_edited(login, channel_manager):
    program = tier_program(code="govtiers")
    settings_services.update_settings(actor=None, data={"tier_program": program})
    client = login(channel_manager)
    text = body(client.get("/governance/cadences/"))
    assert 'value="gold"' in text  # the tier program's tiers are offered
    response = client.post("/governance/cadences/", {"cadence-name": ""})
    assert errors_of(body(response), "id_cadence-name")
    response = client.post(
        "/governance/cadences/",
        {
            "cadence-name": "Quarterly business review",
            "cadence-name_zh": "季度业务回顾",
            "cadence-tier": "operational",
            "cadence-frequency": "quarterly",
            "cadence-partner_tiers": ["gold"],
            "cadence-duration_minutes": "90",
            "cadence-active": "on",
        },
    )
    assert response.status_code == 302
    template = CadenceTemplate.objects.get()
    assert template.partner_tiers == ["gold"] and template.duration_minutes == 90
    response = client.post(
        f"/governance/cadences/{template.pk}/",
        {
            "cadence-name": "QBR",
            "cadence-name_zh": "季度业务回顾",
            "cadence-tier": "operational",
            "cadence-frequency": "quarterly",
            "cadence-duration_minutes": "60",
        },
    )
    template.refresh_from_db()
    assert response.status_code == 302 and (template.name, template.active) == ("QBR", False)
    assert "季度业务回顾" in body(chinese(login(channel_manager)).get("/governance/cadences/"))


def test_severity_slas_are_saved_with_field_errors(login, channel_manager):
    client = login(channel_manager)
    data = {}
    for severity, (response_hours, resolution_hours) in SeveritySla.DEFAULTS.items():
        data[f"{severity}_response_hours"] = response_hours
        data[f"{severity}_resolution_hours"] = resolution_hours
    response = client.post("/governance/slas/", {**data, "high_resolution_hours": "4"})
    assert errors_of(body(response), "id_high_resolution_hours")
    response = client.post("/governance/slas/", {**data, "high_resolution_hours": "48"})
    assert response.status_code == 302
    assert SeveritySla.objects.get(severity=Issue.Severity.HIGH).resolution_hours == 48


def test_onboarding_templates_with_their_tasks(login, channel_manager):
    client = login(channel_manager)
    base = {"template-name": "New partner", "template-kind": "partner", "template-active": "on"}
    response = client.post("/governance/onboarding-templates/", base)
    assert errors_of(body(response), "id_template-task_0_title")
    response = client.post(
        "/governance/onboarding-templates/", {**base, "op": "more", "template-task_0_title": "A"}
    )
    assert 'name="template-task_3_title"' in body(response)  # more rows, what was typed kept
    assert OnboardingTemplate.objects.count() == 0
    response = client.post(
        "/governance/onboarding-templates/",
        {
            **base,
            "template-task_0_title": "Agreement signed",
            "template-task_0_side": "partner",
            "template-task_0_due_days": "7",
            "template-task_1_title": "Portal access",
            "template-task_1_title_zh": "门户访问",
            "template-task_1_side": "vendor",
            "template-task_1_due_days": "3",
            "template-task_2_title": "",
        },
    )
    assert response.status_code == 302
    template = OnboardingTemplate.objects.get()
    assert [task["title"] for task in template.tasks] == ["Agreement signed", "Portal access"]
    text = body(client.get("/governance/onboarding-templates/"))
    assert "Agreement signed" in text and "Portal access" in text
    text = body(client.get(f"/governance/onboarding-templates/{template.pk}/"))
    assert 'value="Portal access"' in text


def test_courses_and_required_certifications(login, channel_manager):
    program = tier_program(code="govtiers")
    settings_services.update_settings(actor=None, data={"tier_program": program})
    client = login(channel_manager)
    response = client.post("/governance/courses/", {"course-code": "bad code"})
    text = body(response)
    assert errors_of(text, "id_course-code") and errors_of(text, "id_course-name")
    response = client.post(
        "/governance/courses/",
        {
            "course-code": "router-expert",
            "course-name": "Router expert",
            "course-certification": "Router expert certificate",
            "course-validity_months": "24",
            "course-hours": "8",
            "course-active": "on",
        },
    )
    assert response.status_code == 302
    course = Course.objects.get()
    text = body(client.get("/governance/courses/"))
    assert 'data-tier="gold"' in text
    response = client.post(
        "/governance/courses/", {"tier_code": "gold", f"tier-gold-course_{course.pk}": "2"}
    )
    assert response.status_code == 302
    requirement = CertificationRequirement.objects.get()
    assert (requirement.tier_code, requirement.minimum) == ("gold", 2)
    response = client.post("/governance/courses/", {"tier_code": "platinum"})
    assert response.status_code == 302 and CertificationRequirement.objects.count() == 1


def test_coverage_and_handover_pages_render_in_chinese(login, alpha, channel_manager):
    leaver = alpha["partner"][1]
    successor = partner_person(alpha["relationship"].organisation, "Sam Successor")
    handover = continuity_services.handover(
        actor=channel_manager, predecessor=leaver, successor=successor, leaving=True
    )
    client = chinese(login(channel_manager))
    for url in (
        "/governance/coverage/",
        "/governance/handovers/",
        "/governance/handovers/new/",
        f"/governance/handovers/{handover.pk}/",
    ):
        response = client.get(url)
        assert response.status_code == 200 and 'lang="zh-hans"' in body(response), url
    response = client.post(
        "/governance/handovers/new/",
        {"predecessor": alpha["roles"]["relationship"].pk, "successor": successor.pk},
    )
    assert response.status_code == 200
