"""Agreements: the model, its validation, its versions as each reader sees them and the
rule of which dates are due. What search reads is in ``search`` (one document per level)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse

from accounts.choices import Classification
from config.constraints import PythonChecks
from history.versioning import Versioned, version_fields

from ..choices import AgreementStatus, AgreementType
from ..offsets import offsets_errors
from .common import (
    DATE_VALIDATORS,
    DUE_DATE_RULES,
    MAX_PERIOD_DAYS,
    MAX_PERIOD_MONTHS,
    AgreementQuerySet,
    at_most,
)


class Agreement(Versioned, PythonChecks, models.Model):
    reference = models.CharField(
        "reference",
        max_length=64,
        unique=True,
        blank=True,
        help_text="Human-readable identifier; generated when left blank.",
    )
    title = models.CharField("title", max_length=500)
    short_title = models.CharField("short title", max_length=200, blank=True)
    summary = models.TextField("summary", blank=True)
    source_url = models.URLField("source URL", max_length=500, blank=True)
    type = models.CharField("type", max_length=32, choices=AgreementType.choices)
    status = models.CharField(
        "status", max_length=16, choices=AgreementStatus.choices, default=AgreementStatus.DRAFT
    )
    classification = models.CharField(
        "classification",
        max_length=16,
        choices=Classification.choices,
        default=Classification.UNCLASSIFIED,
    )
    signed_on = models.DateField("signed on", null=True, blank=True, validators=DATE_VALIDATORS)
    entered_into_force_on = models.DateField(
        "entered into force on", null=True, blank=True, validators=DATE_VALIDATORS
    )
    expires_on = models.DateField(
        "expires on",
        null=True,
        blank=True,
        help_text="Leave empty for an indefinite agreement.",
        validators=DATE_VALIDATORS,
    )
    terminated_on = models.DateField(
        "terminated on", null=True, blank=True, validators=DATE_VALIDATORS
    )
    auto_renews = models.BooleanField("renews automatically", default=False)
    renewal_period_months = models.PositiveSmallIntegerField(
        "renewal period (months)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), at_most(MAX_PERIOD_MONTHS, "months")],
    )
    notice_period_days = models.PositiveIntegerField(
        "notice period (days)",
        null=True,
        blank=True,
        help_text="Days before expiry by which notice of non-renewal must be given.",
        validators=[at_most(MAX_PERIOD_DAYS, "days")],
    )
    notice_given_on = models.DateField(
        "notice given on", null=True, blank=True, validators=DATE_VALIDATORS
    )
    notice_deadline = models.DateField(
        "notice deadline",
        null=True,
        blank=True,
        editable=False,
        help_text="Derived: expiry date minus the notice period.",
    )
    next_review_on = models.DateField(
        "next review on", null=True, blank=True, validators=DATE_VALIDATORS
    )
    review_interval_months = models.PositiveSmallIntegerField(
        "review interval (months)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), at_most(MAX_PERIOD_MONTHS, "months")],
    )
    supersedes = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="superseded_by",
        verbose_name="supersedes",
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name="parent framework",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_agreements",
        verbose_name="owner",
    )
    watchers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="watched_agreements",
        verbose_name="watchers",
    )
    contacts = models.ManyToManyField(
        "partners.PointOfContact",
        blank=True,
        related_name="agreements",
        verbose_name="responsible desk officers",
        help_text="The points of contact responsible for the agreement (its desk officers).",
    )
    office_email = models.EmailField("office mailbox", blank=True)
    reminder_offsets = models.JSONField(
        "reminder offsets",
        null=True,
        blank=True,
        help_text="Days before each date to send reminders, replacing the defaults kind by kind, "
        'e.g. {"expiry": [120, 30], "notice_deadline": [14], "review": []}.',
    )
    version, revisions, created_at, updated_at = version_fields("agreement")
    objects = AgreementQuerySet.as_manager()

    class Meta:
        ordering = ["-signed_on", "reference"]
        permissions = [
            ("export_agreement", "Can export agreements"),
            ("view_statistics", "Can view agreement statistics"),
            ("check_registry", "Can see the registry check"),
        ]
        indexes = [
            models.Index(fields=["status"], name="agreement_status_idx"),
            models.Index(fields=["type"], name="agreement_type_idx"),
            models.Index(fields=["expires_on"], name="agreement_expires_idx"),
            models.Index(fields=["notice_deadline"], name="agreement_notice_idx"),
            models.Index(fields=["next_review_on"], name="agreement_review_idx"),
            models.Index(fields=["signed_on"], name="agreement_signed_idx"),
            # The few that set their own reminder offsets, which every sweep reads
            # (``reminder_candidates``): without it, a scan of every agreement.
            models.Index(
                fields=["status"],
                condition=Q(reminder_offsets__isnull=False),
                name="agreement_own_offsets_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(type__in=AgreementType.values), name="agreement_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=AgreementStatus.values), name="agreement_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(classification__in=Classification.values),
                name="agreement_classification_valid",
            ),
            models.CheckConstraint(
                condition=Q(signed_on__isnull=True)
                | Q(entered_into_force_on__isnull=True)
                | Q(entered_into_force_on__gte=F("signed_on")),
                name="agreement_signed_before_in_force",
            ),
            models.CheckConstraint(
                condition=Q(entered_into_force_on__isnull=True)
                | Q(expires_on__isnull=True)
                | Q(expires_on__gte=F("entered_into_force_on")),
                name="agreement_in_force_before_expiry",
            ),
            models.CheckConstraint(
                condition=Q(signed_on__isnull=True)
                | Q(expires_on__isnull=True)
                | Q(expires_on__gte=F("signed_on")),
                name="agreement_signed_before_expiry",
            ),
            models.CheckConstraint(
                condition=Q(signed_on__isnull=True)
                | Q(terminated_on__isnull=True)
                | Q(terminated_on__gte=F("signed_on")),
                name="agreement_terminated_after_signed",
            ),
            models.CheckConstraint(
                condition=~Q(status=AgreementStatus.IN_FORCE)
                | Q(entered_into_force_on__isnull=False),
                name="agreement_in_force_has_date",
            ),
            models.CheckConstraint(
                condition=Q(auto_renews=False)
                | Q(expires_on__isnull=False, renewal_period_months__isnull=False),
                name="agreement_auto_renewal_complete",
            ),
            models.CheckConstraint(
                condition=Q(renewal_period_months__isnull=True) | Q(renewal_period_months__gt=0),
                name="agreement_renewal_period_positive",
            ),
            models.CheckConstraint(
                condition=Q(review_interval_months__isnull=True) | Q(review_interval_months__gt=0),
                name="agreement_review_interval_positive",
            ),
            models.CheckConstraint(
                condition=Q(supersedes__isnull=True) | ~Q(supersedes=F("id")),
                name="agreement_not_superseding_itself",
            ),
            models.CheckConstraint(
                condition=Q(parent__isnull=True) | ~Q(parent=F("id")),
                name="agreement_not_own_parent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {self.short_title or self.title}"

    def save(self, *args, **kwargs):
        self.notice_deadline = self.compute_notice_deadline()
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("agreements:detail", args=[self.pk])

    # Derived values -----------------------------------------------------------------------

    def compute_notice_deadline(self) -> datetime.date | None:
        if self.expires_on is None or self.notice_period_days is None:
            return None
        return self.expires_on - datetime.timedelta(days=self.notice_period_days)

    def due_dates(self) -> dict[str, datetime.date]:
        """The dates that are due for this agreement, given its status, by kind (a
        ``ReminderKind``: expiry, notice deadline, review), past ones included: the rule of
        ``DUE_DATE_RULES``, the same one ``Agreement.objects.due_between()`` queries."""
        due = {}
        for rule in DUE_DATE_RULES:
            day = getattr(self, rule.field)
            if day is None or self.status not in rule.statuses:
                continue
            if rule.moot_once and getattr(self, rule.moot_once) is not None:
                continue
            due[rule.kind] = day
        return due

    @property
    def is_multilateral(self) -> bool:
        return len(self.parties.all()) > 2

    @property
    def is_bilateral(self) -> bool:
        return len(self.parties.all()) == 2

    @property
    def lateral(self) -> str:
        count = len(self.parties.all())
        if count == 2:
            return "bilateral"
        if count > 2:
            return "multilateral"
        return ""

    # Validation ---------------------------------------------------------------------------

    def clean(self):
        errors: dict[str, list[str]] = {}

        def add(field: str, message: str) -> None:
            errors.setdefault(field, []).append(message)

        signed, in_force = self.signed_on, self.entered_into_force_on
        expires, terminated = self.expires_on, self.terminated_on
        if signed and in_force and in_force < signed:
            add("entered_into_force_on", "Cannot be before the date the agreement was signed.")
        if in_force and expires and expires < in_force:
            add("expires_on", "Cannot be before the date the agreement entered into force.")
        elif signed and expires and expires < signed:
            add("expires_on", "Cannot be before the date the agreement was signed.")
        if signed and terminated and terminated < signed:
            add("terminated_on", "Cannot be before the date the agreement was signed.")
        if self.status == AgreementStatus.IN_FORCE and not in_force:
            add("entered_into_force_on", "An agreement in force needs its entry-into-force date.")
        if self.auto_renews:
            if not expires:
                add("expires_on", "An agreement that renews automatically needs an expiry date.")
            if not self.renewal_period_months:
                add(
                    "renewal_period_months",
                    "An agreement that renews automatically needs a renewal period.",
                )
        for field, label in (("supersedes", "supersede"), ("parent", "sit under")):
            target_id = getattr(self, f"{field}_id")
            if target_id is None:
                continue
            if self.pk and target_id == self.pk:
                add(field, f"An agreement cannot {label} itself.")
            elif self.pk and self._chain_reaches_self(field, target_id):
                add(field, "This would make a loop: the chosen agreement already leads back here.")
        if self.pk and self.classification:
            lower = Classification.values[: Classification.rank(self.classification)]
            if lower and self.provisions.filter(classification__in=lower).exists():
                add(
                    "classification",
                    "Some provisions are classified below this level; raise them first.",
                )
        for message in offsets_errors(self.reminder_offsets):
            add("reminder_offsets", message)
        if errors:
            raise ValidationError(errors)

    def _chain_reaches_self(self, field: str, start_id: int) -> bool:
        seen: set[int] = set()
        current: int | None = start_id
        while current is not None and current not in seen:
            if current == self.pk:
                return True
            seen.add(current)
            current = (
                Agreement.objects.filter(pk=current).values_list(f"{field}_id", flat=True).first()
            )
        return False
