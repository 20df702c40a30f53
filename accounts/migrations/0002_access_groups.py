from django.db import migrations


def create_groups(apps, schema_editor):
    from accounts.groups import sync_groups
    from accounts.migrations._permissions import create_all_permissions

    create_all_permissions(apps)
    sync_groups(apps)


def remove_groups(apps, schema_editor):
    from accounts.groups import GROUPS

    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("agreements", "0001_initial"),
        ("partners", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
