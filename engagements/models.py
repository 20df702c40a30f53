"""Engagements: the exercises, training, exchanges and visits that agreements make happen,
with the nations and organizations taking part. An engagement is classified on its own; the
agreements and provisions it is linked to keep theirs (a link above a reader's clearance is
hidden from that reader, never the engagement)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from accounts.choices import Classification
from accounts.clearance import ClassifiedQuerySet, levels_for
from agreements.models.common import DATE_VALIDATORS
from config.constraints import PythonChecks
from history.versioning import Versioned, version_fields
from partners.models import (
    Nation,
    NationOrOrganization,
    each_partner_once,
    nation_or_organization_constraint,
    nation_or_organization_fields,
)

from .choices import Domain, EngagementKind, EngagementStatus, Outcome, ParticipationRole

LATITUDE_VALIDATORS = [MinValueValidator(Decimal("-90")), MaxValueValidator(Decimal("90"))]
LONGITUDE_VALIDATORS = [MinValueValidator(Decimal("-180")), MaxValueValidator(Decimal("180"))]
MAX_PERSONNEL = 10_000_000


class EngagementQuerySet(ClassifiedQuerySet):
    def during(self, first: datetime.date, last: datetime.date) -> EngagementQuerySet:
        """Engagements with a day from ``first`` to ``last`` (both included); one without an
        end date lasts its first day."""
        return self.filter(starts_on__lte=last).filter(
            Q(ends_on__gte=first) | Q(ends_on__isnull=True, starts_on__gte=first)
        )

    def after_action_overdue(self, today: datetime.date | None = None) -> EngagementQuerySet:
        """Engagements whose after-action report is overdue on ``today``: completed or past
        their last day, the report due before ``today``, and no outcome recorded. Cancelled
        and postponed ones owe no report. (``Engagement.after_action_overdue_on`` says the
        same of one engagement.)"""
        today = today or timezone.localdate()
        return (
            self.filter(after_action_due_on__lt=today, outcome="")
            .exclude(status__in=EngagementStatus.without_report())
            .filter(
                Q(status=EngagementStatus.COMPLETED)
                | Q(ends_on__lt=today)
                | Q(ends_on__isnull=True, starts_on__lt=today)
            )
        )


class Engagement(Versioned, PythonChecks, models.Model):
    title = models.CharField("title", max_length=300)
    kind = models.CharField("kind", max_length=32, choices=EngagementKind.choices)
    status = models.CharField(
        "status",
        max_length=16,
        choices=EngagementStatus.choices,
        default=EngagementStatus.PROPOSED,
    )
    classification = models.CharField(
        "classification",
        max_length=16,
        choices=Classification.choices,
        default=Classification.UNCLASSIFIED,
    )
    starts_on = models.DateField("starts on", validators=DATE_VALIDATORS)
    ends_on = models.DateField(
        "ends on",
        null=True,
        blank=True,
        validators=DATE_VALIDATORS,
        help_text="The last day; leave empty while unknown (it then counts as one day).",
    )
    location = models.CharField("location", max_length=300, blank=True)
    location_nation = models.ForeignKey(
        Nation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="engagements_located",
        verbose_name="location nation",
    )
    latitude = models.DecimalField(
        "latitude",
        max_digits=8,
        decimal_places=5,
        null=True,
        blank=True,
        validators=LATITUDE_VALIDATORS,
        help_text="Degrees, -90 to 90 (with the longitude).",
    )
    longitude = models.DecimalField(
        "longitude",
        max_digits=8,
        decimal_places=5,
        null=True,
        blank=True,
        validators=LONGITUDE_VALIDATORS,
        help_text="Degrees, -180 to 180 (with the latitude).",
    )
    domain = models.CharField("domain", max_length=16, choices=Domain.choices, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_engagements",
        verbose_name="owner",
    )
    watchers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="watched_engagements",
        verbose_name="watchers",
    )
    summary = models.TextField("summary", blank=True)
    objectives = models.TextField("objectives", blank=True)
    source_url = models.URLField("source URL", max_length=500, blank=True)
    after_action_due_on = models.DateField(
        "after-action report due on", null=True, blank=True, validators=DATE_VALIDATORS
    )
    outcome = models.CharField(
        "outcome",
        max_length=16,
        choices=Outcome.choices,
        blank=True,
        help_text="The after-action assessment; recorded once the engagement is completed.",
    )
    outcome_notes = models.TextField("outcome notes", blank=True)
    lessons = models.TextField("lessons", blank=True)
    agreements = models.ManyToManyField(
        "agreements.Agreement",
        blank=True,
        related_name="engagements",
        verbose_name="agreements",
        help_text="The agreements this engagement implements.",
    )
    provisions = models.ManyToManyField(
        "agreements.Provision",
        blank=True,
        related_name="engagements",
        verbose_name="provisions",
        help_text="The provisions it implements; each of a linked agreement.",
    )
    contacts = models.ManyToManyField(
        "partners.PointOfContact",
        blank=True,
        related_name="engagements",
        verbose_name="points of contact",
    )
    version, revisions, created_at, updated_at = version_fields("engagement")

    objects = EngagementQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "title", "id"]
        verbose_name = "engagement"
        permissions = [("export_engagement", "Can export engagements")]
        indexes = [
            models.Index(fields=["starts_on"], name="engagement_starts_idx"),
            models.Index(fields=["ends_on"], name="engagement_ends_idx"),
            models.Index(fields=["status"], name="engagement_status_idx"),
            models.Index(fields=["after_action_due_on"], name="engagement_aar_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=EngagementKind.values), name="engagement_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=EngagementStatus.values), name="engagement_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(classification__in=Classification.values),
                name="engagement_classification_valid",
            ),
            models.CheckConstraint(
                condition=Q(domain__in=[*Domain.values, ""]), name="engagement_domain_valid"
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=[*Outcome.values, ""]), name="engagement_outcome_valid"
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="engagement_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(after_action_due_on__isnull=True)
                | Q(after_action_due_on__gte=F("starts_on")),
                name="engagement_after_action_after_start",
            ),
            models.CheckConstraint(
                condition=Q(outcome="") | Q(status=EngagementStatus.COMPLETED),
                name="engagement_outcome_when_completed",
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__isnull=False, longitude__isnull=False),
                name="engagement_coordinates_together",
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="engagement_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="engagement_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.starts_on.isoformat() if self.starts_on else '?'})"

    def get_absolute_url(self) -> str:
        return reverse("engagements:detail", args=[self.pk])

    @property
    def last_day(self) -> datetime.date | None:
        """The engagement's last day: its end date, or its first day when it has none."""
        return self.ends_on or self.starts_on

    def after_action_overdue_on(self, today: datetime.date | None = None) -> bool:
        """Whether its after-action report is overdue on ``today`` (the rule of
        ``EngagementQuerySet.after_action_overdue``)."""
        today = today or timezone.localdate()
        if self.outcome or self.after_action_due_on is None or self.after_action_due_on >= today:
            return False
        if self.status in EngagementStatus.without_report():
            return False
        last_day = self.last_day
        return self.status == EngagementStatus.COMPLETED or (
            last_day is not None and last_day < today
        )

    # Validation ---------------------------------------------------------------------------

    def clean(self):
        """The rules on the engagement's own fields (the rules on its participants and
        links are the service's: ``engagements.services``)."""
        errors: dict[str, list[str]] = {}

        def add(field: str, message: str) -> None:
            errors.setdefault(field, []).append(message)

        today = timezone.localdate()
        starts, ends, due = self.starts_on, self.ends_on, self.after_action_due_on
        if starts and ends and ends < starts:
            add("ends_on", "Cannot be before the day the engagement starts.")
        if starts and due and due < starts:
            add("after_action_due_on", "Cannot be before the day the engagement starts.")
        if self.status == EngagementStatus.COMPLETED:
            if ends is None:
                add("ends_on", "A completed engagement needs its end date.")
            elif ends >= today:
                add(
                    "ends_on",
                    "A completed engagement must have ended: the end date must be before "
                    f"today ({today.isoformat()}).",
                )
            if due and due < today and not self.outcome:
                add(
                    "outcome",
                    "The after-action report was due on "
                    f"{due.isoformat()}: record the outcome of the completed engagement.",
                )
        elif self.outcome:
            add("outcome", "An outcome is recorded only once the engagement is completed.")
        if (self.latitude is None) != (self.longitude is None):
            add(
                "longitude" if self.longitude is None else "latitude",
                "Give both the latitude and the longitude, or neither.",
            )
        if errors:
            raise ValidationError(errors)


