"""The deal timers with a controlled clock: protection expires after its last day, approvers
hear once about an overdue decision, registrants once about protection ending soon; running
them again changes nothing. The periodic task re-enqueues itself for the next hour."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation
from django_tasks_db.models import DBTaskResult

from accord.core.models import AuditEntry, Notification
from accord.deals import services
from accord.deals.models import Registration
from accord.deals.tasks import PATH, deal_timers
from tests.deals.builders import NOW, TODAY, register, set_rules

pytestmark = pytest.mark.django_db
S = Registration.Status


def at(day: dt.date, hour: int = 1) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def test_protection_expires_after_its_last_day_once(partner_a_user, partner_b_user):
    approved = register(partner_a_user)
    end = approved.protected_until
    assert end == TODAY + dt.timedelta(days=90)

    assert services.run_timers(at(end))["expired"] == 0  # still protected on its last day
    done = services.run_timers(at(end + dt.timedelta(days=1)))
    assert done["expired"] == 1

    expired = Registration.objects.get(pk=approved.pk)
    assert expired.status == S.EXPIRED
    assert not expired.lines.filter(protected=True).exists()
    entry = AuditEntry.objects.for_object(expired).filter(action="transition").first()
    assert entry.changes == {"status": ["approved", "expired"]} and entry.actor_label == "system"
    assert Notification.objects.filter(recipient=partner_a_user, subject__contains="expired")
    # Idempotent: nothing more happens on another run.
    assert services.run_timers(at(end + dt.timedelta(days=1), 2)) == {
        "expired": 0,
        "approval_reminders": 0,
        "expiry_reminders": 0,
    }
    # The customer is free for others.
    later = register(partner_b_user, now=at(end + dt.timedelta(days=2)))
    assert later.status == S.APPROVED


def test_registrants_hear_once_that_protection_ends_soon(partner_a_user):
    approved = register(partner_a_user)
    end = approved.protected_until
    early = at(end - dt.timedelta(days=15))
    assert services.run_timers(early)["expiry_reminders"] == 0

    due = at(end - dt.timedelta(days=14))
    assert services.run_timers(due)["expiry_reminders"] == 1
    assert services.run_timers(due + dt.timedelta(days=3))["expiry_reminders"] == 0
    [note] = Notification.objects.filter(recipient=partner_a_user)
    assert end.isoformat() in note.subject and note.link == f"/deals/{approved.pk}/"


def test_an_extension_brings_a_new_reminder(partner_a_user, channel_manager):
    approved = register(partner_a_user)
    end = approved.protected_until
    services.run_timers(at(end - dt.timedelta(days=10)))
    services.request_extension(actor=partner_a_user, registration=approved, reason="Please")
    services.decide_extension(actor=channel_manager, registration=approved, grant=True)

    new_end = end + dt.timedelta(days=30)
    assert services.run_timers(at(end + dt.timedelta(days=1)))["expired"] == 0
    assert services.run_timers(at(new_end - dt.timedelta(days=5)))["expiry_reminders"] == 1
    assert services.run_timers(at(new_end + dt.timedelta(days=1)))["expired"] == 1


def test_approvers_hear_once_about_an_overdue_decision(partner_a_user, channel_manager):
    set_rules(auto_approve=False, approval_sla_hours=24)
    pending = register(partner_a_user)
    assert Notification.objects.filter(recipient=channel_manager).count() == 1  # submitted

    assert services.run_timers(NOW + dt.timedelta(hours=23))["approval_reminders"] == 0
    assert services.run_timers(NOW + dt.timedelta(hours=24))["approval_reminders"] == 1
    assert services.run_timers(NOW + dt.timedelta(hours=30))["approval_reminders"] == 0
    overdue = Notification.objects.filter(recipient=channel_manager).order_by("pk").last()
    assert "overdue" in overdue.subject and pending.number in overdue.subject

    # Once approved it is no longer overdue, and the expiry reminder is a fresh one.
    services.approve(actor=channel_manager, registration=pending, now=NOW + dt.timedelta(days=2))
    approved = Registration.objects.get(pk=pending.pk)
    assert approved.reminded_at is None
    end = approved.protected_until
    assert services.run_timers(at(end - dt.timedelta(days=1)))["expiry_reminders"] == 1


def test_reminders_speak_the_recipients_language(partner_a_user, channel_manager):
    channel_manager.language = "zh-hans"
    channel_manager.save()
    set_rules(auto_approve=False)
    with translation.override("en"):
        register(partner_a_user)
    note = Notification.objects.get(recipient=channel_manager)
    with translation.override("zh-hans"):
        from django.utils.translation import gettext

        expected = gettext("Deal registration %(number)s awaits your decision")
    assert note.subject.startswith(expected.split("%")[0])


def test_the_task_runs_the_timers_and_schedules_the_next_hour(partner_a_user):
    register(partner_a_user, now=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))  # long expired

    result = deal_timers.call()

    assert result["expired"] == 1
    queued = DBTaskResult.objects.get(task_path=PATH)
    assert queued.run_after.minute == 0 and queued.run_after > NOW


def test_an_approval_expires_ended_protection_the_timer_has_not_reached(
    partner_a_user, partner_b_user
):
    held = register(partner_a_user)
    day_after = at(held.protected_until + dt.timedelta(days=1))

    # The hourly timer has not run yet: the old lines still hold the unique index.
    later = register(partner_b_user, customer_name="Acme Corp", now=day_after)

    assert later.status == S.APPROVED
    expired = Registration.objects.get(pk=held.pk)
    assert expired.status == S.EXPIRED
    assert not expired.lines.filter(protected=True).exists()
    assert services.run_timers(day_after)["expired"] == 0
