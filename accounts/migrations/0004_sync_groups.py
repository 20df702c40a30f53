from django.db import migrations

# A no-op since the groups are synced after every migrate (accounts.apps); kept for history.


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_calendar_token"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    operations = []
