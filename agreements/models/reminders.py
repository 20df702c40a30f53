"""One delivered reminder (the sweep and delivery are in ``agreements.reminders``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from config.constraints import PythonChecks
from partners.models import Posting

from ..choices import ReminderKind, ReminderStatus
from .agreements import Agreement

# What a reminder can be about: one foreign key each, exactly one of them set on a row
# (``reminder_one_subject``). A new subject adds its field here, to the constraint below
# and a unique constraint of its own, and a module of candidates and messages to
# ``agreements.reminders.SUBJECTS``.
SUBJECT_FIELDS = ("agreement", "posting", "engagement")


def _exactly_one(fields) -> Q:
    condition = Q()
    for chosen in fields:
        condition |= Q(**{f"{name}__isnull": name != chosen for name in fields})
    return condition


class Reminder(PythonChecks, models.Model):
    agreement = models.ForeignKey(
        Agreement,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminders",
        verbose_name="agreement",
    )
    posting = models.ForeignKey(
        Posting,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminders",
        verbose_name="posting",
    )
    engagement = models.ForeignKey(
        "engagements.Engagement",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminders",
        verbose_name="engagement",
    )
    kind = models.CharField("kind", max_length=16, choices=ReminderKind.choices)
    due_on = models.DateField("due on", help_text="The date the reminder warns of.")
    days_before = models.IntegerField(
        "days before",
        help_text="How many days before the date it went out; negative: days after it (an "
        "overdue after-action report).",
    )
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
            models.UniqueConstraint(
                fields=["posting", "kind", "due_on", "days_before", "recipient"],
                name="reminder_posting_delivered_once",
            ),
            models.UniqueConstraint(
                fields=["engagement", "kind", "due_on", "days_before", "recipient"],
                name="reminder_engagement_delivered_once",
            ),
            models.CheckConstraint(
                condition=_exactly_one(SUBJECT_FIELDS), name="reminder_one_subject"
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

    @property
    def subject_field(self) -> str:
        """The one of ``SUBJECT_FIELDS`` that is set."""
        return next(name for name in SUBJECT_FIELDS if getattr(self, f"{name}_id"))

    @property
    def subject(self):
        """What the reminder is about: its agreement, its posting or its engagement."""
        return getattr(self, self.subject_field)
