"""Browser pages for policy staff: dashboard, agreement page, deadlines and calendar feed
(with the user's engagements).

Every read goes through ``visible_to(user)`` (directly or through ``agreements/selectors.py``),
so a record above the user's clearance is never shown, counted or drawn in a chart."""

from __future__ import annotations

import datetime
import itertools

from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from icalendar import Calendar, Event

from accounts.decorators import registry_page
from accounts.models import CalendarToken
from accounts.services import calendar_token_regenerate, calendar_token_revoke
from config.charts import bars, year_columns
from config.pages import engagement_list_url, list_url
from engagements.selectors import READ_PERMISSION as ENGAGEMENT_READ_PERMISSION
from engagements.selectors import activities_under, calendar_engagements_for, dashboard_engagements
from history.models import ChangeRecord
from partners.models import Nation, PointOfContact
from partners.world_map import world_map

from . import list_page, party_acts
from .choices import (
    AgreementStatus,
    AgreementType,
    PartyStatus,
    ProvisionCategory,
    ReminderKind,
)
from .filtersets import AgreementFilterSet
from .models import Agreement, AgreementEvent, Reminder, Review
from .selectors import (
    agreement_prefetches,
    agreements_for,
    changes_for,
    deadlines_for,
    in_force_counts_by_nation,
    one_with_related,
)
from .statistics import agreement_counts
from .timeline import timeline

DASHBOARD_DAYS = 90
DEADLINES_DEFAULT_DAYS = 90
DEADLINES_MAX_DAYS = 3650


# Dashboard ---------------------------------------------------------------------------------


@require_GET
@registry_page
def dashboard(request):
    user = request.user
    counts = agreement_counts(Agreement.objects.visible_to(user), user=user)
    by_status = {c.key: c.count for c in counts.by_status}
    status_counts = [
        (value, label, by_status.get(value, 0), list_url(status=value))
        for value, label in AgreementStatus.choices
    ]
    type_bars = bars((c.label, c.count, list_url(type=c.key)) for c in counts.by_type)
    year_chart = year_columns(
        {int(c.key): c.count for c in counts.by_year_signed if c.key is not None},
        lambda year: list_url(signed_after=f"{year}-01-01", signed_before=f"{year}-12-31"),
    )

    deadlines = deadlines_for(user, within=DASHBOARD_DAYS)
    grouped = {kind: [] for kind in ReminderKind.of_agreements()}
    for deadline in deadlines:
        grouped[deadline.kind].append(deadline)
    deadline_groups = [
        (kind, ReminderKind(kind).label, grouped[kind]) for kind in ReminderKind.of_agreements()
    ]

    changes = changes_for(user)[:10]
    today = timezone.localdate()
    partner_map = world_map(
        in_force_counts_by_nation(user, today),
        count_url=lambda code: list_url(party=code, in_force_on=today.isoformat()),
    )
    engagements = None
    if user.has_perm(ENGAGEMENT_READ_PERMISSION):
        engagements = dashboard_engagements(user, today)
    return render(
        request,
        "agreements/dashboard.html",
        {
            "engagements": engagements,
            "total": counts.total,
            "in_force": by_status.get(AgreementStatus.IN_FORCE, 0),
            "status_counts": status_counts,
            "type_bars": type_bars,
            "year_chart": year_chart,
            "deadline_groups": deadline_groups,
            "deadline_count": len(deadlines),
            "days": DASHBOARD_DAYS,
            "changes": changes,
            "world_map": partner_map,
        },
    )


# Agreement page ----------------------------------------------------------------------------


