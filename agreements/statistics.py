"""Counting agreements: the one place the dashboard and the API's ``stats/`` get their counts.

``agreement_counts`` takes any queryset of agreements (already limited to what the reader
may see and to the filters asked for) and counts it by year signed, type, status, provision
category (agreements with at least one provision of it that the reader may see) and partner.

``grouped_counts`` counts the same agreements by one or two of ``GROUPINGS`` together
(``stats/?group_by=decade,type``). An agreement counts once in every group it belongs to:

- ``year``, ``decade``: of its signature (``decade`` 1990 is 1990 to 1999); none when unsigned;
- ``type``, ``status``: its own;
- ``category``: each category of the provisions of it that the reader may see; none when the
  reader sees no provision of it;
- ``partner``: each of its parties (nation or organization, by code), withdrawn ones included;
- ``region``: each UN M49 region of its party nations (once per region, however many of its
  parties are in it); none when no party nation has a region;
- ``organization``: each organization that is itself a party (membership does not count
  here, unlike the ``organization`` filter); none when no organization is a party.

So an agreement with three partners counts once for each of them, and the counts of a
grouping add up to the total only for the groupings of one value per agreement (year,
decade, type, status). With two groupings, an agreement counts once in each combination of
its values: one signed in 2014 with training and logistics provisions counts in (2014,
training) and (2014, logistics). "None" is a group of its own, the value ``null``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F, FilteredRelation, IntegerField, Q, QuerySet, Value
from django.db.models.functions import Cast, Coalesce, ExtractYear, NullIf

from accounts.clearance import levels_for

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
        return {
            "total": self.total,
            **{name: [vars(c) for c in getattr(self, name)] for name in self.LISTS.values()},
        }

    # The lists by the name of the grouping that counts the same (``grouped_counts``).
    LISTS = {
        "year": "by_year_signed",
        "type": "by_type",
        "status": "by_status",
        "category": "by_provision_category",
        "partner": "by_partner",
    }
    columns = ("grouping", "key", "label", "count")

    def csv_rows(self) -> list[list]:
        """One row per count, ``total`` first: ``grouping, key, label, count``."""
        rows = [["total", None, None, self.total]]
        for grouping, name in self.LISTS.items():
            rows += [[grouping, c.key, c.label, c.count] for c in getattr(self, name)]
        return rows


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


# Grouped counts ----------------------------------------------------------------------------

GROUPINGS = ("year", "decade", "type", "status", "category", "partner", "region", "organization")
MAX_GROUPINGS = 2
LABELLED = {"type": AgreementType, "status": AgreementStatus, "category": ProvisionCategory}


def _year():
    return Cast(ExtractYear("signed_on"), IntegerField())


def _grouping(rows: QuerySet, name: str, user) -> tuple[QuerySet, dict]:
    """``rows`` with what grouping ``name`` needs joined, and its value (and label)
    expressions by output name. Each grouping joins its own copy of a relation, so that two
    groupings over the parties (partner and region) combine every value with every other."""
    if name == "year":
        return rows, {"year": _year()}
    if name == "decade":
        return rows, {"decade": _year() / Value(10) * Value(10)}
    if name in ("type", "status"):
        return rows, {name: F(name)}
    if name == "category":
        levels = levels_for(user)
        seen = Q() if levels is None else Q(provisions__classification__in=levels)
        rows = rows.annotate(stat_provision=FilteredRelation("provisions", condition=seen))
        return rows, {"category": F("stat_provision__category")}
    if name == "partner":
        rows = rows.annotate(stat_partner=FilteredRelation("parties"))
        return rows, {
            "partner": Coalesce(
                "stat_partner__nation__iso3", "stat_partner__organization__acronym"
            ),
            "partner_label": Coalesce(
                "stat_partner__nation__name", "stat_partner__organization__name"
            ),
        }
    # A party is a nation or an organization, never both (a check constraint). The conditions
    # test the other one: Django joins the relation a condition names in the wrong order when
    # the values go through it as well.
    if name == "region":
        rows = rows.annotate(
            stat_nation=FilteredRelation("parties", condition=Q(parties__organization__isnull=True))
        )
        return rows, {"region": NullIf("stat_nation__nation__region", Value(""))}
    if name == "organization":
        rows = rows.annotate(
            stat_organization=FilteredRelation("parties", condition=Q(parties__nation__isnull=True))
        )
        return rows, {
            "organization": F("stat_organization__organization__acronym"),
            "organization_label": F("stat_organization__organization__name"),
        }
    raise ValueError(f"unknown grouping {name!r}")


def _columns(group_by) -> list[str]:
    """A grouping's value, and its label for the coded ones, then the count."""
    columns = []
    for name in group_by:
        columns.append(name)
        if name in LABELLED or name in ("partner", "organization"):
            columns.append(f"{name}_label")
    return [*columns, "count"]


@dataclass(frozen=True)
class GroupedCounts:
    group_by: tuple[str, ...]
    total: int
    rows: list[dict]  # {grouping: value, grouping_label: label (coded groupings), count: n}

    @property
    def columns(self) -> list[str]:
        return _columns(self.group_by)

    def as_dict(self) -> dict:
        return {"group_by": list(self.group_by), "total": self.total, "results": self.rows}

    def csv_rows(self) -> list[list]:
        return [[row[column] for column in self.columns] for row in self.rows]


def grouped_counts(
    agreements: QuerySet[Agreement], *, user, group_by: list[str] | tuple[str, ...]
) -> GroupedCounts:
    """Counts of ``agreements`` by one or two groupings together (two queries whatever their
    number: the groups and the total). Rows are ordered by their values, ``null`` last."""
    if not 1 <= len(group_by) <= MAX_GROUPINGS or set(group_by) - set(GROUPINGS):
        raise ValueError(f"group_by must be one or two of {GROUPINGS}")
    ids = agreements.order_by().values("pk")
    base = Agreement.objects.filter(pk__in=ids).order_by()
    rows, expressions = base, {}
    for name in group_by:
        rows, more = _grouping(rows, name, user)
        expressions.update(more)
    # Aliases of their own: "type" and "status" are also the model's field names.
    aliased = {f"g_{name}": expression for name, expression in expressions.items()}
    groups = rows.values(**aliased).annotate(g_count=Count("pk", distinct=True))
    results = []
    for group in groups:
        row = {}
        for name in expressions:
            value = group[f"g_{name}"]
            if name in ("year", "decade") and value is not None:
                value = int(value)
            row[name] = value
            if name in LABELLED:
                row[f"{name}_label"] = None if value is None else _label(LABELLED[name], value)
        row["count"] = group["g_count"]
        results.append(row)
    results.sort(key=lambda row: tuple((row[n] is None, row[n]) for n in group_by))
    columns = _columns(group_by)
    return GroupedCounts(
        tuple(group_by),
        base.count(),
        [{column: row[column] for column in columns} for row in results],
    )
