import datetime

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from agreements.lifecycle import lifecycle_run
from agreements.models import Agreement


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--as-of: {value!r} is not a date; use YYYY-MM-DD.") from None


class Command(BaseCommand):
    help = (
        "Run the daily lifecycle now (what beat runs every day): signed agreements whose date "
        "has come enter into force, past expiries renew automatically or expire. Prints each "
        "agreement changed. --dry-run does the same in a transaction that is rolled back."
    )

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=str, help="Run as if today were DATE (YYYY-MM-DD).")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Say what would change; write nothing (rolled back).",
        )

    def handle(self, *args, as_of=None, dry_run=False, **options):
        today = _date(as_of) if as_of is not None else timezone.localdate()
        if dry_run:
            # The very same run, in one transaction that is rolled back: every rule is
            # checked as it would be, and nothing (agreement, event, change record) stays.
            with transaction.atomic():
                report = lifecycle_run(today=today)
                lines = self._describe(report, dry_run)
                transaction.set_rollback(True)
        else:
            # As beat runs it: each agreement its own transaction.
            report = lifecycle_run(today=today)
            lines = self._describe(report, dry_run)
        changed = len(report.entered_into_force) + len(report.renewed) + len(report.expired)
        verb = "Would change" if dry_run else "Changed"
        self.stdout.write(f"{verb} {changed} agreement(s) as of {today.isoformat()}:")
        for line in lines:
            self.stdout.write(f"  {line}")
        for reference, message in report.failed.items():
            self.stderr.write(f"  {reference}: not changed ({message})")
        if report.failed:
            self.stderr.write(f"{len(report.failed)} agreement(s) could not be changed.")
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")

    @staticmethod
    def _describe(report, dry_run: bool) -> list[str]:
        """One line per agreement changed, read while the changes are still visible."""
        would = "would " if dry_run else ""
        expiries = dict(
            Agreement.objects.filter(reference__in=report.renewed).values_list(
                "reference", "expires_on"
            )
        )
        lines = [
            f"{reference}: {would}{'enter' if dry_run else 'entered'} into force"
            for reference in report.entered_into_force
        ]
        lines += [
            f"{reference}: {would}{'renew' if dry_run else 'renewed'}, "
            f"{'expiring' if dry_run else 'now expires'} on {expiries[reference].isoformat()}"
            for reference in report.renewed
        ]
        lines += [
            f"{reference}: {would}{'expire' if dry_run else 'expired'}"
            for reference in report.expired
        ]
        return lines
