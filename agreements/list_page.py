"""The pieces of the browser's lists that are not the filter itself: the short address of
a query, the page size, the checkbox groups, the partner names the party fields suggest,
the removable chips of the filters in use, and the sortable column headings.

The defaults are the agreement list's (its filter is ``AgreementFilterSet``, as for the
API); the engagement list (``engagements/views.py``) passes its own labels and columns.
Nothing here changes what a filter set matches."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import NamedTuple

from django.core.paginator import Paginator
from django.http import QueryDict

from accounts.choices import Classification
from partners.models import Nation, Organization

# The list's filters by parameter, with the label the form and the chips give them, in the
# order the form shows them.
FILTER_LABELS = {
    "q": "Search",
    "party": "All of these parties",
    "party_any": "Any of these parties",
    "organization": "Organization or its members",
    "region": "Region",
    "type": "Type",
    "status": "Status",
    "category": "Provision category",
    "classification": "Classification",
    "signed_after": "Signed on or after",
    "signed_before": "Signed on or before",
    "expires_after": "Expires on or after",
    "expires_before": "Expires on or before",
    "in_force_on": "In force on",
    "expiring_within": "Expiring within (days)",
    "review_due_within": "Review due within (days)",
}
# Parameters that are not filters: a chip never removes them, "Clear all" keeps them.
NOT_FILTERS = ("page", "page_size", "ordering")

# Columns a user can sort by: ordering field and heading.
SORTABLE = {
    "reference": "Reference",
    "title": "Title",
    "type": "Type",
    "status": "Status",
    "signed_on": "Signed",
    "expires_on": "Expires",
    "next_review_on": "Next review",
}
# The order of the list when none is asked for and there are no search words (the model's
# Meta.ordering): shown on its column.
DEFAULT_ORDERING = "-signed_on"


# The query and the page size ------------------------------------------------------------

PAGE_SIZES = (25, 50, 100, 200, 500)
DEFAULT_PAGE_SIZE = 50


def normalised(query: QueryDict) -> QueryDict:
    """The query with repeated keys (ticked checkboxes) joined into the comma lists the
    filter sets and the API take, and empty values dropped."""
    data = QueryDict(mutable=True)
    for key, values in query.lists():
        values = [value.strip() for value in values if value.strip()]
        if values:
            data[key] = ",".join(values)
    if data.get("page_size") == str(DEFAULT_PAGE_SIZE):
        del data["page_size"]
    return data


def page_size(data: QueryDict) -> tuple[int, list[str]]:
    """The page size asked for, or the default with the error messages."""
    raw = data.get("page_size", "")
    if not raw:
        return DEFAULT_PAGE_SIZE, []
    try:
        size = int(raw)
    except ValueError:
        return DEFAULT_PAGE_SIZE, ["Enter a whole number."]
    if not 1 <= size <= PAGE_SIZES[-1]:
        return DEFAULT_PAGE_SIZE, [f"Enter a number from 1 to {PAGE_SIZES[-1]}."]
    return size, []


# Checkbox groups ----------------------------------------------------------------------------


class FilteredPage(NamedTuple):
    """A list page's filter set, its page of rows (none when a filter is wrong), the
    errors by field and the query of its CSV export link (the filters alone)."""

    filterset: object
    page: object
    errors: dict
    export: QueryDict


def filtered_page(request, data: QueryDict, filterset_class, queryset) -> FilteredPage:
    """Filter ``queryset`` with ``filterset_class`` on ``data`` (``normalised``), and
    paginate it at the page size asked for. Unknown parameters are ignored here but named
    on the page; the API refuses them. Shared by the agreement and engagement lists."""
    filterset = filterset_class(
        data=data, queryset=queryset, request=request, known=("page", "page_size")
    )
    size, size_errors = page_size(data)
    errors = dict(filterset.errors) if not filterset.is_valid() else {}
    if size_errors:
        errors["page_size"] = size_errors
    if errors:
        page = Paginator(queryset.none(), size).get_page(1)
    else:
        page = Paginator(filterset.qs, size).get_page(data.get("page"))
    export = data.copy()
    for key in ("page", "page_size", *filterset.ignored):
        export.pop(key, None)
    return FilteredPage(filterset, page, errors, export)


def classification_choices(user) -> list[tuple[str, str]]:
    """The classification levels ``user`` may filter by: those within their clearance."""
    if user.is_superuser:
        return list(Classification.choices)
    allowed = Classification.up_to(user.clearance)
    return [(value, label) for value, label in Classification.choices if value in allowed]


def checkbox_group(data: QueryDict, name: str, options, *, labels=None) -> dict:
    """A group of checkboxes for a comma-list filter, those in the query ticked."""
    chosen = {value.strip().lower() for value in data.get(name, "").split(",")}
    return {
        "name": name,
        "label": (labels or FILTER_LABELS)[name],
        "options": [(value, text, value.lower() in chosen) for value, text in options],
    }


# Partner suggestions ------------------------------------------------------------------------


@dataclass(frozen=True)
class Partner:
    kind: str  # "nation" or "organization"
    pk: int
    code: str
    name: str


def partners() -> list[Partner]:
    """Every nation and organization, by name (two queries)."""
    nations = [
        Partner("nation", pk, iso3, name)
        for pk, iso3, name in Nation.objects.order_by("name").values_list("pk", "iso3", "name")
    ]
    organizations = [
        Partner("organization", pk, acronym, name)
        for pk, acronym, name in Organization.objects.order_by("name").values_list(
            "pk", "acronym", "name"
        )
    ]
    return sorted(nations + organizations, key=lambda p: (p.name.casefold(), p.code))


def suggestions(rows: list[Partner]) -> list[tuple[str, str]]:
    """``(value, label)`` options of a datalist: the name where no other partner bears it
    (the filter takes exact names), the code where one does; the label is the code, or the
    name beside the code."""
    counts = Counter(p.name.casefold() for p in rows)
    return [
        (p.name, p.code) if counts[p.name.casefold()] == 1 else (p.code, f"{p.name} ({p.code})")
        for p in rows
    ]


# Chips --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chip:
    label: str  # the filter's label
    value: str  # what it is set to, as a reader would name it
    url: str  # the same list without this value


def _url(path: str, data: QueryDict) -> str:
    return f"{path}?{data.urlencode()}" if data else path


def _without(path: str, data: QueryDict, name: str, remaining: list[str]) -> str:
    query = data.copy()
    query.pop("page", None)
    if remaining:
        query[name] = ",".join(remaining)
    else:
        query.pop(name, None)
    return _url(path, query)


def chips(
    path: str,
    data: QueryDict,
    cleaned: dict,
    choices: dict,
    rows: list[Partner],
    *,
    labels: dict[str, str] | None = None,
    partner_filters: tuple[str, ...] = ("party", "party_any"),
    references: dict[str, dict[int, str]] | None = None,
):
    """The filters in use, one chip for each value of a comma list.

    ``cleaned``: the filter set's cleaned data (a filter that is in error is not in it, and
    gets one chip for its whole value, so that it can be removed); ``choices``: the labels
    of the values of each choice filter, by parameter; ``labels``: the list's filters by
    parameter (the agreement list's by default); ``partner_filters``: those that take
    partners by code; ``references``: for filters that name records by id, each id's code
    (an agreement's reference), which is what the chip shows and what remains is given by."""
    by_kind = {(p.kind, p.pk): p for p in rows}
    references = references or {}
    found = []
    for name, label in (labels or FILTER_LABELS).items():
        raw = data.get(name, "")
        if not raw:
            continue
        value = cleaned.get(name)
        if name in partner_filters and value:
            # (kind, pk, code) triples; what remains is given by code.
            codes = [code for _kind, _pk, code in value]
            for index, (kind, pk, code) in enumerate(value):
                partner = by_kind.get((kind, pk))
                text = f"{partner.name} ({code})" if partner else code
                rest = codes[:index] + codes[index + 1 :]
                found.append(Chip(label, text, _without(path, data, name, rest)))
        elif name == "organization" and value:
            chosen = [by_kind[("organization", pk)] for pk in value]
            codes = [partner.code for partner in chosen]
            for index, partner in enumerate(chosen):
                rest = codes[:index] + codes[index + 1 :]
                text = f"{partner.name} ({partner.code})"
                found.append(Chip(label, text, _without(path, data, name, rest)))
        elif name in references and value:
            codes = [references[name].get(pk, str(pk)) for pk in value]
            for index, code in enumerate(codes):
                rest = codes[:index] + codes[index + 1 :]
                found.append(Chip(label, code, _without(path, data, name, rest)))
        elif isinstance(value, list) and value:
            labels_of = choices.get(name, {})
            values = [str(v) for v in value]
            for index, item in enumerate(values):
                rest = values[:index] + values[index + 1 :]
                text = labels_of.get(item, item)
                found.append(Chip(label, text, _without(path, data, name, rest)))
        else:
            found.append(Chip(label, raw, _without(path, data, name, [])))
    return found


def clear_all_url(path: str, data: QueryDict) -> str:
    """The list with no filter, in the same order and page size."""
    query = QueryDict(mutable=True)
    for name in ("ordering", "page_size"):
        if data.get(name):
            query[name] = data[name]
    return _url(path, query)


# Sortable headings --------------------------------------------------------------------------


def columns(
    ordering: str,
    *,
    searching: bool,
    sortable: dict[str, str] | None = None,
    default: str = DEFAULT_ORDERING,
) -> dict[str, dict]:
    """Each sortable column by field: its heading, its ``aria-sort`` value ("ascending",
    "descending" or empty) and the ordering its link asks for (the other direction when it
    is the current one, ascending otherwise). ``searching``: search words rank the rows
    instead of the ``default`` order (the agreement list's)."""
    current = ordering or ("" if searching else default)
    result = {}
    for field, label in (sortable or SORTABLE).items():
        sort = "ascending" if current == field else "descending" if current == f"-{field}" else ""
        result[field] = {
            "field": field,
            "label": label,
            "sort": sort,
            "next": f"-{field}" if sort == "ascending" else field,
            "next_label": "descending" if sort == "ascending" else "ascending",
        }
    return result
