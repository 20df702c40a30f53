import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from agreements.choices import DeliveryOutcome
from agreements.reminders import (
    DeliveryFailed,
    reminder_deliver,
    reminders_plan,
    reminders_sweep,
)


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--as-of: {value!r} is not a date; use YYYY-MM-DD.") from None


class Command(BaseCommand):
    help = (
        "Run the reminder sweep now: record and send the reminders due today (or on --as-of). "
        "Reminders already sent are never sent again. --dry-run lists them and changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=str, help="Sweep as if today were DATE (YYYY-MM-DD).")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="List what would be sent; send and write nothing.",
        )

    def handle(self, *args, as_of=None, dry_run=False, **options):
        today = _date(as_of) if as_of else timezone.localdate()
        if dry_run:
            plan = reminders_plan(today=today)
            self.stdout.write(f"Would send {len(plan)} reminder(s) as of {today.isoformat()}:")
            for due in plan:
                count = abs(due.days_before)
                days = f"{count} day{'' if count == 1 else 's'}"
                side = "after" if due.days_before < 0 else "before"
                self.stdout.write(
                    f"  {due.name}  {due.kind:<16} due {due.due_on.isoformat()} "
                    f"({days} {side})  to {due.recipient}"
                )
            return
        counts = {"sent": 0, "failed": 0, "other": 0}
        for reminder_id in reminders_sweep(today=today):
            try:
                outcome = reminder_deliver(reminder_id=reminder_id, today=today).outcome
            except DeliveryFailed as exc:
                counts["failed"] += 1
                self.stderr.write(f"Reminder {reminder_id} failed: {exc}")
                continue
            counts["sent" if outcome == DeliveryOutcome.SENT else "other"] += 1
        self.stdout.write(
            f"Sent {counts['sent']} reminder(s) as of {today.isoformat()}; "
            f"{counts['failed']} failed (recorded; retried by the next sweep); "
            f"{counts['other']} skipped (no longer due, or being sent by a worker)."
        )
