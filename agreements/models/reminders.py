"""One delivered reminder (the sweep and delivery are in ``agreements.reminders``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from config.constraints import PythonChecks

from ..choices import ReminderKind, ReminderStatus
from .agreements import Agreement


class Reminder(PythonChecks, models.Model):
    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="reminders", verbose_name="agreement"
    )
    kind = models.CharField("kind", max_length=16, choices=ReminderKind.choices)
    due_on = models.DateField("due on", help_text="The date the reminder warns of.")
    days_before = models.IntegerField("days before")
    recipient = models.EmailField("recipient")
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reminders",
        verbose_name="recipient user",
    )
    status = models.CharField(
        "status", max_length=16, choices=ReminderStatus.choices, default=ReminderStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField("attempts", default=0)
    error = models.TextField("error", blank=True)
    created_at = models.DateTimeField("created at", auto_now_add=True)
    sent_at = models.DateTimeField("sent at", null=True, blank=True)
    claimed_at = models.DateTimeField(
        "claimed at",
        null=True,
        blank=True,
        help_text="When a worker last took this delivery on; a stale claim may be taken again.",
    )
    claim_token = models.UUIDField("claim token", null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-due_on", "kind", "recipient"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "kind", "due_on", "days_before", "recipient"],
                name="reminder_delivered_once",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ReminderKind.values), name="reminder_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ReminderStatus.values), name="reminder_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.due_on} ({self.days_before}d) to {self.recipient}"
