"""Reads shared by the API, the pages, the calendar feed and the reminders.

Every function takes the user and applies the clearance rule through ``visible_to``."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from .choices import ReminderKind
from .models import Agreement, AgreementParty, Provision, Reminder


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
        return (self.due_on - timezone.localdate()).days

    @property
    def label(self) -> str:
        return ReminderKind(self.kind).label


def deadlines_for(
    user, *, within: int, today: datetime.date | None = None, queryset=None
) -> list[Deadline]:
    """The due dates (``Agreement.due_dates()``) from today up to ``within`` days ahead
    across the agreements ``user`` may see, soonest first."""
    today = today or timezone.localdate()
    end = today + datetime.timedelta(days=within)
    base = queryset if queryset is not None else agreements_for(user)
    deadlines = [
        Deadline(kind, due_on, agreement)
        for agreement in base.visible_to(user).due_between(today, end)
        for kind, due_on in agreement.due_dates().items()
        if today <= due_on <= end
    ]
    deadlines.sort(key=lambda d: (d.due_on, d.kind, d.agreement.reference))
    return deadlines


def sees_every_reminder(user) -> bool:
    """Registry admins (with the permission) and superusers see every reminder."""
    from accounts.groups import REGISTRY_ADMINS

    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return (
        user.has_perm("agreements.view_reminder")
        and user.groups.filter(name=REGISTRY_ADMINS).exists()
    )


def reminders_for(user, *, every: bool | None = None) -> QuerySet[Reminder]:
    """The reminders sent to ``user`` (by account or email address), or every reminder for a
    registry admin; always only reminders of agreements the user may see."""
    visible = Agreement.objects.visible_to(user).values("pk")
    reminders = Reminder.objects.filter(agreement_id__in=visible)
    if every is None:
        every = sees_every_reminder(user)
    if not every:
        own = Q(recipient_user=user)
        if user.email:
            own |= Q(recipient__iexact=user.email)
        reminders = reminders.filter(own)
    return reminders
