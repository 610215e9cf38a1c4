"""The audit log is append-only, in the ORM and in the database."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from accord.core.models import AuditEntry
from accord.partners import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(channel_manager, partner_a) -> AuditEntry:
    services.update_organisation(
        actor=channel_manager, organisation=partner_a, data={"city": "Ningbo"}
    )
    return AuditEntry.objects.for_object(partner_a).get()


def test_entry_records_actor_time_object_action_and_change(entry, channel_manager, partner_a):
    assert entry.actor == channel_manager
    assert entry.actor_label == channel_manager.email
    assert entry.action == "update"
    assert entry.object_repr == partner_a.name
    assert entry.changes == {"city": ["", "Ningbo"]}
    assert entry.at is not None


def test_orm_refuses_updates_and_deletes(entry):
    entry.reason = "rewrite history"
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        AuditEntry.objects.filter(pk=entry.pk).update(reason="x")
    with pytest.raises(TypeError):
        AuditEntry.objects.all().delete()


def test_database_refuses_updates(entry):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditentry SET reason = 'x' WHERE id = %s", [entry.pk])
    entry.refresh_from_db()
    assert entry.reason == ""


@pytest.mark.skipif(connection.vendor != "postgresql", reason="delete trigger on PostgreSQL")
def test_postgres_refuses_deletes(entry):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditentry WHERE id = %s", [entry.pk])
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_failed_service_leaves_no_audit_row(channel_manager, partner_a):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.update_organisation(
            actor=channel_manager, organisation=partner_a, data={"city": "Ok", "currency": "bad"}
        )
    assert not AuditEntry.objects.for_object(partner_a).exists()
