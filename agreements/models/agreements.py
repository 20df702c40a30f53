"""Agreements, their parties and provisions: querysets, the search index helpers and the
rule of which dates are due."""

from __future__ import annotations

import datetime
import functools
import operator
from collections.abc import Mapping
from typing import NamedTuple

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connections, models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.choices import Classification
from accounts.clearance import ClassifiedQuerySet, level_of, levels_for
from partners.models import Nation, Organization

from ..choices import AgreementStatus, AgreementType, ProvisionCategory, ReminderKind
from ..dates import validate_in_range
from ..offsets import offsets_errors

SEARCH_CONFIG = "english"


class SearchIndex(GinIndex):
    """A GIN index on PostgreSQL; elsewhere (SQLite) a plain index on the unused column, so
    the same migrations run on both."""

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor != "postgresql":
            return models.Index.create_sql(self, model, schema_editor, **kwargs)
        return super().create_sql(model, schema_editor, using=using, **kwargs)


def _update_search_vector(instance, vector) -> None:
    """Store the full-text vector of a saved row (PostgreSQL only; SQLite searches with
    ``icontains`` instead)."""
    if connections[instance._state.db or "default"].vendor != "postgresql":
        return
    type(instance)._base_manager.filter(pk=instance.pk).update(search_vector=vector)


class DueDateRule(NamedTuple):
    kind: str  # a ReminderKind value
    field: str  # the agreement's date field
    statuses: tuple[str, ...]  # the statuses in which the date is due
    moot_once: str = ""  # a field that, once set, means the date is no longer due


# Which dates of an agreement are due, and in which statuses: the one rule behind
# ``Agreement.due_dates()`` and ``AgreementQuerySet.due_between()``, so every deadline list,
# the calendar feed and the reminder sweep agree. Expiry and notice deadline are due while the
# agreement is live (the notice deadline only until notice is given), the review also before
# signature; in a final status (expired, terminated, superseded) nothing is due.
DUE_DATE_RULES = (
    DueDateRule(ReminderKind.EXPIRY, "expires_on", tuple(AgreementStatus.live())),
    DueDateRule(
        ReminderKind.NOTICE_DEADLINE,
        "notice_deadline",
        tuple(AgreementStatus.live()),
        moot_once="notice_given_on",
    ),
    DueDateRule(
        ReminderKind.REVIEW,
        "next_review_on",
        tuple(AgreementStatus.pre_signature() + AgreementStatus.live()),
    ),
)


class AgreementQuerySet(ClassifiedQuerySet):
    def expiring_within(self, days: int, today: datetime.date | None = None):
        today = today or datetime.date.today()
        return self.filter(
            expires_on__gte=today, expires_on__lte=today + datetime.timedelta(days=days)
        )

    def due_between(self, start: datetime.date, end: datetime.date):
        """Agreements with any due date (see ``Agreement.due_dates()``) from ``start`` to
        ``end``, both included."""
        return self.due_in_windows(dict.fromkeys(ReminderKind.values, (start, end)))

    def due_in_windows(self, windows: Mapping[str, tuple[datetime.date, datetime.date]]):
        """Agreements with a due date of some kind inside that kind's window (both ends
        included); kinds missing from ``windows`` are not looked at. An OR of one bounded
        range per kind, each on an indexed date column, so the date indexes stay usable."""
        conditions = []
        for rule in DUE_DATE_RULES:
            if rule.kind not in windows:
                continue
            condition = Q(status__in=rule.statuses, **{f"{rule.field}__range": windows[rule.kind]})
            if rule.moot_once:
                condition &= Q(**{f"{rule.moot_once}__isnull": True})
            conditions.append(condition)
        if not conditions:
            return self.none()
        return self.filter(functools.reduce(operator.or_, conditions))


class ProvisionQuerySet(models.QuerySet):
    def visible_to(self, user) -> ProvisionQuerySet:
        """A provision is visible when both it and its agreement are within clearance."""
        levels = levels_for(user)
        if levels is None:
            return self
        return self.filter(classification__in=levels, agreement__classification__in=levels)


