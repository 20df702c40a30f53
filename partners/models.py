from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse

from config.constraints import PythonChecks

from .choices import ContactRole, OrganizationKind


class Nation(PythonChecks, models.Model):
    iso3 = models.CharField("ISO 3166 alpha-3", max_length=3, unique=True)
    iso2 = models.CharField("ISO 3166 alpha-2", max_length=2, blank=True)
    name = models.CharField("name", max_length=200)
    official_name = models.CharField("official name", max_length=300, blank=True)
    region = models.CharField("region (UN M49)", max_length=100, blank=True, db_index=True)
    subregion = models.CharField("sub-region (UN M49)", max_length=100, blank=True)
    is_historical = models.BooleanField(
        "former state", default=False, help_text="A former state of ISO 3166-3."
    )
    # The days the state existed, both included: ``valid_to`` is the day it ceased to exist
    # (acts of that day are still its own). Empty: since ever, or still exists.
    valid_from = models.DateField(
        "existed from",
        null=True,
        blank=True,
        help_text="The day the state came into being; empty for most current states.",
    )
    valid_to = models.DateField(
        "ceased to exist on",
        null=True,
        blank=True,
        help_text="The day the state ceased to exist (its last day); empty while it exists.",
    )
    successors = models.ManyToManyField(
        "self",
        symmetrical=False,
        related_name="predecessors",
        blank=True,
        verbose_name="successor states",
        help_text="The states that took its place (their predecessors list it back).",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(iso3__regex=r"^[A-Z]{3}$"), name="nation_iso3_upper_case"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gte=F("valid_from")),
                name="nation_existence_dates_in_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("partners:nation", args=[self.iso3])

    def clean(self):
        if self.iso3:
            self.iso3 = self.iso3.upper()
        if self.iso2:
            self.iso2 = self.iso2.upper()
        errors = {}
        if self.iso3 and (len(self.iso3) != 3 or not self.iso3.isalpha()):
            errors["iso3"] = "An ISO alpha-3 code is three letters."
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            errors["valid_to"] = "Must be on or after the day the state came into being."
        if errors:
            raise ValidationError(errors)

    @property
    def code(self) -> str:
        return self.iso3

    def existed_on(self, day: datetime.date) -> bool:
        """Whether the state existed on ``day``: from ``valid_from`` (empty: since ever)
        through ``valid_to`` (empty: it still exists), both days included."""
        if self.valid_from is not None and day < self.valid_from:
            return False
        return self.valid_to is None or day <= self.valid_to


class Organization(PythonChecks, models.Model):
    acronym = models.CharField("acronym", max_length=20, unique=True)
    name = models.CharField("name", max_length=200)
    kind = models.CharField("kind", max_length=32, choices=OrganizationKind.choices)
    members = models.ManyToManyField(
        Nation, through="Membership", related_name="organizations", blank=True
    )

    class Meta:
        ordering = ["acronym"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=OrganizationKind.values), name="organization_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.acronym

    def get_absolute_url(self) -> str:
        return reverse("partners:organization", args=[self.acronym])

    @property
    def code(self) -> str:
        return self.acronym


class Membership(PythonChecks, models.Model):
    nation = models.ForeignKey(
        Nation, on_delete=models.PROTECT, related_name="memberships", verbose_name="nation"
    )
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name="organization",
    )
    joined_on = models.DateField("joined on", null=True, blank=True)
    left_on = models.DateField("left on", null=True, blank=True)

    class Meta:
        ordering = ["organization", "nation__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "nation", "joined_on"], name="membership_unique"
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True)
                | Q(joined_on__isnull=True)
                | Q(left_on__gt=F("joined_on")),
                name="membership_left_after_joined",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.nation} in {self.organization}"

    def clean(self):
        if self.joined_on and self.left_on and self.left_on <= self.joined_on:
            raise ValidationError({"left_on": "Must be after the date the member joined."})