@require_GET
@registry_page
def agreement_detail(request, pk: int):
    user = request.user
    related = [
        *agreement_prefetches(user, provision_text=True),
        "parties__acts",
        "parties__periods",
        Prefetch("events", queryset=AgreementEvent.objects.select_related("created_by")),
        Prefetch("reviews", queryset=Review.objects.select_related("reviewer")),
        Prefetch("reminders", queryset=Reminder.objects.order_by("-sent_at", "-due_on")),
        Prefetch(
            "contacts",
            queryset=PointOfContact.objects.select_related("represents").order_by("name"),
        ),
    ]
    try:
        # Whether any agreement sits under this one or supersedes it, in the same query.
        links = Agreement.objects.filter(Q(parent=OuterRef("pk")) | Q(supersedes=OuterRef("pk")))
        agreement = one_with_related(
            Agreement.objects.visible_to(user)
            .select_related("owner")
            .annotate(_has_links=Exists(links)),
            related,
            pk=pk,
        )
    except Agreement.DoesNotExist as exc:
        raise Http404("No agreement matches the given query.") from exc

    # Linked agreements, only those within clearance (one query for all of them).
    linked = Agreement.objects.visible_to(user).filter(
        Q(pk__in=[i for i in (agreement.supersedes_id, agreement.parent_id) if i])
        | Q(parent_id=agreement.pk)
        | Q(supersedes_id=agreement.pk)
    )
    linked = (
        list(linked.only("pk", "reference", "title", "short_title", "parent", "supersedes"))
        if agreement.supersedes_id or agreement.parent_id or agreement._has_links
        else []  # nothing linked either way: no query
    )
    by_pk = {a.pk: a for a in linked}

    provisions = sorted(agreement.visible_provisions, key=lambda p: (p.category, p.article, p.pk))
    category_labels = dict(ProvisionCategory.choices)
    provision_groups = [
        (category_labels.get(category, category), list(rows))
        for category, rows in itertools.groupby(provisions, key=lambda p: p.category)
    ]
    today = timezone.localdate()
    parties = list(agreement.parties.all())
    status_labels = dict(PartyStatus.choices)
    for party in parties:
        status = party_acts.status_on(party.periods.all(), today)
        party.status_today = status_labels.get(status, "")
    changes = ChangeRecord.objects.about(agreement).visible_to(user).for_display()
    can_edit = user.is_staff and user.has_perm("agreements.change_agreement")
    activities = None
    if user.has_perm(ENGAGEMENT_READ_PERMISSION):
        activities = activities_under(agreement, user, today, provisions=provisions)
    return render(
        request,
        "agreements/detail.html",
        {
            "agreement": agreement,
            "parties": parties,
            "provision_groups": provision_groups,
            "provision_count": len(provisions),
            "supersedes": by_pk.get(agreement.supersedes_id),
            "parent": by_pk.get(agreement.parent_id),
            "children": [a for a in linked if a.parent_id == agreement.pk],
            "superseded_by": [a for a in linked if a.supersedes_id == agreement.pk],
            "changes": changes,
            "timeline": timeline(agreement, today),
            "activities": activities,
            "engagements_url": engagement_list_url(agreement=agreement.reference),
            "version": agreement.version_for(user),
            "updated_at": agreement.updated_at_for(user),
            "today": today,
            "admin_url": (
                reverse("admin:agreements_agreement_change", args=[agreement.pk])
                if can_edit
                else ""
            ),
        },
    )


# Deadlines and the calendar feed -----------------------------------------------------------


def _within(request) -> tuple[int, str]:
    """The ``within`` parameter in days, or the default with an error message."""
    raw = request.GET.get("within", "").strip()
    if not raw:
        return DEADLINES_DEFAULT_DAYS, ""
    try:
        days = int(raw)
    except ValueError:
        return DEADLINES_DEFAULT_DAYS, "Enter a whole number of days."
    if not 1 <= days <= DEADLINES_MAX_DAYS:
        return DEADLINES_DEFAULT_DAYS, f"Enter a number of days from 1 to {DEADLINES_MAX_DAYS}."
    return days, ""


@require_GET
@registry_page
def deadlines(request):
    within, error = _within(request)
    kind = request.GET.get("kind", "")
    kind_error = ""
    if kind and kind not in ReminderKind.of_agreements():
        kind_error = "Choose one of the kinds listed."
        kind = ""
    rows = deadlines_for(request.user, within=within, with_parties=True)
    if kind:
        rows = [d for d in rows if d.kind == kind]
    token = CalendarToken.objects.filter(user=request.user).first()
    feed_url = (
        request.build_absolute_uri(reverse("agreements:calendar_feed", args=[token.key]))
        if token
        else ""
    )
    return render(
        request,
        "agreements/deadlines.html",
        {
            "deadlines": rows,
            "within": within,
            "within_raw": request.GET.get("within", ""),
            "within_error": error,
            "kind": kind,
            "kind_error": kind_error,
            "kinds": [(k, ReminderKind(k).label) for k in ReminderKind.of_agreements()],
            "token": token,
            "feed_url": feed_url,
            "today": timezone.localdate(),
        },
        status=400 if (error or kind_error) else 200,
    )


@require_POST
@registry_page
def calendar_token(request):
    """Create, regenerate or revoke the user's own feed token."""
    if request.POST.get("action") == "revoke":
        calendar_token_revoke(user=request.user)
    else:
        calendar_token_regenerate(user=request.user)
    return redirect(f"{reverse('agreements:deadlines')}#calendar")


ENGAGEMENT_EVENT_STATUS = {"proposed": "TENTATIVE"}  # the others: CONFIRMED


def _engagement_event(engagement, *, stamp, host: str) -> Event:
    """One engagement as an all-day event over its days (DTEND is the day after the last)."""
    event = Event()
    event.add("uid", f"engagement-{engagement.pk}@{host}")
    event.add("dtstamp", stamp)
    event.add("dtstart", engagement.starts_on)
    event.add("dtend", engagement.last_day + datetime.timedelta(days=1))
    event.add("summary", engagement.title)
    place = [engagement.location] if engagement.location else []
    if engagement.location_nation_id and engagement.location_nation.name not in place:
        place.append(engagement.location_nation.name)
    if place:
        event.add("location", ", ".join(place))
    partners = ", ".join(str(p.partner) for p in engagement.participants.all())
    description = f"{engagement.get_kind_display()}, {engagement.get_status_display().lower()}."
    if partners:
        description += f" Participants: {partners}."
    event.add("description", description)
    event.add("url", f"{settings.SITE_URL.rstrip('/')}/engagements/{engagement.pk}/")
    event.add("categories", ["Engagement", engagement.get_kind_display()])
    event.add("status", ENGAGEMENT_EVENT_STATUS.get(engagement.status, "CONFIRMED"))
    event.add("transp", "TRANSPARENT")
    return event


