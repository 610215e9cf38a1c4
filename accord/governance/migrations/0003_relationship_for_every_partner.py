"""Every partner organisation gets its governance record (new ones get it when created)."""

from django.db import migrations


def forwards(apps, schema_editor):
    Organisation = apps.get_model("partners", "Organisation")
    Relationship = apps.get_model("governance", "Relationship")
    rows = [
        Relationship(organisation_id=pk, started_on=created.date())
        for pk, created in Organisation.objects.filter(
            is_vendor=False, relationship__isnull=True
        ).values_list("pk", "created_at")
    ]
    Relationship.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0002_onboarding_task_title_zh"),
        ("partners", "0004_contact_user_active"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
