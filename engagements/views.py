"""Browser pages of engagements: the list (the API's filters, ``EngagementFilterSet``), the
month calendar and the engagement page.

Every read goes through ``engagements_for(user)`` (the clearance rule, and each linked
agreement and provision through its own): an engagement above the reader's clearance is a
404, a link above it is left out."""

from __future__ import annotations

from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.decorators import engagement_page
from agreements import list_page
from agreements.choices import ProvisionCategory
from agreements.models import Agreement
from history.models import ChangeRecord

from . import month as month_calendar
from .choices import Domain, EngagementKind, EngagementStatus
from .filtersets import EngagementFilterSet
from .selectors import engagements_for

# The list's filters by parameter, with the label the form and the chips give them, in the
# order the form shows them.
FILTER_LABELS = {
    "q": "Search",
    "partner": "All of these partners",
    "organization": "Organization or its members",
    "agreement": "Under any of these agreements",
    "kind": "Kind",
    "status": "Status",
    "domain": "Domain",
    "provision_category": "Provision category",
    "classification": "Classification",
    "starts_after": "Starts on or after",
    "starts_before": "Starts on or before",
    "ends_after": "Ends on or after",
    "ends_before": "Ends on or before",
    "after_action_overdue": "After-action report overdue",
}
SORTABLE = {
    "title": "Title",
    "kind": "Kind",
    "status": "Status",
    "starts_on": "Starts",
    "ends_on": "Ends",
}
# The model's Meta.ordering, shown on its column (search words do not rank engagements).
DEFAULT_ORDERING = "-starts_on"


@require_GET
@engagement_page
def engagement_list(request):
    user = request.user
    data = list_page.normalised(request.GET)
    if data.urlencode() != request.GET.urlencode():
        # The short, shareable address (comma lists, no empty parameters), as for agreements.
        return redirect(f"{request.path}?{data.urlencode()}" if data else request.path)
    filterset, page, errors, export = list_page.filtered_page(
        request, data, EngagementFilterSet, engagements_for(user)
    )
    options = {
        "kind": EngagementKind.choices,
        "status": EngagementStatus.choices,
        "domain": Domain.choices,
        "provision_category": ProvisionCategory.choices,
        "classification": list_page.classification_choices(user),
    }
    partners = list_page.partners()
    cleaned = filterset.form.cleaned_data
    references = {}
    if cleaned.get("agreement"):
        references["agreement"] = dict(
            Agreement.objects.visible_to(user)
            .filter(pk__in=cleaned["agreement"])
            .values_list("pk", "reference")
        )
    applied = data.copy()
    for key in filterset.ignored:  # named on the page, but no filter: no chip
        applied.pop(key, None)
    chips = list_page.chips(
        request.path,
        applied,
        cleaned,
        {name: dict(choices) for name, choices in options.items()},
        partners,
        labels=FILTER_LABELS,
        partner_filters=("partner",),
        references=references,
    )
    export_url = ""
    if user.has_perm("engagements.export_engagement"):
        export_url = reverse("api:engagement-export")
        if export:
            export_url += f"?{export.urlencode()}"
    return render(
        request,
        "engagements/list.html",
        {
            "page": page,
            "engagements": page.object_list,
            "errors": errors,
            "ignored": filterset.ignored,
            "values": data,
            "labels": FILTER_LABELS,
            "columns": list_page.columns(
                data.get("ordering", ""),
                searching=False,
                sortable=SORTABLE,
                default=DEFAULT_ORDERING,
            ),
            "choices": [
                list_page.checkbox_group(data, name, choices, labels=FILTER_LABELS)
                for name, choices in options.items()
            ],
            "partner_options": list_page.suggestions(partners),
            "organization_options": list_page.suggestions(
                [p for p in partners if p.kind == "organization"]
            ),
            "chips": chips,
            "clear_url": list_page.clear_all_url(request.path, data),
            "page_sizes": list_page.PAGE_SIZES,
            "page_size": page.paginator.per_page,
            "filters_open": bool(errors),
            "export_url": export_url,
            "calendar_url": reverse("engagements:calendar"),
        },
        status=400 if errors else 200,
    )


@require_GET
@engagement_page
def engagement_calendar(request):
    today = timezone.localdate()
    raw = request.GET.get("month", "").strip()
    month, error = month_calendar.parse_month(raw, today)
    if error:
        return render(
            request,
            "engagements/calendar.html",
            {"error": error, "month_raw": raw, "this_month": today.strftime("%Y-%m")},
            status=400,
        )
    first, last = month_calendar.grid_bounds(month)
    rows = list(engagements_for(request.user).during(first, last).order_by("starts_on", "title"))
    grid = month_calendar.month_grid(month, rows, today)
    return render(
        request,
        "engagements/calendar.html",
        {
            "grid": grid,
            "month": month,
            "today": today,
            "list_url": month_calendar.list_url_for(month),
            "this_month": today.strftime("%Y-%m"),
        },
    )


@require_GET
@engagement_page
def engagement_detail(request, pk: int):
    user = request.user
    engagement = get_object_or_404(engagements_for(user), pk=pk)
    today = timezone.localdate()
    provisions_by_agreement: dict[int, list] = {}
    for provision in engagement.visible_provisions:
        provisions_by_agreement.setdefault(provision.agreement_id, []).append(provision)
    linked = [
        (agreement, provisions_by_agreement.get(agreement.pk, []))
        for agreement in engagement.visible_agreements
    ]
    can_edit = user.is_staff and user.has_perm("engagements.change_engagement")
    return render(
        request,
        "engagements/detail.html",
        {
            "engagement": engagement,
            "participants": list(engagement.participants.all()),
            "linked": linked,
            "contacts": list(engagement.contacts.all()),
            "overdue": engagement.after_action_overdue_on(today),
            "changes": ChangeRecord.objects.about(engagement).visible_to(user).for_display(),
            "version": engagement.version_for(user),
            "updated_at": engagement.updated_at_for(user),
            "today": today,
            "admin_url": (
                reverse("admin:engagements_engagement_change", args=[engagement.pk])
                if can_edit
                else ""
            ),
        },
    )
