"""Bring over the change records the agreements app kept before history had an app of its
own: the changed record by content type, and the agreement it belonged to as the related
object."""

from django.db import migrations


def copy(apps, schema_editor):
    Old = apps.get_model("agreements", "ChangeRecord")
    New = apps.get_model("history", "ChangeRecord")
    ContentType = apps.get_model("contenttypes", "ContentType")
    types = {}

    def type_of(model):
        if model not in types:
            types[model], _ = ContentType.objects.get_or_create(app_label="agreements", model=model)
        return types[model]

    batch = []
    for old in Old.objects.order_by("id").iterator(chunk_size=2000):
        is_agreement = old.model == "agreement"
        batch.append(
            New(
                changed_object_type=type_of(old.model),
                changed_object_id=old.object_id,
                object_repr=old.object_repr,
                related_object_type=None if is_agreement else type_of("agreement"),
                related_object_id=None if is_agreement else old.agreement_id,
                related_repr="" if is_agreement else old.agreement_reference,
                action=old.action,
                changes=old.changes,
                classification=old.classification,
                actor_id=old.actor_id,
                source=old.source,
                at=old.at,
            )
        )
        if len(batch) >= 2000:
            New.objects.bulk_create(batch)
            batch = []
    New.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [
        ("history", "0001_initial"),
        ("agreements", "0003_reminder_offsets"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(copy, migrations.RunPython.noop)]
