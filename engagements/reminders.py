"""Reminders about engagements, a subject of ``agreements.reminders`` (``SUBJECT``).

Two kinds, each delivered once per date, offset and recipient (the ``Reminder`` row's unique
constraint, as for agreements):

- ``engagement_start``: ``ENGAGEMENT_REMINDER_OFFSETS`` days (30, 7 and 1 by default) before
  ``starts_on``. Catch-up as for agreements: only the most urgent offset still ahead is due,
  so a sweep that missed days sends that one, and a start that has passed is never reminded.
- ``after_action``: the after-action report, on ``after_action_due_on`` and
  ``ENGAGEMENT_AFTER_ACTION_OFFSETS`` days after it (0 and 7 by default), until the outcome
  is recorded. The row keeps the due date as ``due_on`` and the days after it as a negative
  ``days_before`` (-7: a week overdue). Catch-up the other way round: only the latest offset
  whose day has come is due, so a sweep that missed days never sends both; the last one still
  goes out up to ``ENGAGEMENT_AFTER_ACTION_CATCH_UP_DAYS`` after its day, and a report overdue
  for longer is left to the dashboard.

Recipients: the owner and the watchers, each address once, only while they may read the
engagement (active, the ``view_engagement`` permission, cleared for its classification:
``engagements.selectors.readers_among``); there is no office mailbox. The rule is applied
again at delivery, so a reminder is cancelled, not sent, when its recipient lost the
permission or the clearance, the engagement was reclassified above them, its date moved, it
was cancelled or postponed, or (for any kind) its outcome was recorded.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from django.template.loader import render_to_string

from agreements.choices import ReminderKind
from agreements.models import Reminder
from agreements.reminders import DueReminder, Subject, current_offset

from .choices import EngagementStatus
from .models import Engagement, Participation
from .selectors import readers_among, users_with_read_permission

# An engagement in one of these will not take place on its dates: its reminders stop.
STOPPED = (EngagementStatus.CANCELLED, EngagementStatus.POSTPONED)
KINDS = (ReminderKind.ENGAGEMENT_START, ReminderKind.AFTER_ACTION)


def start_offsets() -> list[int]:
    """Days before ``starts_on``, largest first."""
    return sorted({int(days) for days in settings.ENGAGEMENT_REMINDER_OFFSETS}, reverse=True)


def after_action_offsets() -> list[int]:
    """Days after ``after_action_due_on``, smallest first."""
    return sorted({int(days) for days in settings.ENGAGEMENT_AFTER_ACTION_OFFSETS})


def after_action_window() -> int | None:
    """How many days after the due date an after-action reminder may still go out."""
    offsets = after_action_offsets()
    if not offsets:
        return None
    return offsets[-1] + max(0, settings.ENGAGEMENT_AFTER_ACTION_CATCH_UP_DAYS)


def after_action_offset(due_on: datetime.date, today: datetime.date) -> int | None:
    """The after-action offset due on ``today``: the latest whose day (``due_on`` + offset)
    has come, while today is inside the window; None when none is."""
    window = after_action_window()
    days_after = (today - due_on).days
    if window is None or not 0 <= days_after <= window:
        return None
    return max((days for days in after_action_offsets() if days <= days_after), default=None)


def due_dates(engagement: Engagement) -> dict[str, datetime.date]:
    """The dates an engagement's reminders are about, by kind; none once it is cancelled or
    postponed or its outcome is recorded."""
    if engagement.status in STOPPED or engagement.outcome:
        return {}
    dates = {}
    if engagement.status != EngagementStatus.COMPLETED:
        dates[ReminderKind.ENGAGEMENT_START] = engagement.starts_on
    if engagement.after_action_due_on:
        dates[ReminderKind.AFTER_ACTION] = engagement.after_action_due_on
    return dates


def days_before_on(kind: str, due_on: datetime.date, today: datetime.date) -> int | None:
    """The ``days_before`` of the reminder of ``kind`` due on ``today`` (negative: days
    after), or None."""
    if kind == ReminderKind.AFTER_ACTION:
        days_after = after_action_offset(due_on, today)
        return None if days_after is None else -days_after
    return current_offset(start_offsets(), due_on, today)


def recipients_for(
    engagement: Engagement, *, permitted: set[int] | None = None
) -> list[tuple[str, object]]:
    """(email, user) pairs: the owner, then the watchers; each address once, people only
    while they may read the engagement. The one rule, for the sweep and at delivery."""
    people = [engagement.owner] if engagement.owner_id else []
    people += sorted(engagement.watchers.all(), key=lambda user: user.pk)
    seen: set[str] = set()
    recipients = []
    for user in readers_among(people, engagement.classification, permitted=permitted):
        email = (user.email or "").strip().lower()
        if email and email not in seen:
            seen.add(email)
            recipients.append((email, user))
    return recipients


def candidates(today: datetime.date):
    """Engagements a sweep on ``today`` may remind of: still going ahead, no outcome yet, and
    starting from today up to the largest offset ahead, or with an after-action report due
    within the window behind. Each branch is a bounded range on an indexed date column."""
    when = Q(pk__in=[])
    if offsets := start_offsets():
        last = today + datetime.timedelta(days=offsets[0])
        when |= Q(starts_on__gte=today, starts_on__lte=last)
    window = after_action_window()
    if window is not None:
        first = today - datetime.timedelta(days=window)
        when |= Q(after_action_due_on__gte=first, after_action_due_on__lte=today)
    return (
        Engagement.objects.exclude(status__in=STOPPED)
        .filter(outcome="")
        .filter(when)
        .select_related("owner")
        .prefetch_related("watchers")
        .order_by("pk")
    )


def due(today: datetime.date) -> Iterator[DueReminder]:
    """Every delivery about an engagement due on ``today``, whether or not it was made."""
    permitted = None  # looked up once, when the first engagement has something due
    for engagement in candidates(today):  # at once, as the agreements' (agreements/reminders.py)
        recipients = None
        for kind, due_on in due_dates(engagement).items():
            days_before = days_before_on(kind, due_on, today)
            if days_before is None:
                continue
            if permitted is None:
                permitted = set(users_with_read_permission().values_list("pk", flat=True))
            if recipients is None:
                recipients = recipients_for(engagement, permitted=permitted)
            for email, user in recipients:
                yield DueReminder(engagement, kind, due_on, days_before, email, user)


def open_after(today: datetime.date) -> Q:
    """After-action rows may be delivered after their date, inside the window."""
    window = after_action_window()
    if window is None:
        return Q(pk__in=[])
    return Q(
        kind=ReminderKind.AFTER_ACTION,
        due_on__gte=today - datetime.timedelta(days=window),
        due_on__lte=today,
    )


def why_not_due(reminder: Reminder, today: datetime.date) -> str:
    engagement = reminder.engagement
    if engagement.status in STOPPED:
        return f"No longer due: the engagement is {engagement.get_status_display().lower()}."
    if engagement.outcome:
        return "No longer due: the after-action outcome is recorded."
    if due_dates(engagement).get(reminder.kind) != reminder.due_on:
        return "No longer due: the date changed or the engagement's status makes it moot."
    if reminder.kind == ReminderKind.AFTER_ACTION:
        if days_before_on(reminder.kind, reminder.due_on, today) != reminder.days_before:
            return "No longer due: a later after-action reminder replaces it, or it is too late."
    elif reminder.due_on < today:
        return "No longer due: the engagement has started."
    if reminder.recipient not in {email for email, _ in recipients_for(engagement)}:
        return "No longer due to this recipient (not responsible for it, or may not read it)."
    return ""


def message(reminder: Reminder, today: datetime.date) -> EmailMultiAlternatives:
    engagement = reminder.engagement
    participants = Participation.objects.filter(engagement=engagement).select_related(
        "nation", "organization"
    )
    context = {
        "reminder": reminder,
        "engagement": engagement,
        "kind": reminder.kind,
        "due_on": reminder.due_on,
        "days_left": (reminder.due_on - today).days,
        "days_after": (today - reminder.due_on).days,
        "participants": [f"{p.partner} ({p.get_role_display().lower()})" for p in participants],
        "url": f"{settings.SITE_URL.rstrip('/')}/engagements/{engagement.pk}/",
    }
    subject = " ".join(render_to_string("emails/engagement_reminder_subject.txt", context).split())
    email = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("emails/engagement_reminder.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[reminder.recipient],
        headers={"X-Registry-Reminder": str(reminder.pk)},
    )
    email.attach_alternative(
        render_to_string("emails/engagement_reminder.html", context), "text/html"
    )
    return email


SUBJECT = Subject(
    field="engagement",
    due=due,
    why_not_due=why_not_due,
    message=message,
    open_after=open_after,
)
