"""Reads shared by the API, the pages, the calendar feed and the reminders.

Every function takes the user and applies the clearance rule through ``visible_to``."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet

from .choices import AgreementStatus, ReminderKind
from .models import Agreement, AgreementParty, Provision

# Agreements whose dates still matter: expiries and notice deadlines of these are deadlines.
LIVE_STATUSES = (AgreementStatus.SIGNED, AgreementStatus.IN_FORCE, AgreementStatus.SUSPENDED)


def agreements_for(user) -> QuerySet[Agreement]:
    """Agreements the user may see, with parties and visible provisions fetched up front."""
    return Agreement.objects.visible_to(user).prefetch_related(
        Prefetch(
            "parties",
            queryset=AgreementParty.objects.select_related("nation", "organization"),
        ),
        Prefetch(
            "provisions",
            queryset=Provision.objects.visible_to(user),
            to_attr="visible_provisions",
        ),
    )


@dataclass(frozen=True)
class Deadline:
    kind: str  # a ReminderKind value
    due_on: datetime.date
    agreement: Agreement

    @property
    def days_left(self) -> int:
        return (self.due_on - datetime.date.today()).days

    @property
    def label(self) -> str:
        return ReminderKind(self.kind).label


def deadlines_for(
    user, *, within: int, today: datetime.date | None = None, queryset=None
) -> list[Deadline]:
    """Upcoming expiries, notice deadlines and reviews (today up to ``within`` days ahead)
    across the agreements ``user`` may see, soonest first."""
    today = today or datetime.date.today()
    end = today + datetime.timedelta(days=within)
    base = queryset if queryset is not None else agreements_for(user)
    base = base.visible_to(user)
    live = Q(status__in=LIVE_STATUSES)
    candidates = base.filter(
        (live & Q(expires_on__range=(today, end)))
        | (live & Q(notice_deadline__range=(today, end)) & Q(notice_given_on__isnull=True))
        | Q(next_review_on__range=(today, end))
    ).exclude(status__in=[AgreementStatus.TERMINATED, AgreementStatus.SUPERSEDED])
    deadlines = []
    for agreement in candidates:
        is_live = agreement.status in LIVE_STATUSES
        if is_live and agreement.expires_on and today <= agreement.expires_on <= end:
            deadlines.append(Deadline(ReminderKind.EXPIRY, agreement.expires_on, agreement))
        notice = agreement.notice_deadline
        if is_live and notice and not agreement.notice_given_on and today <= notice <= end:
            deadlines.append(Deadline(ReminderKind.NOTICE_DEADLINE, notice, agreement))
        review = agreement.next_review_on
        if review and today <= review <= end:
            deadlines.append(Deadline(ReminderKind.REVIEW, review, agreement))
    deadlines.sort(key=lambda d: (d.due_on, d.kind, d.agreement.reference))
    return deadlines
