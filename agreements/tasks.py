"""Celery tasks: thin wrappers that take ids or dates and call the services.

Beat runs ``run_lifecycle`` and then ``sweep_reminders`` once a day (settings.CELERY_BEAT_SCHEDULE).
The sweep records the due reminders and queues one ``deliver_reminder`` per row; a delivery
claims its row first, so a task delivered twice, or two sweeps at once, send nothing twice."""

from __future__ import annotations

import datetime
import logging
from dataclasses import asdict

from celery import chain, shared_task
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from . import lifecycle, reminders
from .choices import DeliveryOutcome

logger = logging.getLogger(__name__)


def _day(as_of: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(as_of) if as_of else None


# When the daily run last happened (the cache: shared by every process; losing it only
# means one more run, and both tasks are safe to run again).
LAST_RUN_KEY = "agreements:daily-run-on"


@shared_task
def run_lifecycle(as_of: str | None = None) -> dict:
    report = lifecycle.lifecycle_run(today=_day(as_of))
    if as_of is None:
        cache.set(LAST_RUN_KEY, timezone.localdate().isoformat(), timeout=None)
    return asdict(report)


def catch_up(today: datetime.date | None = None) -> bool:
    """On beat's start: when the daily run did not happen today (beat was down over its
    06:00 slot, or this is a fresh install), queue it now: the lifecycle, then the reminder
    sweep (which itself sends only the most urgent reminder still ahead of each date).
    True when it queued them."""
    today = today or timezone.localdate()
    last = cache.get(LAST_RUN_KEY)
    if last is not None and last >= today.isoformat():
        return False
    logger.info("The daily run last happened on %s: running it now.", last or "no record")
    chain(run_lifecycle.si(), sweep_reminders.si()).delay()
    return True


@shared_task
def sweep_reminders(as_of: str | None = None) -> int:
    """Record today's due reminders and queue a delivery for every row still waiting."""
    waiting = reminders.reminders_sweep(today=_day(as_of))
    for reminder_id in waiting:
        deliver_reminder.delay(reminder_id, as_of)
    logger.info("Reminder sweep queued %d deliveries.", len(waiting))
    return len(waiting)


@shared_task(bind=True, max_retries=settings.REMINDER_MAX_RETRIES)
def deliver_reminder(self, reminder_id: int, as_of: str | None = None) -> str:
    """Send one reminder; a failed send is retried with exponential backoff, a delivery
    claimed by another (possibly dead) worker is tried again when that claim goes stale."""
    try:
        delivery = reminders.reminder_deliver(reminder_id=reminder_id, today=_day(as_of))
    except reminders.DeliveryFailed as exc:
        countdown = reminders.retry_countdown(self.request.retries)
        raise self.retry(exc=exc, countdown=countdown) from exc
    if delivery.outcome == DeliveryOutcome.BUSY:
        raise self.retry(countdown=delivery.retry_in)
    return delivery.outcome.value
