from django.db import migrations


def sync(apps, schema_editor):
    # The same step as 0002: permissions for models added since (calendar tokens, API tokens)
    # exist only once their migrations ran, so bring the groups up to date.
    from accounts.migrations._permissions import create_all_permissions
    from accounts.groups import sync_groups

    create_all_permissions(apps)
    sync_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_calendar_token"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    operations = [migrations.RunPython(sync, migrations.RunPython.noop)]
