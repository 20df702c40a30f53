"""An agreement's reviews and the events of its timeline."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from config.constraints import PythonChecks

from ..choices import EventKind, ReviewOutcome
from .agreements import DATE_VALIDATORS, Agreement


class Review(PythonChecks, models.Model):
    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="reviews", verbose_name="agreement"
    )
    reviewed_on = models.DateField("reviewed on", validators=DATE_VALIDATORS)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reviews",
        verbose_name="reviewer",
    )
    outcome = models.CharField("outcome", max_length=16, choices=ReviewOutcome.choices)
    notes = models.TextField("notes", blank=True)

    class Meta:
        ordering = ["-reviewed_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=ReviewOutcome.values), name="review_outcome_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Review of {self.agreement.reference} on {self.reviewed_on}"


class AgreementEvent(PythonChecks, models.Model):
    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="events", verbose_name="agreement"
    )
    kind = models.CharField("kind", max_length=32, choices=EventKind.choices)
    date = models.DateField("date", validators=DATE_VALIDATORS)
    note = models.TextField("note", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="created by",
    )
    created_at = models.DateTimeField("created at", auto_now_add=True)

    class Meta:
        ordering = ["date", "id"]
        verbose_name = "event"
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=EventKind.values), name="event_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.date}"
