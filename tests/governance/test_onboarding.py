"""Onboarding: templates of tasks, plans started from them with owners and due dates (named
or the side's default), progress, and who may tick a task off."""

from __future__ import annotations

import datetime as dt

import pytest

from accord.accounts.models import User
from accord.core.errors import Http404, PermissionDenied, ValidationError
from accord.core.models import AuditEntry
from accord.governance.models import OnboardingTemplate, RoleAssignment
from accord.governance.selectors import continuity as selectors
from accord.governance.services import continuity as services
from accord.partners.models import Organisation
from tests.governance.builders import NOW, TODAY, governed, partner_person, vendor_person

pytestmark = pytest.mark.django_db

PARTNER_TASKS = [
    {"title": "Agreement signed", "title_zh": "签署协议", "side": "partner", "due_days": 7},
    {"title": "Portal access", "side": "vendor", "due_days": 3},
    {"title": "Product training", "side": "partner", "due_days": 30},
    {"title": "First business plan", "side": "vendor", "due_days": 60},
]


@pytest.fixture
def template(channel_manager: User) -> OnboardingTemplate:
    return services.create_onboarding_template(
        actor=channel_manager,
        data={"name": "New partner", "kind": "partner", "tasks": PARTNER_TASKS},
    )


def test_plan_from_template_gets_default_owners_due_dates_and_progress(
    channel_manager: User, partner_a: Organisation, template: OnboardingTemplate
) -> None:
    built = governed(partner_a, now=NOW)
    start = dt.date(2026, 3, 2)
    plan = services.start_onboarding(
        actor=channel_manager, organisation=partner_a, template=template, start=start, now=NOW
    )
    tasks = list(plan.tasks.order_by("position"))
    assert [t.title for t in tasks] == [t["title"] for t in PARTNER_TASKS]
    assert [t.due_on for t in tasks] == [
        start + dt.timedelta(days=t["due_days"]) for t in PARTNER_TASKS
    ]
    relationship_manager = built["roles"][RoleAssignment.Role.RELATIONSHIP]
    primary = built["partner"][2]
    assert primary.is_primary
    assert [t.owner for t in tasks] == [
        primary,
        relationship_manager,
        primary,
        relationship_manager,
    ]
    assert services.plan_progress(plan, today=start) == {
        "done": 0,
        "total": 4,
        "pct": 0,
        "overdue": 0,
    }
    services.complete_task(actor=channel_manager, task=tasks[1], now=NOW)
    assert services.plan_progress(plan, today=start + dt.timedelta(days=10)) == {
        "done": 1,
        "total": 4,
        "pct": 25,
        "overdue": 1,  # the agreement, due on day 7
    }
    listed = selectors.list_onboarding_plans(
        channel_manager, {"organisation": partner_a.pk}, today=start + dt.timedelta(days=10)
    ).get()
    assert (listed.tasks_total, listed.tasks_done, listed.tasks_overdue) == (4, 1, 1)
    assert selectors.get_plan(channel_manager, plan.pk) == plan
    entry = AuditEntry.objects.get(content_type__model="onboardingplan", object_id=str(plan.pk))
    assert len(entry.changes["tasks"][1]) == 4


def test_named_owners_subject_and_account_manager_fallback(
    channel_manager: User, partner_a: Organisation, template: OnboardingTemplate
) -> None:
    partner_a.account_manager = channel_manager
    partner_a.save()
    newcomer = vendor_person("Nora Newcomer")
    pat = partner_person(partner_a, "Pat Partner")
    plan = services.start_onboarding(
        actor=channel_manager,
        organisation=partner_a,
        template=template.pk,
        owners={"partner": pat.pk},
        now=NOW,
    )
    owners = {t.side: t.owner for t in plan.tasks.all()}
    assert owners["partner"] == pat
    # no relationship manager yet: the account manager's own card
    assert owners["vendor"].user == channel_manager
    staff = services.start_onboarding(
        actor=channel_manager,
        organisation=partner_a,
        template=template,
        subject=newcomer,
        owners={"partner": pat},
        now=NOW,
    )
    assert staff.subject == newcomer and "Nora Newcomer" in staff.name
    assert {t.owner for t in staff.tasks.filter(side="vendor")} == {newcomer}
    assert staff.started_on == TODAY


