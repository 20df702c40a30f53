"""Celery tasks: thin wrappers that take ids or dates and call the services.

Beat runs ``run_lifecycle`` and then ``sweep_reminders`` once a day (settings.CELERY_BEAT_SCHEDULE).
The sweep records the due reminders and queues one ``deliver_reminder`` per row; a delivery
claims its row first, so a task delivered twice, or two sweeps at once, send nothing twice."""

from __future__ import annotations

import datetime
import logging
from dataclasses import asdict

from celery import shared_task
from django.conf import settings

from . import lifecycle, reminders
from .choices import DeliveryOutcome

logger = logging.getLogger(__name__)


def _day(as_of: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(as_of) if as_of else None


@shared_task
def run_lifecycle(as_of: str | None = None) -> dict:
    report = lifecycle.lifecycle_run(today=_day(as_of))
    return asdict(report)


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