class PointOfContact(PythonChecks, models.Model):
    name = models.CharField("name", max_length=200)
    rank = models.CharField("rank", max_length=100, blank=True)
    role = models.CharField("role", max_length=32, choices=ContactRole.choices)
    represents = models.ForeignKey(
        Nation,
        on_delete=models.PROTECT,
        related_name="contacts_representing",
        verbose_name="represents",
    )
    # A summary of the postings, kept by ``partners.services`` (never set by hand): the
    # nation of the contact's latest posting (by its first day), empty when that posting is
    # to an organization or there is none.
    posted_to = models.ForeignKey(
        Nation,
        on_delete=models.PROTECT,
        related_name="contacts_posted",
        verbose_name="posted to",
        null=True,
        blank=True,
        editable=False,
        help_text="The nation of the latest posting (derived from the postings).",
    )
    email = models.EmailField("email", blank=True)
    phone = models.CharField("phone", max_length=50, blank=True)
    # The contact's whole service span, both days included; its postings lie within it.
    active_from = models.DateField(
        "active from", null=True, blank=True, help_text="First day of service as a contact."
    )
    active_to = models.DateField(
        "active to", null=True, blank=True, help_text="Last day of service; empty while serving."
    )

    class Meta:
        ordering = ["represents__name", "name"]
        verbose_name = "point of contact"
        verbose_name_plural = "points of contact"
        constraints = [
            models.CheckConstraint(
                condition=Q(active_to__isnull=True)
                | Q(active_from__isnull=True)
                | Q(active_to__gte=F("active_from")),
                name="contact_active_dates_in_order",
            ),
            models.CheckConstraint(
                condition=Q(role__in=ContactRole.values), name="contact_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rank} {self.name}".strip()

    def clean(self):
        if self.active_from and self.active_to and self.active_to < self.active_from:
            raise ValidationError({"active_to": "Must be on or after the active-from date."})


# A nation or an organization: one of each row ------------------------------------------------


def nation_or_organization_fields(related_name: str) -> tuple[models.ForeignKey, ...]:
    """The ``nation`` and ``organization`` of a row naming one of them (a party, a
    participant, a posting), to unpack in its class body (so that they keep their place
    among its fields); ``nation_or_organization_constraint`` says it names exactly one."""
    return (
        models.ForeignKey(
            Nation,
            on_delete=models.PROTECT,
            null=True,
            blank=True,
            related_name=related_name,
            verbose_name="nation",
        ),
        models.ForeignKey(
            Organization,
            on_delete=models.PROTECT,
            null=True,
            blank=True,
            related_name=related_name,
            verbose_name="organization",
        ),
    )


def nation_or_organization_constraint(prefix: str) -> models.CheckConstraint:
    """Exactly one of ``nation`` and ``organization`` (``<prefix>_nation_xor_organization``)."""
    return models.CheckConstraint(
        condition=Q(nation__isnull=False, organization__isnull=True)
        | Q(nation__isnull=True, organization__isnull=False),
        name=f"{prefix}_nation_xor_organization",
    )


def each_partner_once(prefix: str, parent: str) -> list[models.UniqueConstraint]:
    """A nation, or an organization, at most once per ``parent`` (``<prefix>_nation_once``,
    ``<prefix>_organization_once``)."""
    return [
        models.UniqueConstraint(
            fields=[parent, name],
            condition=Q(**{f"{name}__isnull": False}),
            name=f"{prefix}_{name}_once",
        )
        for name in ("nation", "organization")
    ]


class NationOrOrganization:
    """Mixed into a model with the fields of ``nation_or_organization_fields``."""

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

    def partner_errors(self) -> dict[str, str]:
        """The error of naming no partner, or both (keyed by ``nation``)."""
        if bool(self.nation_id) == bool(self.organization_id):
            return {"nation": "Choose exactly one of a nation or an organization."}
        return {}


def _successor_condition(nation, organization, role, active_from, active_to, pk) -> Q:
    """The postings that succeed a posting with these values (concrete values, or
    ``OuterRef``s in a subquery): see ``Posting``."""
    if isinstance(nation, OuterRef):  # SQL: a NULL on either side matches nothing
        place = Q(nation=nation) | Q(organization=organization)
    else:
        place = Q(nation=nation) if nation is not None else Q(organization=organization)
    # One that is over by the time this one ends succeeds nobody (an open-ended posting
    # has no end to outlast: SQL's NULL, or no condition).
    outlasting = Q(active_to__isnull=True)
    if active_to is not None:
        outlasting |= Q(active_to__gt=active_to)
    return place & outlasting & Q(contact__role=role, active_from__gt=active_from) & ~Q(pk=pk)


class PostingQuerySet(models.QuerySet):
    def active_on(self, day: datetime.date):
        """Postings active on ``day``: begun on or before it, not ended before it."""
        return self.filter(active_from__lte=day).filter(
            Q(active_to__isnull=True) | Q(active_to__gte=day)
        )

    def succeeding(self, posting: Posting):
        """The postings that succeed ``posting`` (see ``Posting``)."""
        return self.filter(
            _successor_condition(
                posting.nation_id,
                posting.organization_id,
                posting.contact.role,
                posting.active_from,
                posting.active_to,
                posting.pk,
            )
        )

    def without_successor(self):
        """Postings no successor is recorded for (one subquery)."""
        successors = Posting.objects.filter(
            _successor_condition(
                OuterRef("nation"),
                OuterRef("organization"),
                OuterRef("contact__role"),
                OuterRef("active_from"),
                OuterRef("active_to"),
                OuterRef("pk"),
            )
        )
        return self.exclude(Exists(successors))


class Posting(NationOrOrganization, PythonChecks, models.Model):
    """One posting of a point of contact: to a nation (an attaché at an embassy, one of the
    several nations an attaché is accredited to) or to an organization (a defense attaché to
    NATO), from ``active_from`` to ``active_to`` (both days included; empty: open-ended).

    Its successor is a later posting to the same nation or organization by a contact in the
    same role: any posting there that begins after this one begins and is not over by the day
    this one ends, whoever holds it (the same contact again, for an extension). A posting
    ending soon without one is reminded of (``agreements.posting_reminders``)."""

    contact = models.ForeignKey(
        PointOfContact,
        on_delete=models.CASCADE,
        related_name="postings",
        verbose_name="point of contact",
    )
    nation, organization = nation_or_organization_fields("postings")
    title = models.CharField(
        "title",
        max_length=200,
        blank=True,
        help_text='The post as it is called, e.g. "Defense attaché, also accredited to Palau".',
    )
    active_from = models.DateField("active from", help_text="The first day of the posting.")
    active_to = models.DateField(
        "active to", null=True, blank=True, help_text="The last day; empty: open-ended."
    )

    objects = PostingQuerySet.as_manager()

    class Meta:
        ordering = ["-active_from", "id"]
        verbose_name = "posting"
        verbose_name_plural = "postings"
        constraints = [
            nation_or_organization_constraint("posting"),
            models.CheckConstraint(
                condition=Q(active_to__isnull=True) | Q(active_to__gte=F("active_from")),
                name="posting_dates_in_order",
            ),
            models.UniqueConstraint(
                fields=["contact", "nation", "active_from"],
                condition=Q(nation__isnull=False),
                name="posting_nation_once_a_day",
            ),
            models.UniqueConstraint(
                fields=["contact", "organization", "active_from"],
                condition=Q(organization__isnull=False),
                name="posting_organization_once_a_day",
            ),
        ]
        indexes = [models.Index(fields=["active_to"], name="posting_active_to")]

    def __str__(self) -> str:
        return f"{self.contact} at {self.partner or '?'} from {self.active_from}"

    def active_on(self, day: datetime.date) -> bool:
        return self.active_from <= day and (self.active_to is None or day <= self.active_to)

    def has_successor(self) -> bool:
        return Posting.objects.succeeding(self).exists()

    def clean(self):
        errors = self.partner_errors()
        if self.active_from and self.active_to and self.active_to < self.active_from:
            errors["active_to"] = "Must be on or after the active-from date."
        if errors:
            raise ValidationError(errors)


def postings_in_order(postings, today: datetime.date) -> list[Posting]:
    """``postings`` as every surface lists them: the ones active on ``today`` first, then the
    future ones, then the past ones, each group by ``active_from``, latest first."""

    def group(posting: Posting) -> int:
        if posting.active_on(today):
            return 0
        return 1 if posting.active_from > today else 2

    rows = sorted(postings, key=lambda p: (-p.active_from.toordinal(), p.pk or 0))
    return sorted(rows, key=group)
