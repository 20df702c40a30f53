from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from accounts.demo import create_demo_users

DATA = Path(__file__).resolve().parents[2] / "data"
DEMO_FILES = ("demo_agreements.jsonl", "demo_exercise_records.jsonl")
# Real engagements under the demo agreements (engagements/data/DEMO_SOURCES.md), loaded after
# them: they link agreements by reference.
ENGAGEMENT_DATA = Path(__file__).resolve().parents[3] / "engagements" / "data"
DEMO_ENGAGEMENTS = ENGAGEMENT_DATA / "demo_engagements.jsonl"


class Command(BaseCommand):
    help = (
        "Load reference data, then create the demo agreements, engagements and demo users that "
        "are missing, and print the logins. Safe to run again: an agreement already in the "
        "registry (matched on reference), an engagement (matched on title and first day) and "
        "an existing demo user are left exactly as they are."
    )

    def handle(self, *args, **options):
        call_command("seed_reference_data", stdout=self.stdout)
        # The existence dates of former states may have changed: their parties' periods end
        # with them.
        call_command("rebuild_periods", "--former-states", stdout=self.stdout)
        logins = create_demo_users()
        for name in DEMO_FILES:
            call_command("import_agreements", str(DATA / name), "--no-progress", stdout=self.stdout)
        call_command(
            "import_engagements", str(DEMO_ENGAGEMENTS), "--no-progress", stdout=self.stdout
        )
        self.stdout.write("")
        site = settings.SITE_URL.rstrip("/")
        self.stdout.write(self.style.SUCCESS(f"Demo logins ({site}/):"))
        for login in logins:
            line = (
                f"  {login.username:<10} {login.password:<20} {login.groups:<16} "
                f"clearance {login.clearance}"
            )
            if not login.created:
                line += "  (existing user, left as it is)"
            self.stdout.write(line)
        kept = [login.username for login in logins if not login.created]
        if kept:
            self.stdout.write(
                f"Existing demo users left as they are (password, groups, clearance): "
                f"{', '.join(kept)}. A password changed since no longer matches the one above."
            )
