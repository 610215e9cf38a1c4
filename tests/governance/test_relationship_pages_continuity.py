"""The relationship page's continuity, onboarding and enablement tabs over real HTTP: the
coverage this relationship lost, handovers, onboarding plans with their progress and the
tick of a task (partners their own side's only), starting a plan, and the certifications
of the partner's people against its tier's requirements."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from accord.channel.models import Certification
from accord.governance.models import (
    CertificationRequirement,
    Course,
    GovernanceSettings,
    KeyPerson,
    OnboardingPlan,
    OnboardingTask,
    OnboardingTemplate,
    RoleAssignment,
)
from accord.governance.services import continuity as continuity_services
from accord.partners.models import Organisation
from accord.programs.models import Membership, Program
from tests.governance.builders import governed, partner_person, vendor_person

pytestmark = pytest.mark.django_db

ROLES = RoleAssignment.Role


def body(response: Any) -> str:
    return response.content.decode()


def page(pk: int, tab: str = "") -> str:
    return f"/governance/relationships/{pk}/" + (f"?tab={tab}" if tab else "")


@pytest.fixture
def alpha(partner_a: Organisation) -> dict[str, Any]:
    return governed(partner_a)


@pytest.fixture
def template(db: None) -> OnboardingTemplate:
    return OnboardingTemplate.objects.create(
        name="New partner",
        name_zh="新合作伙伴",
        kind=OnboardingTemplate.Kind.PARTNER,
        tasks=[
            {"title": "Agreement signed", "side": "vendor", "due_days": 0},
            {"title": "Portal access", "side": "partner", "due_days": 7},
            {"title": "Product training", "side": "partner", "due_days": 30},
        ],
    )


@pytest.fixture
def plan(alpha: dict[str, Any], partner_a: Organisation, template, channel_manager) -> Any:
    return continuity_services.start_onboarding(
        actor=channel_manager,
        organisation=partner_a,
        template=template,
        start=timezone.localdate() - dt.timedelta(days=10),
    )


def task(plan: OnboardingPlan, title: str) -> OnboardingTask:
    return plan.tasks.get(title=title)


# -- continuity -----------------------------------------------------------------------------
def test_coverage_lists_what_this_relationship_lost(login, channel_manager, alpha, partner_a):
    RoleAssignment.objects.filter(organisation=partner_a, role=ROLES.COMMERCIAL).delete()
    KeyPerson.objects.filter(organisation=partner_a).update(backup=None)
    text = body(login(channel_manager).get(page(partner_a.pk, "continuity")))
    problems = text.split('id="coverage-problems"', 1)[1].split("</ul>", 1)[0]
    assert 'data-problem="role_missing"' in problems
    assert 'data-problem="no_backup"' in problems
    assert 'id="coverage-ok"' not in text


def test_a_covered_relationship_says_so(login, channel_manager, alpha, partner_a):
    text = body(login(channel_manager).get(page(partner_a.pk, "continuity")))
    assert 'id="coverage-ok"' in text


def test_continuity_lists_who_holds_what_and_the_handovers(
    login, channel_manager, alpha, partner_a
):
    leaver = alpha["roles"][ROLES.RELATIONSHIP]
    successor = vendor_person("Sol Successor")
    continuity_services.handover(
        actor=channel_manager, predecessor=leaver, successor=successor, reason="Moved to EMEA"
    )
    text = body(login(channel_manager).get(page(partner_a.pk, "continuity")))
    row = text.split(f'data-contact="{successor.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "Relationship management" in row and "Key person" in row
    assert f"/governance/handovers/new/?from={successor.pk}" in row
    handovers = text.split('id="handovers"', 1)[1].split("</section>", 1)[0]
    assert "Rhea Relationship → Sol Successor" in handovers and "Moved to EMEA" in handovers


# -- onboarding ------------------------------------------------------------------------------
def test_the_plan_shows_progress_and_overdue_tasks(
    login, channel_manager, partner_a, plan, template
):
    OnboardingTask.objects.filter(pk=task(plan, "Agreement signed").pk).update(
        done_at=timezone.now()
    )
    text = body(login(channel_manager).get(page(partner_a.pk, "onboarding")))
    card = text.split(f'data-plan="{plan.pk}"', 1)[1].split("</section>", 1)[0]
    assert '<progress max="100" value="33"' in card
    assert "1 of 3 done (33%)" in card
    portal = card.split(f'data-task="{task(plan, "Portal access").pk}"', 1)[1].split("</tr>")[0]
    assert "row-overdue" in card and "Overdue" in portal


def test_the_partner_ticks_its_own_tasks_only(login, partner_a_user, partner_a, plan):
    client = login(partner_a_user)
    text = body(client.get(page(partner_a.pk, "onboarding")))
    portal = task(plan, "Portal access")
    agreement = task(plan, "Agreement signed")
    assert f'action="/governance/tasks/{portal.pk}/done/"' in text
    assert f'action="/governance/tasks/{agreement.pk}/done/"' not in text
    response = client.post(f"/governance/tasks/{portal.pk}/done/", follow=True)
    assert response.redirect_chain[-1][0] == page(partner_a.pk, "onboarding")
    portal.refresh_from_db()
    assert portal.done_at is not None
    # The vendor's task is refused server-side too, and stays open.
    assert client.post(f"/governance/tasks/{agreement.pk}/done/").status_code == 403
    agreement.refresh_from_db()
    assert agreement.done_at is None


def test_staff_tick_and_reopen_a_task(login, channel_manager, partner_a, plan):
    client = login(channel_manager)
    agreement = task(plan, "Agreement signed")
    client.post(f"/governance/tasks/{agreement.pk}/done/", {"done": "1"})
    agreement.refresh_from_db()
    assert agreement.done_at is not None
    response = client.post(f"/governance/tasks/{agreement.pk}/done/", {"done": "0"}, follow=True)
    assert "is open again" in body(response)
    agreement.refresh_from_db()
    assert agreement.done_at is None


def test_partner_b_gets_404_on_alphas_task(login, partner_b_user, partner_b, plan):
    governed(partner_b)
    portal = task(plan, "Portal access")
    assert login(partner_b_user).post(f"/governance/tasks/{portal.pk}/done/").status_code == 404
    portal.refresh_from_db()
    assert portal.done_at is None
    assert login(partner_b_user).post("/governance/tasks/99999999999/done/").status_code == 404


def test_a_viewer_cannot_tick(login, partner_a_viewer, partner_a, plan):
    portal = task(plan, "Portal access")
    text = body(login(partner_a_viewer).get(page(partner_a.pk, "onboarding")))
    assert "/done/" not in text
    assert login(partner_a_viewer).post(f"/governance/tasks/{portal.pk}/done/").status_code == 403


def test_staff_start_a_plan_from_a_template(login, channel_manager, alpha, partner_a, template):
    client = login(channel_manager)
    form = body(client.get(page(partner_a.pk, "onboarding")))
    assert f'<option value="{template.pk}">New partner (New partner)</option>' in form
    response = client.post(
        page(partner_a.pk) + "onboarding/new/",
        {"onboarding-template": template.pk, "onboarding-start": "2026-03-02"},
        follow=True,
    )
    assert "was started" in body(response)
    plan = OnboardingPlan.objects.get(organisation=partner_a)
    assert plan.tasks.count() == 3
    assert task(plan, "Portal access").due_on == dt.date(2026, 3, 9)


def test_starting_without_a_template_is_a_field_error(login, channel_manager, alpha, partner_a):
    text = body(login(channel_manager).post(page(partner_a.pk) + "onboarding/new/", {}))
    assert "This field is required." in text
    assert not OnboardingPlan.objects.filter(organisation=partner_a).exists()


def test_onboarding_in_chinese_names_the_template(
    login, channel_manager, partner_a, plan, template
):
    client = login(channel_manager)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    text = body(client.get(page(partner_a.pk, "onboarding")))
    assert "新合作伙伴" in text


# -- enablement -------------------------------------------------------------------------------
@pytest.fixture
def gold_partner(alpha, partner_a: Organisation) -> Organisation:
    """Alpha is gold in the governance tier program; gold needs two people certified in
    Routing and one in Security."""
    program = Program.objects.create(code="partner-program", name="Partner program")
    row = GovernanceSettings.current()
    row.tier_program = program
    row.save()
    Membership.objects.create(
        program=program, organisation=partner_a, tier_code="gold", since=dt.date(2025, 1, 1)
    )
    routing = Course.objects.create(
        code="routing", name="Routing basics", name_zh="路由基础", certification="Routing"
    )
    security = Course.objects.create(code="security", name="Security", certification="Security Pro")
    CertificationRequirement.objects.create(tier_code="gold", course=routing, minimum=2)
    CertificationRequirement.objects.create(tier_code="gold", course=security, minimum=1)
    today = timezone.localdate()
    wendy = alpha["partner"][0]
    oscar = alpha["partner"][1]
    for number, (person, name, expires) in enumerate(
        [
            (wendy, "Routing", today + dt.timedelta(days=400)),
            (oscar, "Routing", today + dt.timedelta(days=20)),
            (oscar, "Security Pro", today - dt.timedelta(days=5)),
        ]
    ):
        Certification.objects.create(
            organisation=partner_a,
            person=person.full_name,
            contact=person,
            name=name,
            earned_on=today - dt.timedelta(days=700),
            expires_on=expires,
            source_key=f"cert-{number}",
        )
    return partner_a


def test_enablement_shows_requirements_met_and_missing(login, channel_manager, gold_partner):
    text = body(login(channel_manager).get(page(gold_partner.pk, "enablement")))
    routing = text.split('data-requirement="routing"', 1)[1].split("</tr>", 1)[0]
    security = text.split('data-requirement="security"', 1)[1].split("</tr>", 1)[0]
    assert "met" in routing and "missing" not in routing
    assert "1 missing" in security
    people = text.split('id="certified-people"', 1)[1]
    assert people.count('data-status="ok"') == 1
    assert people.count('data-status="expiring"') == 1 and "expiring soon" in people
    assert people.count('data-status="expired"') == 1


def test_the_partner_sees_its_own_enablement(login, partner_a_user, gold_partner):
    text = body(login(partner_a_user).get(page(gold_partner.pk, "enablement")))
    assert 'data-requirement="routing"' in text and "Wendy Working" in text


def test_enablement_in_chinese(login, channel_manager, gold_partner):
    client = login(channel_manager)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    text = body(client.get(page(gold_partner.pk, "enablement")))
    assert "路由基础" in text


def test_enablement_without_a_tier(login, channel_manager, alpha, partner_a):
    text = body(login(channel_manager).get(page(partner_a.pk, "enablement")))
    assert "no tier in the governance tier program" in text
    assert re.search(r'id="certified-people"', text)


def test_a_new_partner_person_can_be_named_a_key_person(login, partner_a_user, alpha, partner_a):
    """Side checks again through the continuity tab's table: a partner's new key person."""
    person = partner_person(partner_a, "Kai Key")
    login(partner_a_user).post(page(partner_a.pk) + "key-people/", {"key-person": person.pk})
    text = body(login(partner_a_user).get(page(partner_a.pk, "continuity")))
    table = text.split('id="continuity-key-people"', 1)[1].split("</section>", 1)[0]
    assert "Kai Key" in table and "no backup" in table
    assert KeyPerson.objects.get(person=person).organisation_id == partner_a.pk
