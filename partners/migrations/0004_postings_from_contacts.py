"""Each existing point of contact with a ``posted_to`` nation and an ``active_from`` day
becomes one posting to that nation over the contact's dates. A contact posted somewhere
without a first day keeps its ``posted_to`` summary and gets no posting (a posting needs its
first day): an editor adds it. Backwards, the postings go; the summaries stay."""

from django.db import migrations


def postings_from_contacts(apps, schema_editor):
    PointOfContact = apps.get_model("partners", "PointOfContact")
    Posting = apps.get_model("partners", "Posting")
    contacts = PointOfContact.objects.filter(posted_to__isnull=False, active_from__isnull=False)
    Posting.objects.bulk_create(
        [
            Posting(
                contact_id=contact.pk,
                nation_id=contact.posted_to_id,
                active_from=contact.active_from,
                active_to=contact.active_to,
            )
            for contact in contacts.iterator()
        ],
        batch_size=500,
    )


def remove_postings(apps, schema_editor):
    apps.get_model("partners", "Posting").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("partners", "0003_postings")]

    operations = [migrations.RunPython(postings_from_contacts, remove_postings)]
