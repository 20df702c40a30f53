"""A party to an agreement: a nation or an organization, with its own dates."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from config.constraints import PythonChecks
from partners.models import (
    NationOrOrganization,
    each_partner_once,
    nation_or_organization_constraint,
    nation_or_organization_fields,
)

from ..choices import PartyActKind, PartyStatus
from .agreements import (
    DATE_VALIDATORS,
    Agreement,
)


class AgreementParty(NationOrOrganization, PythonChecks, models.Model):
    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="parties", verbose_name="agreement"
    )
    nation, organization = nation_or_organization_fields("agreement_parties")
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
            nation_or_organization_constraint("party"),
            *each_partner_once("party", "agreement"),
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

    def clean(self):
        errors = self.partner_errors()
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


class PartyAct(PythonChecks, models.Model):
    """One dated act in a party's relation to an agreement, as a depositary records it."""

    party = models.ForeignKey(
        AgreementParty, on_delete=models.CASCADE, related_name="acts", verbose_name="party"
    )
    kind = models.CharField("kind", max_length=32, choices=PartyActKind.choices)
    date = models.DateField("date", validators=DATE_VALIDATORS)
    effective_on = models.DateField(
        "takes effect on",
        null=True,
        blank=True,
        validators=DATE_VALIDATORS,
        help_text="When it takes effect, if not on its date (a withdrawal a year after notice).",
    )
    note = models.TextField("note", blank=True)
    source_url = models.URLField("source URL", max_length=500, blank=True)

    class Meta:
        ordering = ["date", "id"]
        verbose_name = "party act"
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=PartyActKind.values), name="party_act_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(effective_on__isnull=True) | Q(effective_on__gte=F("date")),
                name="party_act_takes_effect_after_date",
            ),
            models.UniqueConstraint(fields=["party", "kind", "date"], name="party_act_once_a_day"),
        ]

    def __str__(self) -> str:
        return f"{self.party}: {self.get_kind_display()} on {self.date}"

    def clean(self):
        if self.effective_on and self.date and self.effective_on < self.date:
            raise ValidationError({"effective_on": "Cannot be before the date of the act."})


class PartyPeriodQuerySet(models.QuerySet):
    def covering(self, day):
        """The periods that hold on ``day`` (``party_acts.status_on`` in SQL)."""
        return self.filter(Q(ends_on__isnull=True) | Q(ends_on__gt=day), starts_on__lte=day)

    def bound_on(self, day):
        """Periods in which their party was bound on ``day``."""
        return self.covering(day).filter(status=PartyStatus.BOUND)


class PartyPeriod(PythonChecks, models.Model):
    """Derived from the acts (``agreements.party_acts``), never written by hand: a party's
    status from ``starts_on`` until the day before ``ends_on`` (empty: still so)."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="party_periods")
    party = models.ForeignKey(AgreementParty, on_delete=models.CASCADE, related_name="periods")
    status = models.CharField("status", max_length=16, choices=PartyStatus.choices)
    starts_on = models.DateField("from")
    ends_on = models.DateField("until (exclusive)", null=True, blank=True)

    objects = PartyPeriodQuerySet.as_manager()

    class Meta:
        ordering = ["party", "starts_on"]
        indexes = [models.Index(fields=["party", "status", "starts_on"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gt=F("starts_on")),
                name="party_period_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.party}: {self.status} from {self.starts_on}"
