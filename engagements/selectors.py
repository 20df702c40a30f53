"""Reads of engagements, shared by the API, the admin, the export and (later) the pages, the
calendar and the reminders. Every function takes the user and applies the clearance rule:
an engagement through ``visible_to``, and each linked agreement and provision through its
own (a link above the reader's clearance is left out, the engagement stays)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, Q, QuerySet

from accounts.choices import Classification
from agreements.models import Agreement, Provision
from agreements.selectors import PERMISSION_BACKEND
from partners.models import PointOfContact

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
