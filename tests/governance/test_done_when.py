"""Issue 6's "done when", in the demo network with its governance loaded: an issue left
unresolved escalates up the tiers on schedule (a controlled clock; both sides' paired people
told), a handover leaves no orphaned item, a two-sided survey yields a health score and a
misalignment flag, the separated-roles rule holds in the service and in the database, and the
.ics feed opens in a calendar client (parsed with the ``icalendar`` package)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.test import Client
from icalendar import Calendar

from accord.accounts.models import User
from accord.core import errors
from accord.core.models import AuditEntry, Notification
from accord.demo import governance as demo
from accord.demo.governance import load_demo_governance
from accord.demo.network import load_demo_network
from accord.governance import calendar
from accord.governance.models import (
    ContactSlot,
    Handover,
    HealthSurvey,
    Issue,
    IssueEvent,
    Meeting,
    Relationship,
    RoleAssignment,
    Tier,
)
from accord.governance.selectors import continuity as continuity_selectors
from accord.governance.selectors import structure as structure_selectors
from accord.governance.services import continuity, health, issues, run_timers, structure
from accord.partners.models import Contact, Organisation
from accord.partners.services import create_contact

TODAY = dt.date(2026, 3, 15)
ANCHOR = dt.datetime(2026, 3, 15, tzinfo=dt.UTC)  # the start of the demo's day
NOW = dt.datetime(2026, 3, 15, 9, tzinfo=dt.UTC)  # the morning after the demo's history
SIZE = 40
SECOND = dt.timedelta(seconds=1)


def load() -> demo.GovernanceSummary:
    load_demo_network(SIZE, 7, method="bulk", today=TODAY, channel=True, programs=True)
    return load_demo_governance(TODAY, 7)


@pytest.fixture
def governed(db: None) -> demo.GovernanceSummary:
    summary = load()
    assert summary.refusals == []
    return summary


def user(email: str) -> User:
    return User.objects.select_related("organisation").get(email=email)


def featured(index: int) -> Organisation:
    return Organisation.objects.get(external_key=f"demo-{index + 1:06d}")


def card(name: str) -> Contact:
    return Contact.objects.select_related("user", "organisation").get(full_name=name)


def notified_users(issue: Issue, since: int) -> set[str]:
    return set(
        Notification.objects.filter(
            pk__gt=since, link=f"/governance/issues/{issue.pk}/"
        ).values_list("recipient__email", flat=True)
    )


def last_notification() -> int:
    return Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


# --- an unresolved issue climbs the tiers on schedule ---------------------------------------
def test_an_unresolved_issue_escalates_up_the_tiers_on_schedule(
    governed, django_capture_on_commit_callbacks
) -> None:
    atlas = featured(11)
    partner = user("sales@atlas.demo")
    issue = issues.raise_issue(
        actor=partner,
        organisation=atlas,
        title="Pallets arrive with broken seals",
        category="delivery",
        severity="high",
        description="Three of the last five deliveries had broken seals.",
        now=NOW,
    )
    assert issue.raised_side == "partner" and issue.tier == Tier.WORKING
    response_hours, resolution_hours = issues.sla_hours("high")
    assert issue.respond_by == NOW + dt.timedelta(hours=response_hours)
    deadline = issue.resolve_by
    assert deadline == NOW + dt.timedelta(hours=resolution_hours)
    issues.respond(actor=user("delivery@accord.demo"), issue=issue, note="On it.", now=NOW)

    # Paired at each tier of Atlas's contact map, one person on each side.
    pairs = {
        slot.tier: (slot.vendor_contact, slot.partner_contact)
        for slot in ContactSlot.objects.filter(organisation=atlas, function="general")
    }
    assert {tier for tier in pairs} == {Tier.OPERATIONAL, Tier.EXECUTIVE}
    for vendor_person, partner_person in pairs.values():
        assert vendor_person.organisation.is_vendor and partner_person.organisation == atlas

    for tier in (Tier.OPERATIONAL, Tier.EXECUTIVE):
        # A second before the deadline the sweep leaves the issue alone.
        run_timers(now=deadline - SECOND)
        issue.refresh_from_db()
        assert issue.tier != tier and issue.resolve_by == deadline
        assert not issue.events.filter(kind=IssueEvent.Kind.ESCALATED, to_tier=tier).exists()

        # At the deadline it moves one tier up; its clock restarts there.
        before = last_notification()
        outbox = len(mail.outbox)
        with django_capture_on_commit_callbacks(execute=True):
            run_timers(now=deadline)
        issue.refresh_from_db()
        assert issue.tier == tier
        event = issue.events.get(kind=IssueEvent.Kind.ESCALATED, to_tier=tier)
        assert event.at == deadline and event.actor is None
        assert event.data["rule"] == "resolution_sla"
        assert event.data["deadline"] == deadline.isoformat()
        assert event.data["resolution_hours"] == resolution_hours
        assert issue.resolve_by == deadline + dt.timedelta(hours=resolution_hours)

        # Both sides' people paired at the new tier are told: in the app when they have a
        # login, by e-mail when they do not (the partner's managers here).
        vendor_person, partner_person = pairs[tier]
        assert {vendor_person.pk, partner_person.pk} <= set(event.data["notified"])
        assert vendor_person.user is not None
        assert vendor_person.user.email in notified_users(issue, before)
        assert partner_person.user is None and partner_person.email
        mailed = [message for message in mail.outbox[outbox:] if issue.number in message.subject]
        assert any(partner_person.email in message.to for message in mailed)

        # The same sweep again changes nothing.
        run_timers(now=deadline)
        assert issue.events.filter(kind=IssueEvent.Kind.ESCALATED).count() == (
            1 if tier == Tier.OPERATIONAL else 2
        )
        deadline = issue.resolve_by

    # At the top it stays, flagged once.
    run_timers(now=deadline + SECOND)
    issue.refresh_from_db()
    assert issue.tier == Tier.EXECUTIVE and issue.escalations == 2
    assert list(issue.events.values_list("kind", flat=True)) == [
        "raised",
        "responded",
        "escalated",
        "escalated",
    ]


def test_the_demo_history_escalated_on_schedule(governed) -> None:
    """The demo's critical delivery issue at 华南电子分销 went unresolved for 60 hours: it
    climbed at its raise + 24 h and + 48 h, and sits with the executives now."""
    critical = Issue.objects.get(organisation=featured(0), severity="critical")
    assert critical.tier == Tier.EXECUTIVE and critical.status == "responded"
    escalations = list(critical.events.filter(kind=IssueEvent.Kind.ESCALATED).order_by("at"))
    assert [(e.from_tier, e.to_tier) for e in escalations] == [
        (Tier.WORKING, Tier.OPERATIONAL),
        (Tier.OPERATIONAL, Tier.EXECUTIVE),
    ]
    hours = issues.sla_hours("critical")[1]
    for number, event in enumerate(escalations, 1):
        assert event.at == critical.raised_at + dt.timedelta(hours=hours * number)
        assert event.data["notified"]
    assert critical.resolve_by > ANCHOR
    # One escalated once (at the operational level), one responded to too late.
    assert Issue.objects.filter(status__in=Issue.OPEN_STATUSES, tier=Tier.OPERATIONAL).exists()
    assert IssueEvent.objects.filter(kind=IssueEvent.Kind.RESPONSE_OVERDUE).exists()


# --- a handover leaves nothing ownerless ----------------------------------------------------
def test_the_demo_handover_left_no_orphans(governed) -> None:
    handover = Handover.objects.get()
    leaver = handover.predecessor
    assert leaver.full_name == demo.VENDOR_PEOPLE[demo.LEAVER].name and not leaver.active
    assert continuity.orphans(leaver) == {}
    assert handover.moved["roles"] and handover.moved["slots"] and handover.moved["issues"]
    assert RoleAssignment.objects.filter(pk__in=handover.moved["roles"]).filter(
        holder=handover.successor
    ).count() == len(handover.moved["roles"])
    # Northwind's successor was the leaver's backup: the report shows the cover it lost.
    report = {
        row["organisation"].name: {problem["kind"] for problem in row["problems"]}
        for row in continuity_selectors.coverage_report(user("admin@accord.demo"))
    }
    assert "no_backup" in report["Northwind Retail Inc."]


def test_a_handover_moves_everything_in_one_audited_step(governed) -> None:
    admin = user("admin@accord.demo")
    leaver = card("Dana Delivery")
    held = continuity.orphans(leaver)
    for kind in ("roles", "slots", "issues", "action_items", "onboarding_tasks", "meetings"):
        assert held.get(kind), kind
    successor = create_contact(
        actor=admin,
        organisation=Organisation.objects.vendor(),
        data={"full_name": "Sam Successor", "email": "sam.successor@accord.demo"},
    )

    # Someone who already holds another role in one of these relationships cannot take
    # them over: refused, nothing moves.
    clash = card("Pat Account")
    with pytest.raises(errors.ValidationError):
        continuity.handover(actor=admin, predecessor=leaver, successor=clash, now=NOW)
    assert continuity.orphans(leaver) == held

    handover = continuity.handover(
        actor=admin,
        predecessor=leaver,
        successor=successor,
        leaving=True,
        reason="Dana moves to another region.",
        now=NOW,
    )
    leaver.refresh_from_db()
    assert not leaver.active
    assert continuity.orphans(leaver) == {}
    taken = continuity.orphans(successor)
    for kind, ids in held.items():
        assert set(ids) <= set(taken.get(kind, [])) or kind == "backups", kind
        assert set(handover.moved[kind]) == set(ids), kind
    moves = AuditEntry.objects.filter(
        action=AuditEntry.Action.ASSIGN, reason=f"handover {handover.pk}"
    )
    assert moves.count() >= sum(len(ids) for ids in held.values())
    # No relationship lost a role: they all moved (two never had all four).
    problems = {
        row["organisation"].name: {problem["kind"] for problem in row["problems"]}
        for row in continuity_selectors.coverage_report(admin)
    }
    assert not [name for name, kinds in problems.items() if "role_inactive" in kinds]
    missing = {name for name, kinds in problems.items() if "role_missing" in kinds}
    assert missing == {featured(6).name, featured(9).name}


# --- a two-sided health check -----------------------------------------------------------------
def test_a_two_sided_survey_yields_a_score_and_a_misalignment_flag(governed) -> None:
    # Every governed relationship's latest closed check has a score; two are misaligned.
    for story in demo.STORIES:
        relationship = Relationship.objects.get(organisation=featured(story.index))
        survey = (
            HealthSurvey.objects.filter(organisation=relationship.organisation, status="closed")
            .order_by("-opened_at")
            .first()
        )
        assert survey is not None and survey.score is not None
        assert relationship.health_score == survey.score
        assert survey.result["responses"]["vendor"] and survey.result["responses"]["partner"]
        assert relationship.misaligned == survey.misaligned
    atlas = HealthSurvey.objects.filter(organisation=featured(11)).order_by("-opened_at")[0]
    assert atlas.misaligned and {"communication", "trust"} <= set(atlas.result["misaligned_on"])
    assert float(atlas.result["threshold"]) == 1.0

    # The open check's printed link works once (the public page, on the real clock, is
    # tried in tests/demo/test_governance.py).
    huanan = featured(0)
    survey = HealthSurvey.objects.get(organisation=huanan, status="open")
    token = governed.survey_link.removeprefix("/governance/survey/").rstrip("/")
    response = health.response_for_token(token, NOW)
    assert response.survey == survey and response.side == "partner"
    assert response.contact.user is None  # someone without a login
    answers = {
        "communication": 1,
        "satisfaction": 4,
        "trust": 4,
        "compatibility": 4,
        "goal_alignment": 5,
        "nps": 9,
        "comment": "Too many calls, slow e-mail answers.",
    }
    health.answer(token=token, data=answers, now=NOW)
    with pytest.raises(errors.ValidationError, match="already been used"):
        health.answer(token=token, data=answers, now=NOW)

    closed = health.close_survey(actor=user("pam@accord.demo"), survey=survey, now=NOW)
    assert closed.status == "closed" and closed.score is not None
    result = closed.result
    assert result["responses"]["partner"] == 1 and result["responses"]["vendor"] >= 1
    vendor_mean = float(result["vendor"]["communication"])
    assert float(result["partner"]["communication"]) == 1.0
    assert float(result["divergence"]["communication"]) == pytest.approx(vendor_mean - 1)
    assert closed.misaligned and "communication" in result["misaligned_on"]
    relationship = Relationship.objects.get(organisation=huanan)
    assert relationship.misaligned and relationship.health_score == closed.score
    trend = [row["period"] for row in health_trend(huanan)]
    assert trend == sorted(trend) and len(trend) == 3


def health_trend(organisation: Organisation) -> list[dict[str, Any]]:
    from accord.governance.selectors import health as health_selectors

    return list(health_selectors.health_trend(user("admin@accord.demo"), organisation))


# --- one person, one role -------------------------------------------------------------------
def test_the_separated_roles_rule_holds(governed) -> None:
    huanan = featured(0)
    manager = user("channel@accord.demo")
    pat = card("Pat Account")  # the relationship manager at 华南电子分销
    assert RoleAssignment.objects.get(organisation=huanan, holder=pat).role == "relationship"

    # The service refuses a second role for the same person, naming both and the partner.
    with pytest.raises(errors.ValidationError) as refused:
        structure.assign_role(actor=manager, organisation=huanan, role="commercial", holder=pat)
    message = " ".join(refused.value.message_dict["holder"])
    assert "Pat Account" in message and huanan.name in message
    with pytest.raises(errors.ValidationError):
        structure.set_roles(
            actor=manager,
            organisation=huanan,
            holders={
                "service_delivery": card("Toni Transformation"),
                "transformation": card("Toni Transformation"),
            },
        )
    assert RoleAssignment.objects.filter(organisation=huanan, holder=pat).count() == 1

    # The database refuses it too, whoever writes.
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.filter(organisation=huanan, role="commercial").delete()
        RoleAssignment.objects.create(organisation=huanan, role="commercial", holder=pat)

    # The relationship list's filter finds the relationships with a role missing.
    incomplete = structure_selectors.list_relationships(manager, {"roles": "incomplete_or_doubled"})
    names = {relationship.organisation.name for relationship in incomplete}
    assert names >= {featured(6).name, featured(9).name}
    assert huanan.name not in names
    assert structure_selectors.role_gaps(featured(6))["missing"] == ["transformation"]


# --- the calendar feed ----------------------------------------------------------------------
def parse(body: bytes) -> Calendar:
    parsed = Calendar.from_ical(body)
    assert parsed["VERSION"] == "2.0" and parsed["PRODID"]
    return parsed


def test_the_ics_feed_opens_in_a_calendar_client(governed) -> None:
    dana = user("delivery@accord.demo")
    parsed = parse(calendar.feed_for(dana, now=NOW))
    events = parsed.walk("VEVENT")
    mine = Meeting.objects.filter(
        organisation__in=RoleAssignment.objects.filter(holder__user=dana).values("organisation")
    ) | Meeting.objects.filter(attendees__user=dana)
    expected = {str(uid) for uid in mine.distinct().values_list("uid", flat=True)}
    uids = [str(event["UID"]) for event in events]
    assert len(uids) == len(set(uids)) == len(expected) and set(uids) == expected
    by_uid = {str(m.uid): m for m in mine.distinct()}
    for event in events:
        meeting = by_uid[str(event["UID"])]
        start = event.decoded("DTSTART")
        assert start.tzinfo is not None and start.utcoffset() == dt.timedelta(0)
        assert start == meeting.starts_at
        assert event.decoded("DTEND") - start == dt.timedelta(minutes=meeting.duration_minutes)
        assert meeting.title in str(event["SUMMARY"])
        assert str(event["STATUS"]) == (
            "CANCELLED" if meeting.status == "cancelled" else "CONFIRMED"
        )
        assert event["DTSTAMP"]
    assert any(str(event["STATUS"]) == "CANCELLED" for event in events)

    # A calendar client subscribes with the secret address, without a session.
    key = calendar.new_feed_key(dana)
    response = Client().get(f"/governance/calendar/{key}.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    subscribed = parse(response.content).walk("VEVENT")
    assert {str(event["UID"]) for event in subscribed} <= expected
    assert Client().get("/governance/calendar/not-a-key.ics").status_code == 404

    # A partner's feed holds its own relationship's meetings only.
    partner = user("sales@huanan.demo")
    partner_events = parse(calendar.feed_for(partner, now=NOW)).walk("VEVENT")
    assert partner_events
    own = set(
        Meeting.objects.filter(organisation=partner.organisation).values_list("uid", flat=True)
    )
    assert {event["UID"] for event in partner_events} <= {str(uid) for uid in own}
    assert all(re.search("华南电子分销", str(event["SUMMARY"])) for event in partner_events)
