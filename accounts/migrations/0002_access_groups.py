from django.db import migrations

# The access groups are kept in step with accounts.groups by a post_migrate receiver
# (accounts.apps), so this migration no longer imports live code; it stays as a no-op so
# databases that ran it keep a consistent migration history.


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("agreements", "0001_initial"),
        ("partners", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = []
