"""Reminders about postings: 60 days (``POSTING_END_REMINDER_DAYS``) before a posting of a
point of contact ends with no successor recorded (``Posting``: a later posting to the same
place in the same role), the office mailbox (``POSTINGS_OFFICE_EMAIL``) is told once, so that
someone records the successor or extends the posting. A subject of ``agreements.reminders``
(``SUBJECT``): the sweep records one ``Reminder`` (kind ``posting_end``, ``posting`` set) per
posting and date, and delivery sends it once, or cancels it when the posting's end moved, a
successor was recorded or the mailbox changed in the meantime.

Postings carry no classification: the office mailbox may hear of every one. Catch-up as for
agreements: a posting that comes inside the window late (recorded with 20 days left) is
reminded at once; one that has ended is not.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from partners.models import Posting

from .choices import ReminderKind
from .models import Reminder
from .reminders import DueReminder, Subject, current_offset


def office_mailbox() -> str:
    return (settings.POSTINGS_OFFICE_EMAIL or "").strip().lower()


def offsets() -> list[int]:
    return [settings.POSTING_END_REMINDER_DAYS]


def candidates(today: datetime.date):
    """Postings ending from today up to the offset ahead, with no successor recorded."""
    end = today + datetime.timedelta(days=max(offsets()))
    return (
        Posting.objects.filter(active_to__gte=today, active_to__lte=end)
        .without_successor()
        .select_related("contact__represents", "nation", "organization")
        .order_by("pk")
    )


def due(today: datetime.date) -> Iterator[DueReminder]:
    office = office_mailbox()
    if not office:
        return
    for posting in candidates(today):  # at once, as the agreements' (reminders.py)
        days_before = current_offset(offsets(), posting.active_to, today)
        if days_before is not None:
            yield DueReminder(
                posting, ReminderKind.POSTING_END, posting.active_to, days_before, office, None
            )


def why_not_due(reminder: Reminder, today: datetime.date) -> str:
    posting = reminder.posting
    if posting.active_to != reminder.due_on:
        return "No longer due: the posting's last day changed."
    if reminder.due_on < today:
        return "No longer due: the posting has ended."
    if posting.has_successor():
        return "No longer due: a successor was recorded."
    if reminder.recipient != office_mailbox():
        return "No longer due to this recipient (the office mailbox changed)."
    return ""


def message(reminder: Reminder, today: datetime.date) -> EmailMultiAlternatives:
    posting = reminder.posting
    base = settings.SITE_URL.rstrip("/")
    context = {
        "reminder": reminder,
        "posting": posting,
        "contact": posting.contact,
        "place": posting.partner,
        "due_on": reminder.due_on,
        "days_left": (reminder.due_on - today).days,
        "url": f"{base}{posting.partner.get_absolute_url()}",
        "admin_url": f"{base}/admin/partners/pointofcontact/{posting.contact_id}/change/",
    }
    subject = " ".join(render_to_string("emails/posting_reminder_subject.txt", context).split())
    email = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("emails/posting_reminder.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[reminder.recipient],
        headers={"X-Registry-Reminder": str(reminder.pk)},
    )
    email.attach_alternative(render_to_string("emails/posting_reminder.html", context), "text/html")
    return email


SUBJECT = Subject(field="posting", due=due, why_not_due=why_not_due, message=message)