class ParticipationQuerySet(models.QuerySet):
    def visible_to(self, user) -> ParticipationQuerySet:
        """A participation takes its engagement's classification."""
        levels = levels_for(user)
        if levels is None:
            return self
        return self.filter(engagement__classification__in=levels)


class Participation(NationOrOrganization, PythonChecks, models.Model):
    """A nation or an organization taking part in an engagement, once each."""

    engagement = models.ForeignKey(
        Engagement,
        on_delete=models.CASCADE,
        related_name="participants",
        verbose_name="engagement",
    )
    nation, organization = nation_or_organization_fields("engagement_participations")
    role = models.CharField(
        "role",
        max_length=16,
        choices=ParticipationRole.choices,
        default=ParticipationRole.PARTICIPANT,
    )
    personnel = models.PositiveIntegerField(
        "personnel",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_PERSONNEL)],
        help_text="How many people it sends, if known.",
    )

    objects = ParticipationQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = "participant"
        verbose_name_plural = "participants"
        constraints = [
            nation_or_organization_constraint("participation"),
            *each_partner_once("participation", "engagement"),
            models.CheckConstraint(
                condition=Q(role__in=ParticipationRole.values), name="participation_role_valid"
            ),
            models.CheckConstraint(
                condition=Q(personnel__isnull=True) | Q(personnel__gte=1),
                name="participation_personnel_positive",
            ),
        ]

    def __str__(self) -> str:
        return str(self.partner or "?")

    def clean(self):
        errors = self.partner_errors()
        if errors:
            raise ValidationError(errors)
