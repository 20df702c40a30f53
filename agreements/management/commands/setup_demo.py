from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from accounts.demo import create_demo_users

DATA = Path(__file__).resolve().parents[2] / "data"
DEMO_FILES = ("demo_agreements.jsonl", "demo_exercise_records.jsonl")


class Command(BaseCommand):
    help = (
        "Load reference data, the demo agreements and the demo users, and print the logins. "
        "Safe to run again: nothing is duplicated."
    )

    def handle(self, *args, **options):
        call_command("seed_reference_data", stdout=self.stdout)
        logins = create_demo_users()
        for name in DEMO_FILES:
            call_command("import_agreements", str(DATA / name), "--no-progress", stdout=self.stdout)
        self.stdout.write("")
        site = settings.SITE_URL.rstrip("/")
        self.stdout.write(self.style.SUCCESS(f"Demo logins ({site}/):"))
        for username, password, group, clearance in logins:
            self.stdout.write(f"  {username:<10} {password:<20} {group:<16} clearance {clearance}")
