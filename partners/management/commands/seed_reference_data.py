from django.core.management.base import BaseCommand

from partners.reference_data import seed_reference_data


class Command(BaseCommand):
    help = (
        "Load every ISO 3166-1 country and ISO 3166-3 former state with its UN M49 region, "
        "and the international organizations with their members. Safe to run again."
    )

    def handle(self, *args, **options):
        counts = seed_reference_data()
        for key in sorted(counts):
            self.stdout.write(f"{key}: {counts[key]}")
        self.stdout.write(self.style.SUCCESS("Reference data is up to date."))
