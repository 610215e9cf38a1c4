"""Escalation with a controlled clock: an unresolved issue climbs working → operational →
executive exactly at each resolution deadline, telling the paired people at the new tier on
both sides (in-app for people with an account, e-mail for the others), keeping the history,
doing nothing twice, nothing once resolved, and starting again on reopening."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.accounts.models import User
from accord.core.models import AuditEntry, Notification
from accord.governance.models import (
    ContactSlot,
    Issue,
    IssueEvent,
    RoleAssignment,
    SeveritySla,
    Tier,
)
from accord.governance.services import issues
from accord.partners.models import Organisation
from tests.factories import UserFactory
from tests.governance.builders import NOW, governed

HOUR = dt.timedelta(hours=1)


def vendor_user(email: str, role: str = "service_delivery_manager") -> User:
    user = UserFactory(organisation=Organisation.objects.vendor(), email=email, roles=[role])
    return User.objects.select_related("organisation").get(pk=user.pk)


@pytest.fixture
def setup(partner_a: Organisation, partner_a_user: User, channel_manager: User) -> dict[str, Any]:
    """partner_a governed in full; at each tier one side has an account, the other only
    an e-mail address (the working level has accounts on both sides)."""
    made = governed(partner_a, now=NOW)
    slots = made["slots"]
    people: dict[str, Any] = {}
    for tier, slot in slots.items():
        vendor, partner = slot.vendor_contact, slot.partner_contact
        vendor.user = vendor_user(f"{tier}@vendor.test")
        vendor.email = vendor.user.email
        vendor.save()
        if tier == Tier.WORKING:
            partner.user = partner_a_user
            partner.email = partner_a_user.email
        else:
            partner.email = f"{tier}@alpha.test"
        partner.save()
        people[tier] = (vendor, partner)
    return {**made, "people": people, "actor": channel_manager}


def raise_high(actor: User, organisation: Organisation, now: dt.datetime = NOW) -> Issue:
    return issues.raise_issue(
        actor=actor,
        organisation=organisation,
        title="Deliveries late",
        category=Issue.Category.DELIVERY,
        severity=Issue.Severity.HIGH,
        description="Three weeks of late deliveries.",
        now=now,
    )


def notified_users(since_pk: int) -> set[int]:
    return set(Notification.objects.filter(pk__gt=since_pk).values_list("recipient_id", flat=True))


def last_notification() -> int:
    last = Notification.objects.order_by("-pk").first()
    return last.pk if last else 0


@pytest.mark.django_db
def test_an_unresolved_issue_climbs_the_tiers_exactly_at_each_deadline(
    setup: dict[str, Any], partner_a: Organisation, django_capture_on_commit_callbacks: Any
) -> None:
    sla_hours = SeveritySla.DEFAULTS["high"][1]  # 72 hours per tier
    issue = raise_high(setup["actor"], partner_a)
    owner = setup["roles"][RoleAssignment.Role.SERVICE_DELIVERY]
    assert issue.tier == Tier.WORKING and issue.owner == owner
    assert issue.resolve_by == NOW + sla_hours * HOUR
    assert issue.respond_by == NOW + SeveritySla.DEFAULTS["high"][0] * HOUR
    # A response meets the response SLA; the resolution clock keeps running.
    issues.respond(actor=setup["actor"], issue=issue, note="Looking into it", now=NOW + HOUR)

    # One second before the deadline: nothing.
    assert issues.escalate_due(now=issue.resolve_by - dt.timedelta(seconds=1)) == []

    # At the deadline: operational, both sides told.
    first_deadline = issue.resolve_by
    mark = last_notification()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        escalated = issues.escalate_due(now=first_deadline)
    assert [i.pk for i in escalated] == [issue.pk]
    issue.refresh_from_db()
    assert issue.tier == Tier.OPERATIONAL and issue.escalations == 1
    assert issue.resolve_by == first_deadline + sla_hours * HOUR
    vendor_op, partner_op = setup["people"][Tier.OPERATIONAL]
    # In-app for the vendor's operational manager (and the owner), e-mail for the partner's
    # operational person who has no account.
    assert notified_users(mark) == {vendor_op.user_id, owner.user_id}
    assert partner_op.email in [address for message in mail.outbox for address in message.to]
    event = issue.events.get(kind=IssueEvent.Kind.ESCALATED)
    assert (event.from_tier, event.to_tier, event.at) == (
        Tier.WORKING,
        Tier.OPERATIONAL,
        first_deadline,
    )
    assert event.data == {
        "rule": "resolution_sla",
        "severity": "high",
        "resolution_hours": sla_hours,
        "deadline": first_deadline.isoformat(),
        "now": first_deadline.isoformat(),
        "from": "working",
        "to": "operational",
        "resolve_by": issue.resolve_by.isoformat(),
        "notified": [vendor_op.pk, partner_op.pk, owner.pk],
    }
    audit = AuditEntry.objects.for_object(issue).filter(action=AuditEntry.Action.TRANSITION)
    assert audit.first().changes["tier"] == ["working", "operational"]
    assert audit.first().reason == "resolution SLA" and audit.first().actor is None

    # Again at the same time: nothing more (no event, no notification, no mail).
    mark = last_notification()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert issues.escalate_due(now=first_deadline) == []
        assert issues.run_issue_timers(now=first_deadline)["escalated"] == []
    assert issue.events.filter(kind=IssueEvent.Kind.ESCALATED).count() == 1
    assert notified_users(mark) == set() and mail.outbox == []

    # At the next deadline: executive.
    second_deadline = issue.resolve_by
    assert issues.escalate_due(now=second_deadline - dt.timedelta(seconds=1)) == []
    mark = last_notification()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert [i.pk for i in issues.escalate_due(now=second_deadline)] == [issue.pk]
    issue.refresh_from_db()
    assert issue.tier == Tier.EXECUTIVE and issue.escalations == 2
    vendor_exec, partner_exec = setup["people"][Tier.EXECUTIVE]
    assert notified_users(mark) == {vendor_exec.user_id, owner.user_id}
    assert partner_exec.email in [address for message in mail.outbox for address in message.to]
    history = list(
        issue.events.filter(kind=IssueEvent.Kind.ESCALATED).values_list("from_tier", "to_tier")
    )
    assert history == [(Tier.WORKING, Tier.OPERATIONAL), (Tier.OPERATIONAL, Tier.EXECUTIVE)]

    # Past the executive deadline: it stays at the top, and its people hear once.
    third_deadline = issue.resolve_by
    mark = last_notification()
    assert issues.escalate_due(now=third_deadline) == []
    issue.refresh_from_db()
    assert issue.tier == Tier.EXECUTIVE and issue.escalations == 2
    assert notified_users(mark) == {vendor_exec.user_id, owner.user_id}
    mark = last_notification()
    assert issues.escalate_due(now=third_deadline + 5 * HOUR) == []
    assert notified_users(mark) == set()


@pytest.mark.django_db
def test_a_resolved_issue_no_longer_escalates(
    setup: dict[str, Any], partner_a: Organisation
) -> None:
    issue = raise_high(setup["actor"], partner_a)
    issues.resolve(
        actor=setup["actor"],
        issue=issue,
        root_cause="Carrier capacity",
        resolution="Second carrier contracted",
        now=NOW + 10 * HOUR,
    )
    assert issues.escalate_due(now=NOW + 1000 * HOUR) == []
    issue.refresh_from_db()
    assert issue.tier == Tier.WORKING and issue.escalations == 0
    assert not issue.events.filter(kind=IssueEvent.Kind.ESCALATED).exists()


@pytest.mark.django_db
def test_reopening_restarts_the_resolution_clock(
    setup: dict[str, Any], partner_a: Organisation
) -> None:
    issue = raise_high(setup["actor"], partner_a)
    old_deadline = issue.resolve_by
    issues.resolve(
        actor=setup["actor"],
        issue=issue,
        root_cause="Carrier capacity",
        resolution="Second carrier contracted",
        now=NOW + 60 * HOUR,
    )
    reopened_at = NOW + 70 * HOUR
    issue = issues.reopen(actor=setup["actor"], issue=issue, reason="Late again", now=reopened_at)
    assert issue.status == Issue.Status.OPEN and issue.reopened == 1
    assert issue.resolve_by == reopened_at + 72 * HOUR
    # The old deadline passes without effect; the new one escalates.
    assert issues.escalate_due(now=old_deadline + HOUR) == []
    assert issues.escalate_due(now=issue.resolve_by - dt.timedelta(seconds=1)) == []
    assert [i.pk for i in issues.escalate_due(now=issue.resolve_by)] == [issue.pk]
    issue.refresh_from_db()
    assert issue.tier == Tier.OPERATIONAL
    kinds = list(issue.events.values_list("kind", flat=True))
    assert kinds == ["raised", "resolved", "reopened", "escalated"]
    reopened = issue.events.get(kind=IssueEvent.Kind.REOPENED)
    assert reopened.note == "Late again"
    assert reopened.data["resolve_by"] == (reopened_at + 72 * HOUR).isoformat()


@pytest.mark.django_db
@pytest.mark.parametrize("severity", Issue.Severity.values)
def test_each_severity_escalates_on_its_own_sla(
    setup: dict[str, Any], partner_a: Organisation, severity: str
) -> None:
    """Hourly sweeps over four tiers' worth of hours: escalations exactly at k times the
    severity's resolution hours, twice at most."""
    SeveritySla.objects.create(severity=severity, response_hours=2, resolution_hours=5)
    issue = issues.raise_issue(
        actor=setup["actor"],
        organisation=partner_a,
        title="Sweep",
        category=Issue.Category.OTHER,
        severity=severity,
        now=NOW,
    )
    escalated_at = []
    for hour in range(1, 21):
        if issues.escalate_due(now=NOW + hour * HOUR):
            escalated_at.append(hour)
    assert escalated_at == [5, 10]
    issue.refresh_from_db()
    assert issue.tier == Tier.EXECUTIVE


