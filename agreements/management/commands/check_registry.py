import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from agreements.registry_check import findings_by_check, registry_findings


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--as-of: {value!r} is not a date; use YYYY-MM-DD.") from None


class Command(BaseCommand):
    help = (
        "List the inconsistencies between records that validation cannot catch one row at a "
        "time (agreements/registry_check.py): parties without acts, acts outside the days a "
        "state existed, members bound outside their membership, undated memberships, sources "
        "on document-sharing sites, in force past expiry, suspensions the timeline does not "
        "bear out. Every agreement, whatever its classification. Exits with 1 when it finds "
        "something."
    )

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=str, help="Check as if today were DATE (YYYY-MM-DD).")

    def handle(self, *args, as_of=None, **options):
        today = _date(as_of) if as_of is not None else timezone.localdate()
        findings = registry_findings(today)
        self.stdout.write(f"Registry check as of {today.isoformat()}:")
        if not findings:
            self.stdout.write("No inconsistencies found.")
            return
        for _code, title, group in findings_by_check(findings):
            self.stdout.write(f"{title} ({len(group)}):")
            for finding in group:
                self.stdout.write(f"  {finding}")
        count = len(findings)
        raise CommandError(
            f"{count} inconsistenc{'y' if count == 1 else 'ies'} found.", returncode=1
        )
