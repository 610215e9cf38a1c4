"""Seed the built-in roles (idempotent; later role changes add a migration calling it again)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from accord.accounts.roles import sync_builtin_roles

    sync_builtin_roles(apps.get_model("accounts", "Role"))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
