"""Give the built-in roles their relationship-governance permissions."""

from django.db import migrations


def forwards(apps, schema_editor):
    from accord.accounts.roles import sync_builtin_roles

    sync_builtin_roles(apps.get_model("accounts", "Role"))


class Migration(migrations.Migration):
    dependencies = [("accounts", "0005_deal_roles")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