@require_GET
def calendar_feed(request, key: str):
    """The user's deadlines, and the engagements they own or watch, as iCalendar. No
    session: the secret key in the URL is the authentication, and the feed holds only what
    that user may see (the deadlines with the agreements' read permission, the engagements
    with the engagements')."""
    token = CalendarToken.objects.select_related("user").filter(key=key).first()
    user = token.user if token else None
    if (
        user is None
        or not user.is_active
        or not (
            user.has_perm("agreements.view_agreement") or user.has_perm(ENGAGEMENT_READ_PERMISSION)
        )
    ):
        raise Http404("No such calendar.")
    rows = []
    if user.has_perm("agreements.view_agreement"):
        rows = deadlines_for(user, within=settings.REGISTRY_CALENDAR_DAYS)
    today = timezone.localdate()
    engagements = calendar_engagements_for(
        user,
        first=today - datetime.timedelta(days=settings.REGISTRY_CALENDAR_PAST_DAYS),
        last=today + datetime.timedelta(days=settings.REGISTRY_CALENDAR_DAYS),
    )
    calendar = Calendar()
    calendar.add("prodid", "-//DCA Registry//Deadlines//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "DCA Registry deadlines")
    stamp = timezone.now()
    host = settings.SITE_URL.split("://", 1)[-1].rstrip("/")
    for deadline in rows:
        agreement = deadline.agreement
        event = Event()
        event.add("uid", f"{deadline.kind}-{agreement.pk}-{deadline.due_on:%Y%m%d}@{host}")
        event.add("dtstamp", stamp)
        event.add("dtstart", deadline.due_on)
        event.add("dtend", deadline.due_on + datetime.timedelta(days=1))
        event.add(
            "summary",
            f"{deadline.label}: {agreement.reference} {agreement.short_title or agreement.title}",
        )
        event.add("description", f"{deadline.label} of {agreement.reference}: {agreement.title}")
        event.add("url", settings.SITE_URL.rstrip("/") + agreement.get_absolute_url())
        event.add("categories", [deadline.label])
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    for engagement in engagements:
        calendar.add_component(_engagement_event(engagement, stamp=stamp, host=host))
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="deadlines.ics"'
    response["Cache-Control"] = "private, no-store"
    return response


# Agreement list ----------------------------------------------------------------------------

PAGE_SIZES = list_page.PAGE_SIZES


@require_GET
@registry_page
def agreement_list(request):
    user = request.user
    data = list_page.normalised(request.GET)
    if data.urlencode() != request.GET.urlencode():
        # The form sends every field, most of them empty, and one parameter per ticked box:
        # answer with the short, shareable address (comma lists, no empty parameters).
        return redirect(f"{request.path}?{data.urlencode()}" if data else request.path)
    # Unknown parameters (a link may carry utm_source and the like) are named on the page.
    filterset, page, errors, export = list_page.filtered_page(
        request, data, AgreementFilterSet, agreements_for(user)
    )
    levels = list_page.classification_choices(user)
    regions = [
        (region, region)
        for region in Nation.objects.exclude(region="")
        .order_by("region")
        .values_list("region", flat=True)
        .distinct()
    ]
    options = {
        "type": AgreementType.choices,
        "status": AgreementStatus.choices,
        "region": regions,
        "category": ProvisionCategory.choices,
        "classification": levels,
    }
    partners = list_page.partners()
    applied = data.copy()
    for key in filterset.ignored:  # named on the page, but no filter: no chip
        applied.pop(key, None)
    chips = list_page.chips(
        request.path,
        applied,
        filterset.form.cleaned_data,
        {name: dict(choices) for name, choices in options.items()},
        partners,
    )
    return render(
        request,
        "agreements/list.html",
        {
            "page": page,
            "agreements": page.object_list,
            "errors": errors,
            "ignored": filterset.ignored,
            "values": data,
            "labels": list_page.FILTER_LABELS,
            "columns": list_page.columns(data.get("ordering", ""), searching=bool(data.get("q"))),
            "choices": [
                list_page.checkbox_group(data, name, choices) for name, choices in options.items()
            ],
            "partner_options": list_page.suggestions(partners),
            "organization_options": list_page.suggestions(
                [p for p in partners if p.kind == "organization"]
            ),
            "chips": chips,
            "clear_url": list_page.clear_all_url(request.path, data),
            "page_sizes": PAGE_SIZES,
            "page_size": page.paginator.per_page,
            "filters_open": bool(errors),
            "export_url": (
                f"/api/v1/agreements/export/?{export.urlencode()}"
                if user.has_perm("agreements.export_agreement")
                else ""
            ),
        },
        status=400 if errors else 200,
    )
