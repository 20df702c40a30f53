"""Counting engagements: what ``engagements/stats/`` answers, over the engagements that match
the list's filters (``EngagementFilterSet``) among those the reader may see.

``engagement_counts`` counts them by the year they start, kind, status and partner;
``grouped_counts`` by one or two of ``GROUPINGS`` together
(``engagements/stats/?group_by=partner,year&starts_after=2015-01-01``: engagements per
partner per year since 2015). An engagement counts once in every group it belongs to:

- ``year``: the year it starts;
- ``kind``, ``status``, ``domain``: its own (``domain`` none when not recorded);
- ``partner``: each participant (nation or organization, by code), in any role.

So the counts by partner add up to more than the total when engagements have several
participants. "None" is a group of its own, the value ``null``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F, FilteredRelation, IntegerField, QuerySet, Value
from django.db.models.functions import Cast, Coalesce, ExtractYear, NullIf

from .choices import Domain, EngagementKind, EngagementStatus
from .models import Engagement, Participation

GROUPINGS = ("year", "kind", "status", "domain", "partner")
MAX_GROUPINGS = 2
LABELLED = {"kind": EngagementKind, "status": EngagementStatus, "domain": Domain}


def _label(choices, value) -> str | None:
    if value is None:
        return None
    try:
        return choices(value).label
    except ValueError:
        return str(value)


def _matching(engagements: QuerySet[Engagement]) -> QuerySet[Engagement]:
    return Engagement.objects.filter(pk__in=engagements.order_by().values("pk")).order_by()


def engagement_counts(engagements: QuerySet[Engagement]) -> dict:
    """Counts of ``engagements`` by year, kind, status and partner (five queries)."""
    rows = _matching(engagements)
    by_year = rows.annotate(year=ExtractYear("starts_on")).values("year").annotate(n=Count("pk"))
    by_kind = rows.values("kind").annotate(n=Count("pk"))
    by_status = rows.values("status").annotate(n=Count("pk"))
    by_partner = (
        Participation.objects.filter(engagement__in=rows.values("pk"))
        .order_by()
        .values("nation__iso3", "nation__name", "organization__acronym", "organization__name")
        .annotate(n=Count("engagement", distinct=True))
    )

    def tally(key, label, count):
        return {"key": key, "label": label, "count": count}

    def most_first(counts):
        return sorted(counts, key=lambda c: (-c["count"], c["key"] or ""))

    return {
        "total": rows.count(),
        "by_year": sorted(
            (tally(str(r["year"]), str(r["year"]), r["n"]) for r in by_year),
            key=lambda c: c["key"],
        ),
        "by_kind": most_first(
            tally(r["kind"], _label(EngagementKind, r["kind"]), r["n"]) for r in by_kind
        ),
        "by_status": most_first(
            tally(r["status"], _label(EngagementStatus, r["status"]), r["n"]) for r in by_status
        ),
        "by_partner": most_first(
            tally(
                r["nation__iso3"] or r["organization__acronym"],
                r["nation__name"] or r["organization__name"],
                r["n"],
            )
            for r in by_partner
        ),
    }


def _grouping(rows: QuerySet, name: str) -> tuple[QuerySet, dict]:
    if name == "year":
        return rows, {"year": Cast(ExtractYear("starts_on"), IntegerField())}
    if name in ("kind", "status"):
        return rows, {name: F(name)}
    if name == "domain":
        return rows, {"domain": NullIf("domain", Value(""))}
    if name == "partner":
        rows = rows.annotate(stat_partner=FilteredRelation("participants"))
        return rows, {
            "partner": Coalesce(
                "stat_partner__nation__iso3", "stat_partner__organization__acronym"
            ),
            "partner_label": Coalesce(
                "stat_partner__nation__name", "stat_partner__organization__name"
            ),
        }
    raise ValueError(f"unknown grouping {name!r}")


def _columns(group_by) -> list[str]:
    columns = []
    for name in group_by:
        columns.append(name)
        if name in LABELLED or name == "partner":
            columns.append(f"{name}_label")
    return [*columns, "count"]


@dataclass(frozen=True)
class GroupedCounts:
    group_by: tuple[str, ...]
    total: int
    rows: list[dict]

    def as_dict(self) -> dict:
        return {"group_by": list(self.group_by), "total": self.total, "results": self.rows}


def grouped_counts(engagements: QuerySet[Engagement], *, group_by) -> GroupedCounts:
    """Counts of ``engagements`` by one or two groupings together (two queries whatever
    their number). Rows are ordered by their values, ``null`` last."""
    if not 1 <= len(group_by) <= MAX_GROUPINGS or set(group_by) - set(GROUPINGS):
        raise ValueError(f"group_by must be one or two of {GROUPINGS}")
    base = _matching(engagements)
    rows, expressions = base, {}
    for name in group_by:
        rows, more = _grouping(rows, name)
        expressions.update(more)
    aliased = {f"g_{name}": expression for name, expression in expressions.items()}
    results = []
    for group in rows.values(**aliased).annotate(g_count=Count("pk", distinct=True)):
        row = {}
        for name in expressions:
            value = group[f"g_{name}"]
            if name == "year" and value is not None:
                value = int(value)
            row[name] = value
            if name in LABELLED:
                row[f"{name}_label"] = _label(LABELLED[name], value)
        row["count"] = group["g_count"]
        results.append(row)
    results.sort(key=lambda row: tuple((row[n] is None, row[n]) for n in group_by))
    columns = _columns(group_by)
    return GroupedCounts(
        tuple(group_by), base.count(), [{c: row[c] for c in columns} for row in results]
    )
