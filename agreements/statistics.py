"""Counting agreements: the one place the dashboard and the API's ``stats/`` get their counts.

``agreement_counts`` takes any queryset of agreements (already limited to what the reader
may see and to the filters asked for) and counts it by year signed, type, status, provision
category (agreements with at least one provision of it that the reader may see) and partner.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, QuerySet
from django.db.models.functions import ExtractYear

from .choices import AgreementStatus, AgreementType, ProvisionCategory
from .models import Agreement, AgreementParty, Provision


@dataclass(frozen=True)
class Tally:
    key: str | None
    label: str
    count: int


@dataclass(frozen=True)
class AgreementCounts:
    total: int
    by_year_signed: list[Tally]
    by_type: list[Tally]
    by_status: list[Tally]
    by_provision_category: list[Tally]
    by_partner: list[Tally]

    def as_dict(self) -> dict:
        lists = ("by_year_signed", "by_type", "by_status", "by_provision_category", "by_partner")
        return {
            "total": self.total,
            **{name: [vars(c) for c in getattr(self, name)] for name in lists},
        }


def _label(choices, value) -> str:
    try:
        return choices(value).label
    except ValueError:
        return str(value)


def agreement_counts(agreements: QuerySet[Agreement], *, user) -> AgreementCounts:
    """Counts of ``agreements`` (six grouped queries whatever their number)."""
    ids = agreements.order_by().values("pk")
    rows = Agreement.objects.filter(pk__in=ids).order_by()
    by_year = rows.annotate(year=ExtractYear("signed_on")).values("year").annotate(n=Count("pk"))
    by_type = rows.values("type").annotate(n=Count("pk"))
    by_status = rows.values("status").annotate(n=Count("pk"))
    by_category = (
        Provision.objects.visible_to(user)
        .filter(agreement__in=ids)
        .order_by()
        .values("category")
        .annotate(n=Count("agreement", distinct=True))
    )
    by_partner = (
        AgreementParty.objects.filter(agreement__in=ids)
        .order_by()
        .values("nation__iso3", "nation__name", "organization__acronym", "organization__name")
        .annotate(n=Count("agreement", distinct=True))
    )

    def most_first(counts):
        return sorted(counts, key=lambda c: (-c.count, c.key or ""))

    return AgreementCounts(
        total=rows.count(),
        by_year_signed=sorted(
            (
                Tally(
                    None if r["year"] is None else str(r["year"]),
                    "unsigned" if r["year"] is None else str(r["year"]),
                    r["n"],
                )
                for r in by_year
            ),
            key=lambda c: (c.key is None, c.key or ""),
        ),
        by_type=most_first(
            Tally(r["type"], _label(AgreementType, r["type"]), r["n"]) for r in by_type
        ),
        by_status=most_first(
            Tally(r["status"], _label(AgreementStatus, r["status"]), r["n"]) for r in by_status
        ),
        by_provision_category=most_first(
            Tally(r["category"], _label(ProvisionCategory, r["category"]), r["n"])
            for r in by_category
        ),
        by_partner=most_first(
            Tally(
                r["nation__iso3"] or r["organization__acronym"],
                r["nation__name"] or r["organization__name"],
                r["n"],
            )
            for r in by_partner
        ),
    )
