"""The demo network's governance: templates and settings, the featured relationships' roles,
contact maps and key people, a history of meetings, issues in every severity and state (two
escalated), health checks with scores and misalignment, a handover and onboarding plans, all in
time order before the demo's day; the survey link `accord demo` prints opens the public page;
a second run changes nothing."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import Counter

import pytest
from django.core.management import call_command
from django.db.models import Max
from django.test import Client

from accord.accounts.models import User
from accord.channel.models import Certification
from accord.core.models import AuditEntry
from accord.demo import governance as demo
from accord.demo.governance import load_demo_governance
from accord.demo.network import DEMO_USERS, load_demo_network
from accord.governance.models import (
    ActionItem,
    CadenceTemplate,
    CertificationRequirement,
    ContactSlot,
    Course,
    GovernanceSettings,
    Handover,
    HealthResponse,
    HealthSurvey,
    Issue,
    IssueAttachment,
    IssueEvent,
    KeyPerson,
    Meeting,
    OnboardingPlan,
    OnboardingTemplate,
    Relationship,
    RoleAssignment,
    SeveritySla,
    Tier,
)
from accord.governance.selectors.meetings import overdue_actions, overdue_meetings
from accord.governance.services import continuity
from accord.partners.models import Contact, Organisation

TODAY = dt.date(2026, 3, 15)
ANCHOR = dt.datetime(2026, 3, 15, tzinfo=dt.UTC)
SIZE = 40
MODELS = (
    Relationship,
    RoleAssignment,
    ContactSlot,
    KeyPerson,
    CadenceTemplate,
    Meeting,
    ActionItem,
    Issue,
    IssueEvent,
    IssueAttachment,
    HealthSurvey,
    HealthResponse,
    Handover,
    OnboardingPlan,
    Course,
    Contact,
    AuditEntry,
)


@pytest.fixture
def summary(db: None) -> demo.GovernanceSummary:
    load_demo_network(SIZE, 7, method="bulk", today=TODAY, channel=True, programs=True)
    return load_demo_governance(TODAY, 7)


def featured(index: int) -> Organisation:
    return Organisation.objects.get(external_key=f"demo-{index + 1:06d}")


def fingerprint() -> dict[str, tuple[int, int | None]]:
    return {
        model.__name__: (model.objects.count(), model.objects.aggregate(top=Max("pk"))["top"])
        for model in MODELS
    }


def test_templates_settings_and_people(summary: demo.GovernanceSummary) -> None:
    assert summary.refusals == []
    settings = GovernanceSettings.current()
    assert settings.tier_program is not None and settings.tier_program.code == "partner-program"
    assert {
        sla.severity: (sla.response_hours, sla.resolution_hours)
        for sla in SeveritySla.objects.all()
    } == SeveritySla.DEFAULTS
    cadences = {t.name: t for t in CadenceTemplate.objects.all()}
    assert {name: (t.tier, t.frequency) for name, t in cadences.items()} == {
        "Weekly operational call": (Tier.WORKING, "weekly"),
        "Monthly operations review": (Tier.OPERATIONAL, "monthly"),
        "Quarterly business review": (Tier.OPERATIONAL, "quarterly"),
        "Annual executive review": (Tier.EXECUTIVE, "annual"),
    }
    assert cadences["Weekly operational call"].partner_tiers == ["platinum", "gold"]
    assert all(t.name_zh for t in cadences.values())
    templates = {
        t.kind: [task["title"] for task in t.tasks] for t in OnboardingTemplate.objects.all()
    }
    assert templates["partner"] == [
        "Agreement signed",
        "Portal access set up",
        "Product training completed",
        "First business plan agreed",
    ]
    assert templates["staff"][0] == "Read the agreement" and len(templates["staff"]) == 3
    assert Course.objects.count() == len(demo.COURSES)
    assert set(CertificationRequirement.objects.values_list("tier_code", flat=True)) == set(
        demo.REQUIREMENTS
    )
    # Every vendor login has its contact card (vendor staff are vendor contacts).
    vendor = Organisation.objects.vendor()
    for spec in DEMO_USERS:
        if spec.organisation_index is None:
            assert Contact.objects.filter(organisation=vendor, user__email=spec.email).exists()
    assert summary.templates >= len(demo.CADENCES) + len(demo.ONBOARDING) + len(demo.COURSES)


def test_relationships_roles_contact_maps_and_key_people(summary: demo.GovernanceSummary) -> None:
    assert summary.relationships == len(demo.STORIES) + 1
    for story in demo.STORIES:
        assert Relationship.objects.filter(organisation=featured(story.index)).exists()
    holders = Counter(RoleAssignment.objects.values_list("organisation", "holder"))
    assert max(holders.values()) == 1  # one person, one role per relationship
    # Every other organisation has its four roles (in bulk): only the stories' gaps show.
    roles = Counter(RoleAssignment.objects.values_list("organisation", flat=True))
    partners = Organisation.objects.partners()
    assert set(roles) == set(partners.values_list("pk", flat=True))
    assert summary.background == partners.count() - summary.relationships
    missing = {org.name for org in partners if roles[org.pk] < 4}
    assert missing == {featured(6).name, featured(9).name} == set(summary.roles_missing)
    for story in demo.STORIES:
        slots = ContactSlot.objects.filter(organisation=featured(story.index))
        assert {slot.tier for slot in slots} == {Tier.WORKING, Tier.OPERATIONAL, Tier.EXECUTIVE}
        for slot in slots:
            assert slot.vendor_contact.organisation.is_vendor
            assert slot.partner_contact.organisation_id == slot.organisation_id
    # The onboarding partner has not named its people yet.
    onboarding = ContactSlot.objects.get(organisation=featured(demo.ONBOARDING_INDEX))
    assert onboarding.partner_contact is None
    # Key people have backups, but one: the leaver's successor was their backup.
    without = KeyPerson.objects.filter(backup__isnull=True)
    assert [(k.organisation.name, k.person.full_name) for k in without] == [
        (featured(10).name, "Dana Delivery")
    ]


def test_meetings_and_action_items_in_time_order(summary: demo.GovernanceSummary) -> None:
    held = Meeting.objects.filter(status="held")
    assert held.count() > 40 and summary.meetings["held"] == held.count()
    assert not held.filter(minutes="").exists()
    assert not held.filter(held_at__gt=ANCHOR).exists()
    assert not held.exclude(cadence__frequency="weekly").filter(decisions="").exists()
    assert Meeting.objects.filter(status="cancelled").count() == 1
    # The QBR Northwind missed is the one overdue meeting; meetings ahead are planned.
    (missed,) = Meeting.objects.filter(overdue_meetings(ANCHOR))
    assert missed.organisation == featured(10)
    assert missed.cadence.name == "Quarterly business review"
    assert summary.overdue_meetings == 1
    assert Meeting.objects.filter(status="planned", starts_at__gt=ANCHOR).count() > 20
    # Action items with owners on both sides: most done in time, some overdue.
    items = ActionItem.objects.all()
    assert items.filter(status="done").count() > items.count() // 2
    assert not items.filter(done_at__gt=ANCHOR).exists()
    overdue = items.filter(overdue_actions(TODAY))
    assert overdue.exists() and summary.overdue_actions == overdue.count()
    sides = {item.owner.organisation.is_vendor for item in items}
    assert sides == {True, False}


def test_issues_in_every_severity_and_state(summary: demo.GovernanceSummary) -> None:
    found = set(Issue.objects.values_list("severity", "status"))
    for severity in Issue.Severity.values:
        for status in Issue.Status.values:
            assert (severity, status) in found, (severity, status)
    open_issues = Issue.objects.filter(status__in=Issue.OPEN_STATUSES)
    assert open_issues.filter(tier=Tier.EXECUTIVE).count() == 1
    assert open_issues.filter(tier=Tier.OPERATIONAL).count() == 1
    assert not open_issues.filter(resolve_by__lte=ANCHOR).exists()  # nothing left to sweep
    # Resolved with the root cause and corrective actions, one of them overdue.
    for issue in Issue.objects.filter(status="resolved"):
        assert issue.root_cause and issue.resolution and issue.resolved_at <= ANCHOR
    with_actions = Issue.objects.filter(corrective_actions__isnull=False).distinct()
    assert with_actions.count() == 2
    assert ActionItem.objects.filter(issue__isnull=False).filter(overdue_actions(TODAY)).exists()
    # Reopened, escalated before it was resolved, and every event before the demo's day.
    reopened = Issue.objects.get(reopened=1)
    assert reopened.status in Issue.OPEN_STATUSES
    assert Issue.objects.filter(status="resolved", escalations=1).exists()
    assert not IssueEvent.objects.filter(at__gt=ANCHOR).exists()
    assert IssueAttachment.objects.count() == 2
    assert summary.escalations == sum(Issue.objects.values_list("escalations", flat=True)) == 4


def test_health_checks_handover_onboarding_and_certifications(
    summary: demo.GovernanceSummary,
) -> None:
    closed = HealthSurvey.objects.filter(status="closed")
    assert closed.count() == len(demo.STORIES) + sum(len(s.earlier) for s in demo.STORIES)
    assert not closed.filter(score__isnull=True).exists()
    misaligned = {r.organisation.name for r in Relationship.objects.filter(misaligned=True)}
    assert misaligned == {featured(11).name, featured(6).name} == set(summary.misaligned)
    # Atlas was aligned a year ago; the trend shows it slipping.
    atlas = list(closed.filter(organisation=featured(11)).order_by("opened_at"))
    assert [s.misaligned for s in atlas] == [False, True] and atlas[0].score > atlas[1].score
    (still_open,) = HealthSurvey.objects.filter(status="open")
    assert still_open.organisation == featured(0)
    assert summary.survey_link.startswith("/governance/survey/")
    assert summary.survey_expires == still_open.closes_at

    handover = Handover.objects.get()
    assert handover.predecessor.full_name == "Morgan Reid" and not handover.predecessor.active
    assert handover.successor.full_name == "Dana Delivery"
    assert continuity.orphans(handover.predecessor) == {}

    plans = {plan.name: continuity.plan_progress(plan) for plan in OnboardingPlan.objects.all()}
    assert len(plans) == 2
    for progress in plans.values():
        assert 0 < progress["done"] < progress["total"]

    expiring = Certification.objects.filter(
        source_key__startswith=demo.CERT_KEY_PREFIX,
        expires_on__gte=TODAY,
        expires_on__lte=TODAY + dt.timedelta(days=60),
    )
    assert expiring.count() == summary.expiring == 3
    assert not expiring.filter(contact__isnull=True).exists()


def test_a_second_run_changes_nothing(summary: demo.GovernanceSummary) -> None:
    before = fingerprint()
    again = load_demo_governance(TODAY, 7)
    assert again.total() == 0 and fingerprint() == before
    assert "Governance in" in demo.describe(summary)


def test_accord_demo_prints_a_survey_link_that_opens_the_public_page(db: None) -> None:
    out = io.StringIO()
    call_command(
        "demo",
        "--organisations",
        "20",
        "--no-serve",
        "--method",
        "bulk",
        "--no-channel",
        stdout=out,
    )
    text = out.getvalue()
    assert "Governance in" in text and "governed relationships" in text
    (url,) = re.findall(r"http://127\.0\.0\.1:8000(/governance/survey/[^/\s]+/)", text)
    browser = Client()
    page = browser.get(url)
    assert page.status_code == 200
    answers = {
        "communication": "4",
        "satisfaction": "4",
        "trust": "5",
        "compatibility": "4",
        "goal_alignment": "4",
        "nps": "9",
        "comment": "",
    }
    assert browser.post(url, answers).status_code in (200, 302)
    assert (
        HealthResponse.objects.filter(answered_at__isnull=False, survey__status="open")
        .filter(side="partner")
        .count()
        == 1
    )
    assert browser.get(url).status_code == 410  # used: it works once

    out = io.StringIO()
    call_command("demo", "--organisations", "20", "--no-serve", "--no-channel", stdout=out)
    assert "nothing changed" in out.getvalue() and "Governance in" not in out.getvalue()
    assert User.objects.filter(email="admin@accord.demo").exists()