def test_start_refuses_bad_input_and_partners(
    channel_manager: User,
    partner_a_user: User,
    partner_a: Organisation,
    partner_b: Organisation,
    template: OnboardingTemplate,
) -> None:
    stranger = partner_person(partner_b, "Sid Stranger")
    for kwargs, field in (
        ({"template": 10**30}, "template"),
        ({"template": "x"}, "template"),
        ({"owners": {"partner": stranger}}, "owners.partner"),
        ({"owners": {"vendor": stranger}}, "owners.vendor"),
        ({"owners": {"boss": stranger}}, "owners.boss"),
        ({"subject": stranger}, "subject"),
    ):
        kwargs.setdefault("template", template)
        with pytest.raises(ValidationError) as caught:
            services.start_onboarding(actor=channel_manager, organisation=partner_a, **kwargs)
        assert field in caught.value.message_dict
    with pytest.raises(PermissionDenied):
        services.start_onboarding(actor=partner_a_user, organisation=partner_a, template=template)
    template.active = False
    template.save()
    with pytest.raises(ValidationError):
        services.start_onboarding(actor=channel_manager, organisation=partner_a, template=template)
    assert not partner_a.onboarding_plans.exists()


def test_partner_ticks_only_their_own_side(
    channel_manager: User,
    partner_a_user: User,
    partner_b_user: User,
    partner_a: Organisation,
    template: OnboardingTemplate,
) -> None:
    governed(partner_a, now=NOW)
    plan = services.start_onboarding(
        actor=channel_manager, organisation=partner_a, template=template, now=NOW
    )
    partner_task = plan.tasks.get(title="Agreement signed")
    vendor_task = plan.tasks.get(title="Portal access")
    done = services.complete_task(actor=partner_a_user, task=partner_task, now=NOW)
    assert done.done_at == NOW
    with pytest.raises(PermissionDenied):
        services.complete_task(actor=partner_a_user, task=vendor_task, now=NOW)
    with pytest.raises(Http404):
        services.complete_task(actor=partner_b_user, task=partner_task, now=NOW)
    reopened = services.complete_task(actor=partner_a_user, task=partner_task, done=False)
    assert reopened.done_at is None
    vendor_task.refresh_from_db()
    assert vendor_task.done_at is None
    assert (
        AuditEntry.objects.filter(
            content_type__model="onboardingtask", action=AuditEntry.Action.TRANSITION
        ).count()
        == 2
    )


def test_templates_are_validated_and_managed_by_staff(
    channel_manager: User, partner_a_user: User, template: OnboardingTemplate
) -> None:
    for data, field in (
        ({"name": "", "kind": "partner", "tasks": PARTNER_TASKS}, "name"),
        ({"name": "X", "kind": "alien", "tasks": PARTNER_TASKS}, "kind"),
        ({"name": "X", "kind": "staff", "tasks": []}, "tasks"),
        ({"name": "X", "kind": "staff", "tasks": [{"title": "A", "side": "both"}]}, "tasks"),
        (
            {
                "name": "X",
                "kind": "staff",
                "tasks": [{"title": "A", "side": "vendor", "due_days": -1}],
            },
            "tasks",
        ),
        ({"name": "X", "kind": "staff", "tasks": [{"title": "A\x00", "side": "vendor"}]}, "tasks"),
        ({"name": "X", "kind": "staff", "tasks": "nope"}, "tasks"),
        ({"name": "X", "kind": "staff", "tasks": PARTNER_TASKS, "colour": "red"}, "colour"),
    ):
        with pytest.raises(ValidationError) as caught:
            services.create_onboarding_template(actor=channel_manager, data=data)
        assert field in caught.value.message_dict
    with pytest.raises(PermissionDenied):
        services.create_onboarding_template(
            actor=partner_a_user, data={"name": "X", "kind": "staff", "tasks": PARTNER_TASKS}
        )
    updated = services.update_onboarding_template(
        actor=channel_manager,
        template=template,
        data={"name": "New partner (2026)", "active": False},
    )
    assert updated.name == "New partner (2026)" and not updated.active
    assert [
        t.name for t in selectors.list_onboarding_templates(channel_manager, {"active": "false"})
    ] == ["New partner (2026)"]
    assert list(selectors.list_onboarding_templates(partner_a_user)) == [updated]
