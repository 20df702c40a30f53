"""Reads of engagements, shared by the API, the admin, the export and (later) the pages, the
calendar and the reminders. Every function takes the user and applies the clearance rule:
an engagement through ``visible_to``, and each linked agreement and provision through its
own (a link above the reader's clearance is left out, the engagement stays)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import ExtractYear

from accounts.choices import Classification
from agreements.models import Agreement, Provision
from agreements.selectors import PERMISSION_BACKEND
from partners.models import PointOfContact

from .activity import dormant_years, with_activity
from .choices import EngagementStatus
from .models import Engagement, Participation

READ_PERMISSION = "engagements.view_engagement"


def visible_agreements(user) -> QuerySet[Agreement]:
    return Agreement.objects.visible_to(user) if user is not None else Agreement.objects.all()


def visible_provisions(user) -> QuerySet[Provision]:
    return Provision.objects.visible_to(user) if user is not None else Provision.objects.all()


def engagements_for(user) -> QuerySet[Engagement]:
    """Engagements ``user`` may see, with what a list or a page shows fetched up front (a
    fixed number of queries whatever the number of rows): the location nation, the owner,
    the participants with their partners, and the linked agreements (``visible_agreements``),
    provisions (``visible_provisions``, with their agreements) and contacts the user may
    see."""
    return (
        Engagement.objects.visible_to(user)
        .select_related("location_nation", "owner")
        .prefetch_related(
            Prefetch(
                "participants",
                queryset=Participation.objects.select_related("nation", "organization"),
            ),
            Prefetch(
                "agreements",
                queryset=visible_agreements(user).order_by("reference"),
                to_attr="visible_agreements",
            ),
            Prefetch(
                "provisions",
                queryset=visible_provisions(user)
                .select_related("agreement")
                .order_by("agreement__reference", "category", "article", "id"),
                to_attr="visible_provisions",
            ),
            Prefetch(
                "contacts",
                queryset=PointOfContact.objects.select_related("represents", "posted_to"),
            ),
        )
    )


def calendar_engagements_for(user, *, first, last) -> QuerySet[Engagement]:
    """The engagements on ``user``'s calendar feed: those they own or watch and may see,
    with a day from ``first`` to ``last``, not cancelled or postponed (they will not take
    place on those dates), with the location nation and the participants fetched up front."""
    if not user.has_perm(READ_PERMISSION):
        return Engagement.objects.none()
    mine = Q(owner=user) | Q(
        pk__in=Engagement.watchers.through.objects.filter(user=user).values("engagement_id")
    )
    return (
        Engagement.objects.visible_to(user)
        .during(first, last)
        .filter(mine)
        .exclude(status__in=[EngagementStatus.CANCELLED, EngagementStatus.POSTPONED])
        .select_related("location_nation")
        .prefetch_related(
            Prefetch(
                "participants",
                queryset=Participation.objects.select_related("nation", "organization"),
            )
        )
        .order_by("starts_on", "title", "pk")
    )


def users_with_read_permission() -> QuerySet:
    return get_user_model().objects.with_perm(READ_PERMISSION, backend=PERMISSION_BACKEND)


def readers_among(users, classification: str, *, permitted: set[int] | None = None) -> list:
    """Those of ``users`` who may read an engagement of ``classification``: active, holding
    the read permission and cleared for it (who may be named on it, and told about it:
    ``engagements.reminders``). ``permitted``: the ids of the users holding the permission,
    when already looked up (the reminder sweep does it once for all engagements)."""
    users = [user for user in users if user is not None]
    if permitted is None:
        ids = [user.pk for user in users]
        permitted = set(
            users_with_read_permission().filter(pk__in=ids).values_list("pk", flat=True)
        )
    return [user for user in users if user.pk in permitted and user.is_cleared_for(classification)]


def not_readers_message(users, classification: str) -> str:
    names = ", ".join(sorted(user.get_username() for user in users))
    label = Classification(classification).label
    return (
        f"Not allowed to read this {label} engagement (a person named on it needs the read "
        f"permission and clearance for {label}): {names}."
    )


# Activities under an agreement ----------------------------------------------------------------


@dataclass
class ProvisionActivity:
    """A provision the reader may see, with the engagements under it they may see (latest
    first), its last activity and whether it is dormant (``engagements.activity``)."""

    provision: Provision
    engagements: list[Engagement]
    last_activity_on: datetime.date | None
    dormant: bool


@dataclass
class AgreementActivities:
    provisions: list[ProvisionActivity]
    # Engagements under the agreement but under none of its provisions the reader may see.
    unattached: list[Engagement]
    count: int  # engagements under the agreement the reader may see
    dormant_years: int


def activities_under(
    agreement: Agreement, user, today: datetime.date | None = None, provisions=None
):
    """What the agreement page's "Activities under this agreement" shows: three queries
    whatever the number of provisions and engagements, or one when no engagement the reader
    may see is under the agreement and ``provisions`` (the ones they may see, in order) are
    given: a provision's engagements are all under its agreement (``engagement_save``'s
    rule), so then each has none, no last activity, and is dormant."""
    visible = Engagement.objects.visible_to(user).select_related("location_nation")
    under = list(visible.filter(agreements=agreement).order_by("-starts_on", "title", "id"))
    if not under and provisions is not None:
        return AgreementActivities(
            provisions=[ProvisionActivity(p, [], None, True) for p in provisions],
            unattached=[],
            count=0,
            dormant_years=dormant_years(),
        )
    provisions = list(
        with_activity(Provision.objects.visible_to(user).filter(agreement=agreement), user, today)
        .order_by("category", "article", "id")
        .prefetch_related(
            Prefetch(
                "engagements",
                queryset=visible.order_by("-starts_on", "title", "id"),
                to_attr="visible_engagements",
            )
        )
    )
    attached = {e.pk for p in provisions for e in p.visible_engagements}
    return AgreementActivities(
        provisions=[
            ProvisionActivity(p, p.visible_engagements, p.last_activity_on, p.dormant)
            for p in provisions
        ],
        unattached=[e for e in under if e.pk not in attached],
        count=len(under),
        dormant_years=dormant_years(),
    )


def engagement_counts_by_year(user, **participation) -> dict[int, int]:
    """Engagements ``user`` may see by the year they start, where a participant matches
    ``participation`` (``nation=…`` or ``organization=…``): one query."""
    rows = (
        Engagement.objects.visible_to(user)
        .filter(Exists(Participation.objects.filter(engagement=OuterRef("pk"), **participation)))
        .annotate(year=ExtractYear("starts_on"))
        .order_by()
        .values("year")
        .annotate(n=Count("pk"))
    )
    return {int(row["year"]): row["n"] for row in rows}


DASHBOARD_ROWS = 8


@dataclass
class DashboardEngagements:
    this_month: list[Engagement]  # the first DASHBOARD_ROWS, soonest first
    this_month_count: int
    overdue: list[Engagement]  # the first DASHBOARD_ROWS, the longest overdue first
    overdue_count: int
    month: datetime.date  # the first day of the current month


def dashboard_engagements(user, today: datetime.date) -> DashboardEngagements:
    """The dashboard's two engagement panels (four queries): the engagements with a day in
    the current month, and those whose after-action report is overdue, among those ``user``
    may see."""
    first = today.replace(day=1)
    last = (first + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
    visible = Engagement.objects.visible_to(user)
    this_month = visible.during(first, last).order_by("starts_on", "title", "id")
    overdue = visible.after_action_overdue(today).order_by("after_action_due_on", "title", "id")
    return DashboardEngagements(
        this_month=list(this_month[:DASHBOARD_ROWS]),
        this_month_count=this_month.count(),
        overdue=list(overdue[:DASHBOARD_ROWS]),
        overdue_count=overdue.count(),
        month=first,
    )


def engagements_in_short(user) -> QuerySet[Engagement]:
    """The engagements ``user`` may see, as an agreement lists them (latest first); none
    without the permission to read engagements."""
    if user is None or not user.has_perm(READ_PERMISSION):
        return Engagement.objects.none()
    return (
        Engagement.objects.visible_to(user)
        .only("pk", "title", "kind", "status", "starts_on", "ends_on")
        .order_by("-starts_on", "title", "id")
    )