@pytest.mark.django_db
def test_without_people_at_the_new_tier_the_role_holder_and_account_manager_hear(
    setup: dict[str, Any], partner_a: Organisation
) -> None:
    manager = vendor_user("am@vendor.test", "partner_account_manager")
    Organisation.objects.filter(pk=partner_a.pk).update(account_manager=manager)
    ContactSlot.objects.filter(organisation=partner_a, tier=Tier.OPERATIONAL).delete()
    holder = setup["roles"][RoleAssignment.Role.RELATIONSHIP]
    holder.user = vendor_user("rhea@vendor.test", "commercial_manager")
    holder.save()
    issue = raise_high(setup["actor"], partner_a)
    mark = last_notification()
    issues.escalate_due(now=issue.resolve_by)
    owner = setup["roles"][RoleAssignment.Role.SERVICE_DELIVERY]
    assert notified_users(mark) == {holder.user_id, manager.pk, owner.user_id}
    event = issue.events.get(kind=IssueEvent.Kind.ESCALATED)
    manager_card = manager.contact_cards.get()
    assert event.data["notified"] == [holder.pk, manager_card.pk, owner.pk]


@pytest.mark.django_db
def test_a_late_response_is_noticed_once(setup: dict[str, Any], partner_a: Organisation) -> None:
    issue = raise_high(setup["actor"], partner_a)
    assert issues.run_issue_timers(now=issue.respond_by - dt.timedelta(seconds=1)) == {
        "escalated": [],
        "response_overdue": [],
    }
    mark = last_notification()
    assert issues.run_issue_timers(now=issue.respond_by)["response_overdue"] == [issue.pk]
    assert notified_users(mark)
    assert issues.run_issue_timers(now=issue.respond_by + HOUR)["response_overdue"] == []
    event = issue.events.get(kind=IssueEvent.Kind.RESPONSE_OVERDUE)
    assert event.data["rule"] == "response_sla"
    # A responded issue is not late, even when the response came after the deadline.
    other = raise_high(setup["actor"], partner_a)
    issues.respond(actor=setup["actor"], issue=other, note="On it", now=other.respond_by + HOUR)
    assert issues.run_issue_timers(now=other.respond_by + 2 * HOUR)["response_overdue"] == []


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    hours=st.integers(min_value=1, max_value=400),
    sweeps=st.lists(st.integers(min_value=0, max_value=3000), max_size=12),
)
def test_escalation_follows_the_deadlines_of_any_sweep_schedule(
    setup: dict[str, Any], partner_a: Organisation, hours: int, sweeps: list[int]
) -> None:
    """Whatever the SLA and however the sweeps fall (minutes after raising, repeats
    included): a sweep at or after the deadline escalates one tier, the new deadline runs
    from that sweep, and nothing climbs past the executive level."""
    SeveritySla.objects.update_or_create(
        severity="low", defaults={"response_hours": 1, "resolution_hours": hours}
    )
    issue = issues.raise_issue(
        actor=None,
        organisation=partner_a,
        title="Property",
        category=Issue.Category.OTHER,
        severity=Issue.Severity.LOW,
        now=NOW,
    )
    deadline, level, expected = NOW + hours * HOUR, 0, []
    for minutes in sorted(sweeps):
        moment = NOW + dt.timedelta(minutes=minutes * 10)
        if moment >= deadline and level < 2:
            level += 1
            deadline = moment + hours * HOUR
            expected.append((moment, Tier.values[level]))
        issues.escalate_due(now=moment)
    issue.refresh_from_db()
    assert issue.tier == Tier.values[level] and issue.escalations == level
    assert (
        list(issue.events.filter(kind=IssueEvent.Kind.ESCALATED).values_list("at", "to_tier"))
        == expected
    )
    # Out of later examples' sweeps.
    Issue.objects.filter(pk=issue.pk).update(status=Issue.Status.RESOLVED)