# The longest periods an agreement may set: beyond them date arithmetic overflows.
MAX_PERIOD_MONTHS = 1200
MAX_PERIOD_DAYS = 36500


def at_most(limit: int, unit: str) -> MaxValueValidator:
    return MaxValueValidator(limit, message=f"Must be at most %(limit_value)s {unit}.")


# Every date field the registry is given carries this (the admin, the API's serializers
# derived from the models, the import and the services all refuse the same dates).
DATE_VALIDATORS = [validate_in_range]


class Agreement(models.Model):
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
    office_email = models.EmailField("office mailbox", blank=True)
    reminder_offsets = models.JSONField(
        "reminder offsets",
        null=True,
        blank=True,
        help_text="Days before each date to send reminders, replacing the defaults kind by kind, "
        'e.g. {"expiry": [120, 30], "notice_deadline": [14], "review": []}.',
    )
    version = models.PositiveIntegerField(
        "version", default=1, editable=False, help_text="Bumped by every change."
    )
    revisions = models.JSONField(
        "revisions",
        default=dict,
        blank=True,
        editable=False,
        help_text="Per clearance level: [version, time] of the last change visible at it.",
    )
    created_at = models.DateTimeField("created at", auto_now_add=True)
    updated_at = models.DateTimeField(
        "updated at",
        default=timezone.now,
        editable=False,
        help_text="The last change visible at the agreement's own classification.",
    )
    search_vector = SearchVectorField("search vector", null=True, editable=False)

    objects = AgreementQuerySet.as_manager()

    class Meta:
        ordering = ["-signed_on", "reference"]
        permissions = [
            ("export_agreement", "Can export agreements"),
            ("view_statistics", "Can view agreement statistics"),
        ]
        indexes = [
            models.Index(fields=["status"], name="agreement_status_idx"),
            models.Index(fields=["type"], name="agreement_type_idx"),
            models.Index(fields=["expires_on"], name="agreement_expires_idx"),
            models.Index(fields=["notice_deadline"], name="agreement_notice_idx"),
            models.Index(fields=["next_review_on"], name="agreement_review_idx"),
            models.Index(fields=["signed_on"], name="agreement_signed_idx"),
            SearchIndex(fields=["search_vector"], name="agreement_search_idx"),
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
        _update_search_vector(
            self,
            SearchVector("reference", "title", weight="A", config=SEARCH_CONFIG)
            + SearchVector("summary", weight="B", config=SEARCH_CONFIG),
        )

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

    # Versions as each reader sees them ----------------------------------------------------

    def _revision(self, level: str) -> list:
        """[version, ISO time] of the last change visible at ``level``. A row written
        before per-level versions (no revisions at all) counts every change at every level;
        a level the record has only just come down to starts at 0."""
        if not self.revisions:
            return [self.version, self.updated_at.isoformat() if self.updated_at else None]
        return self.revisions.get(level) or [0, None]

    def version_for(self, user) -> int:
        """The version ``user`` sees: it moves only when something they may see changed."""
        level = level_of(user)
        return self._revision(level)[0] if level else 0

    def updated_at_for(self, user) -> datetime.datetime:
        level = level_of(user)
        moment = self._revision(level)[1] if level else None
        return parse_datetime(moment) if moment else self.updated_at

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


class AgreementParty(models.Model):
    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="parties", verbose_name="agreement"
    )
    nation = models.ForeignKey(
        Nation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agreement_parties",
        verbose_name="nation",
    )
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agreement_parties",
        verbose_name="organization",
    )
    signed_on = models.DateField("signed on", null=True, blank=True, validators=DATE_VALIDATORS)
    ratified_on = models.DateField("ratified on", null=True, blank=True, validators=DATE_VALIDATORS)
    entered_into_force_on = models.DateField(
        "entered into force on", null=True, blank=True, validators=DATE_VALIDATORS
    )
    withdrawn_on = models.DateField(
        "withdrawn on", null=True, blank=True, validators=DATE_VALIDATORS
    )

    class Meta:
        ordering = ["id"]
        verbose_name = "party"
        verbose_name_plural = "parties"
        constraints = [
            models.CheckConstraint(
                condition=Q(nation__isnull=False, organization__isnull=True)
                | Q(nation__isnull=True, organization__isnull=False),
                name="party_nation_xor_organization",
            ),
            models.UniqueConstraint(
                fields=["agreement", "nation"],
                condition=Q(nation__isnull=False),
                name="party_nation_once",
            ),
            models.UniqueConstraint(
                fields=["agreement", "organization"],
                condition=Q(organization__isnull=False),
                name="party_organization_once",
            ),
            models.CheckConstraint(
                condition=Q(withdrawn_on__isnull=True)
                | (
                    (Q(signed_on__isnull=True) | Q(withdrawn_on__gt=F("signed_on")))
                    & (Q(ratified_on__isnull=True) | Q(withdrawn_on__gt=F("ratified_on")))
                    & (
                        Q(entered_into_force_on__isnull=True)
                        | Q(withdrawn_on__gt=F("entered_into_force_on"))
                    )
                ),
                name="party_withdrawn_after_own_dates",
            ),
            models.CheckConstraint(
                condition=Q(signed_on__isnull=True)
                | Q(entered_into_force_on__isnull=True)
                | Q(entered_into_force_on__gte=F("signed_on")),
                name="party_signed_before_in_force",
            ),
        ]

    def __str__(self) -> str:
        return str(self.partner or "?")

    @property
    def partner(self) -> Nation | Organization | None:
        return self.nation or self.organization

    @property
    def code(self) -> str:
        partner = self.partner
        return partner.code if partner else ""

    @property
    def kind(self) -> str:
        return "nation" if self.nation_id else "organization"

    def clean(self):
        errors: dict[str, str] = {}
        if bool(self.nation_id) == bool(self.organization_id):
            errors["nation"] = "Choose exactly one of a nation or an organization."
        if self.withdrawn_on:
            for field, label in (
                ("signed_on", "signed"),
                ("ratified_on", "ratified"),
                ("entered_into_force_on", "entered into force"),
            ):
                own = getattr(self, field)
                if own and self.withdrawn_on <= own:
                    errors["withdrawn_on"] = (
                        f"Must be after the date this party {label} ({own.isoformat()})."
                    )
                    break
        if (
            self.signed_on
            and self.entered_into_force_on
            and self.entered_into_force_on < self.signed_on
        ):
            errors["entered_into_force_on"] = "Cannot be before the date this party signed."
        if errors:
            raise ValidationError(errors)


class Provision(models.Model):
    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="provisions", verbose_name="agreement"
    )
    category = models.CharField("category", max_length=32, choices=ProvisionCategory.choices)
    title = models.CharField("title", max_length=300)
    article = models.CharField("article", max_length=50, blank=True)
    text = models.TextField("text", blank=True)
    classification = models.CharField(
        "classification",
        max_length=16,
        choices=Classification.choices,
        default=Classification.UNCLASSIFIED,
    )
    search_vector = SearchVectorField("search vector", null=True, editable=False)

    objects = ProvisionQuerySet.as_manager()

    class Meta:
        ordering = ["category", "article", "id"]
        indexes = [SearchIndex(fields=["search_vector"], name="provision_search_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(category__in=ProvisionCategory.values), name="provision_category_valid"
            ),
            models.CheckConstraint(
                condition=Q(classification__in=Classification.values),
                name="provision_classification_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.article} {self.title}".strip()

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        _update_search_vector(self, SearchVector("title", "text", weight="C", config=SEARCH_CONFIG))

    def clean(self):
        try:
            agreement = self.agreement
        except ObjectDoesNotExist:
            agreement = None
        if agreement is not None and self.classification in Classification.values:
            agreement_level = agreement.classification
            if Classification.rank(self.classification) < Classification.rank(agreement_level):
                raise ValidationError(
                    {
                        "classification": (
                            "A provision cannot be classified below its agreement "
                            f"({Classification(agreement_level).label})."
                        )
                    }
                )
