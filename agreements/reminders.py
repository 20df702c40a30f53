"""Renewal, notice and review reminders: which are due, to whom, and delivering each once.

The daily sweep (``reminders_sweep``) writes one ``Reminder`` row per delivery it finds due;
the row's unique constraint (agreement, kind, due_on, days_before, recipient) means a second
sweep, run later or at the same moment, adds nothing. Each row is then delivered by
``reminder_deliver``, which first claims it with a conditional UPDATE: only one caller wins the
claim, a sent row is never claimed again, and a claim older than ``REMINDER_CLAIM_TIMEOUT`` (a
worker that died mid-delivery) may be taken over.

Who gets a reminder (``recipients_for``): the owner, the watchers and the office mailbox, each
once (by email address, case-insensitively), people only while they may read the agreement
(active, with the read permission and cleared for it: ``readers_among``), and the office
mailbox only for agreements classified at or below ``REMINDER_OFFICE_MAX_CLASSIFICATION``. The
same function is applied again at delivery, so a reminder whose agreement was reclassified,
whose date moved or whose recipient lost their clearance or permission in the meantime is
cancelled, not sent.

Catch-up: for each date, only the most urgent offset still ahead of it is due (the smallest
offset whose send date is on or before today). A sweep that missed days sends that one, never
a burst of the older ones; an offset already delivered is never sent again.

Subjects: a reminder is about an agreement or about something else that has dates (a posting
of a point of contact: ``agreements.posting_reminders``; an engagement:
``engagements.reminders``). Each subject is a ``Subject``: its
``Reminder`` foreign key, what is due on a day, why a recorded row is no longer due, and its
message. The agreement subject is defined here; the others are listed in ``SUBJECT_MODULES``
(each module has a ``SUBJECT``), and the sweep, the plan and delivery go through all of them.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from importlib import import_module

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.choices import Classification

from .choices import AgreementStatus, DeliveryOutcome, ReminderKind, ReminderStatus
from .models import Agreement, AgreementParty, Reminder
from .models.reminders import SUBJECT_FIELDS
from .offsets import largest_offsets, offsets_for
from .selectors import readers_among, users_with_read_permission

logger = logging.getLogger(__name__)

# Statuses a delivery may be (re)claimed from.
CLAIMABLE = (ReminderStatus.PENDING, ReminderStatus.FAILED)


class DeliveryFailed(Exception):
    """Sending failed; the row records the error and may be claimed again for a retry."""


@dataclass(frozen=True)
class DueReminder:
    """One delivery due: about ``subject`` (an agreement, a posting…), to one recipient."""

    subject: object
    kind: str
    due_on: datetime.date
    days_before: int
    recipient: str
    recipient_user: object | None

    @property
    def field(self) -> str:
        """The ``Reminder`` foreign key that names the subject."""
        return subject_field(self.subject)

    @property
    def agreement(self) -> Agreement | None:
        return self.subject if isinstance(self.subject, Agreement) else None

    @property
    def name(self) -> str:
        """The subject as a listing names it: an agreement by its reference."""
        return getattr(self.subject, "reference", None) or str(self.subject)

    @property
    def key(self) -> tuple:
        return (
            self.field,
            self.subject.pk,
            self.kind,
            self.due_on,
            self.days_before,
            self.recipient,
        )

    def row(self) -> Reminder:
        return Reminder(
            **{self.field: self.subject},
            kind=self.kind,
            due_on=self.due_on,
            days_before=self.days_before,
            recipient=self.recipient,
            recipient_user=self.recipient_user,
        )


def subject_field(subject) -> str:
    """The ``Reminder`` foreign key (``SUBJECT_FIELDS``) whose model ``subject`` is."""
    for name in SUBJECT_FIELDS:
        if isinstance(subject, Reminder._meta.get_field(name).related_model):
            return name
    raise TypeError(f"A reminder cannot be about {subject!r}.")


@dataclass(frozen=True)
class Subject:
    """What a reminder can be about: ``field`` (its ``Reminder`` foreign key); ``due(today)``,
    every delivery due that day, sent or not; ``why_not_due(reminder, today)``, why a recorded
    row is no longer due ("" when it is); ``message(reminder, today)``, the email.
    ``open_after(today)``, when given: the rows of this subject still to deliver although
    their date has passed (a reminder that goes out after the date it is about, such as an
    overdue report); other rows wait only until their date."""

    field: str
    due: Callable[[datetime.date], Iterable[DueReminder]]
    why_not_due: Callable[[Reminder, datetime.date], str]
    message: Callable[[Reminder, datetime.date], EmailMultiAlternatives]
    open_after: Callable[[datetime.date], Q] | None = None


# The modules of the other subjects, each with a ``SUBJECT``.
SUBJECT_MODULES = ("agreements.posting_reminders", "engagements.reminders")


def subjects() -> dict[str, Subject]:
    """Every subject by its ``Reminder`` field, the agreement first."""
    found = [AGREEMENT_SUBJECT, *(import_module(path).SUBJECT for path in SUBJECT_MODULES)]
    return {subject.field: subject for subject in found}


@dataclass(frozen=True)
class Delivery:
    """What ``reminder_deliver`` did: ``SENT``; ``DONE`` (sent or cancelled before);
    ``BUSY`` (another worker holds the claim; try again in ``retry_in`` seconds);
    ``CANCELLED`` (no longer due); ``MISSING`` (the row is gone)."""

    outcome: DeliveryOutcome
    retry_in: int = 0


# What is due ------------------------------------------------------------------------------


def current_offset(offsets: list[int], due_on: datetime.date, today: datetime.date) -> int | None:
    """The most urgent offset whose send date (``due_on`` - offset) is on or before today,
    while the date is still ahead (or today); None when nothing is due."""
    days_left = (due_on - today).days
    if days_left < 0:
        return None
    return min((days for days in offsets if days >= days_left), default=None)


def office_cleared_for(classification: str) -> bool:
    limit = settings.REMINDER_OFFICE_MAX_CLASSIFICATION
    return Classification.rank(classification) <= Classification.rank(limit)


def recipients_for(
    agreement: Agreement, *, permitted: set[int] | None = None
) -> list[tuple[str, object | None]]:
    """(email, user) pairs: the owner, the watchers, then the office mailbox; each address
    once, people only if they may read the agreement (``readers_among``). The one recipient
    rule, for the sweep and again at delivery; ``permitted``: the ids of the users holding
    the read permission, when the sweep has looked them up already."""
    people = [agreement.owner] if agreement.owner_id else []
    people += sorted(agreement.watchers.all(), key=lambda user: user.pk)
    readers = readers_among(people, agreement.classification, permitted=permitted)
    seen: set[str] = set()
    recipients = []
    for user in readers:
        email = (user.email or "").strip().lower()
        if not email or email in seen:
            continue
        seen.add(email)
        recipients.append((email, user))
    office = (agreement.office_email or "").strip().lower()
    if office and office not in seen and office_cleared_for(agreement.classification):
        recipients.append((office, None))
    return recipients


def _windows(today: datetime.date, largest: dict[str, int]) -> dict:
    return {kind: (today, today + datetime.timedelta(days=n)) for kind, n in largest.items()}


def reminder_candidates(today: datetime.date):
    """The agreements a sweep on ``today`` may remind of: those with a due date
    (``Agreement.due_dates()``) from today up to the largest offset of its kind ahead (the
    defaults' for agreements that keep them, the largest of their own for those that set
    their own). That covers catch-up: a date still ahead has its most urgent offset due
    while it is inside that window (``current_offset``), and a date passed is never
    reminded. Each branch is a bounded range on an indexed date column."""
    own = list(
        Agreement.objects.exclude(status__in=AgreementStatus.final())
        .filter(reminder_offsets__isnull=False)
        .order_by()
        .values_list("reminder_offsets", flat=True)
    )
    candidates = Agreement.objects.filter(reminder_offsets__isnull=True).due_in_windows(
        _windows(today, largest_offsets([None]))
    )
    if own:
        candidates |= Agreement.objects.filter(reminder_offsets__isnull=False).due_in_windows(
            _windows(today, largest_offsets(own))
        )
    return candidates.select_related("owner").prefetch_related("watchers").order_by("pk")


def agreement_reminders_due(today: datetime.date) -> Iterator[DueReminder]:
    """Every delivery about an agreement due on ``today``, whether or not it was made."""
    permitted = None  # looked up once, when the first agreement has something due
    # Read at once, not through a server-side cursor: the candidates are the few agreements
    # with a date inside a window, and for a cursor PostgreSQL plans a fast start, walking
    # the primary key over every agreement (a sweep that grew with the registry).
    for agreement in reminder_candidates(today):
        recipients = None
        for kind, due_on in agreement.due_dates().items():
            days_before = current_offset(offsets_for(agreement, kind), due_on, today)
            if days_before is None:
                continue
            if permitted is None:
                permitted = set(users_with_read_permission().values_list("pk", flat=True))
            if recipients is None:
                recipients = recipients_for(agreement, permitted=permitted)
            for email, user in recipients:
                yield DueReminder(agreement, kind, due_on, days_before, email, user)


def reminders_due(*, today: datetime.date) -> Iterator[DueReminder]:
    """Every delivery due on ``today``, about any subject, whether or not it was made."""
    for subject in subjects().values():
        yield from subject.due(today)


def reminders_plan(*, today: datetime.date | None = None) -> list[DueReminder]:
    """What a sweep on ``today`` would send: the due deliveries not recorded yet. Writes
    nothing (``send_reminders --dry-run``)."""
    today = today or timezone.localdate()
    due = list(reminders_due(today=today))
    recorded = set()
    for field in {d.field for d in due}:
        mine = [d for d in due if d.field == field]
        rows = Reminder.objects.filter(
            **{f"{field}_id__in": {d.subject.pk for d in mine}},
            due_on__in={d.due_on for d in mine},
        ).values_list(f"{field}_id", "kind", "due_on", "days_before", "recipient")
        recorded |= {(field, *row) for row in rows}
    return [d for d in due if d.key not in recorded]


def reminders_sweep(*, today: datetime.date | None = None) -> list[int]:
    """Record every delivery due on ``today`` (safe to run again, and twice at once) and
    return the ids of the rows waiting to be delivered, in order."""
    today = today or timezone.localdate()
    rows = [d.row() for d in reminders_due(today=today)]
    Reminder.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
    return reminders_waiting(today=today)


def reminders_waiting(*, today: datetime.date) -> list[int]:
    """Rows still to deliver: pending, or failed with retries left; dates not yet passed
    (or, for a reminder after its date, its subject's ``open_after``); not claimed by a
    worker that may still be alive."""
    stale = timezone.now() - datetime.timedelta(seconds=settings.REMINDER_CLAIM_TIMEOUT)
    still_open = Q(due_on__gte=today)
    for subject in subjects().values():
        if subject.open_after is not None:
            still_open |= Q(**{f"{subject.field}__isnull": False}) & subject.open_after(today)
    return list(
        Reminder.objects.filter(still_open)
        .filter(
            Q(status=ReminderStatus.PENDING)
            | Q(status=ReminderStatus.FAILED, attempts__lte=settings.REMINDER_MAX_RETRIES)
        )
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


# Delivering one ---------------------------------------------------------------------------


def reminder_claim(*, reminder_id: int) -> uuid.UUID | None:
    """Take the delivery of one row: a conditional UPDATE that succeeds for one caller only.
    A sent or cancelled row is never claimed; a claim older than the timeout may be."""
    now = timezone.now()
    stale = now - datetime.timedelta(seconds=settings.REMINDER_CLAIM_TIMEOUT)
    token = uuid.uuid4()
    claimed = (
        Reminder.objects.filter(pk=reminder_id, status__in=CLAIMABLE)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale))
        .update(claimed_at=now, claim_token=token, attempts=F("attempts") + 1)
    )
    return token if claimed else None


def _why_not_due(reminder: Reminder, today: datetime.date) -> str:
    agreement = reminder.agreement
    if agreement.due_dates().get(reminder.kind) != reminder.due_on:
        return "No longer due: the date changed or the agreement's status makes it moot."
    if reminder.due_on < today:
        return "No longer due: the date has passed."
    if reminder.recipient not in {email for email, _ in recipients_for(agreement)}:
        return "No longer due to this recipient (not responsible for it, or may not read it)."
    return ""


def reminder_message(reminder: Reminder, *, today: datetime.date) -> EmailMultiAlternatives:
    """The email of one reminder, whatever it is about."""
    return subjects()[reminder.subject_field].message(reminder, today)


def agreement_message(reminder: Reminder, today: datetime.date) -> EmailMultiAlternatives:
    agreement = reminder.agreement
    parties = AgreementParty.objects.filter(agreement=agreement).select_related(
        "nation", "organization"
    )
    days_left = (reminder.due_on - today).days
    context = {
        "reminder": reminder,
        "agreement": agreement,
        "kind": reminder.kind,
        "kind_label": ReminderKind(reminder.kind).label,
        "due_on": reminder.due_on,
        "days_left": days_left,
        "parties": [str(party.partner) for party in parties],
        "url": f"{settings.SITE_URL.rstrip('/')}/agreements/{agreement.pk}/",
    }
    subject = " ".join(render_to_string("emails/reminder_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("emails/reminder.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[reminder.recipient],
        headers={"X-Registry-Reminder": str(reminder.pk)},
    )
    message.attach_alternative(render_to_string("emails/reminder.html", context), "text/html")
    return message


def reminder_deliver(*, reminder_id: int, today: datetime.date | None = None) -> Delivery:
    """Deliver one recorded reminder, at most once. Raises ``DeliveryFailed`` (after
    recording the error and releasing the claim) when sending fails."""
    today = today or timezone.localdate()
    token = reminder_claim(reminder_id=reminder_id)
    if token is None:
        row = Reminder.objects.filter(pk=reminder_id).values("status", "claimed_at").first()
        if row is None:
            return Delivery(DeliveryOutcome.MISSING)
        if row["status"] not in CLAIMABLE:
            return Delivery(DeliveryOutcome.DONE)
        held = (timezone.now() - row["claimed_at"]).total_seconds() if row["claimed_at"] else 0
        retry_in = max(1, int(settings.REMINDER_CLAIM_TIMEOUT - held) + 1)
        return Delivery(DeliveryOutcome.BUSY, retry_in=retry_in)
    mine = Reminder.objects.filter(pk=reminder_id, claim_token=token)
    reminder = Reminder.objects.select_related(
        "agreement__owner",
        "posting__contact",
        "posting__nation",
        "posting__organization",
        "engagement__owner",
    ).get(pk=reminder_id)
    reason = subjects()[reminder.subject_field].why_not_due(reminder, today)
    if reason:
        mine.update(status=ReminderStatus.CANCELLED, error=reason, claimed_at=None)
        return Delivery(DeliveryOutcome.CANCELLED)
    try:
        reminder_message(reminder, today=today).send()
    except Exception as exc:
        error = f"{exc.__class__.__name__}: {exc}"[:2000]
        mine.update(status=ReminderStatus.FAILED, error=error, claimed_at=None)
        logger.warning("Reminder %s to %s failed: %s", reminder.pk, reminder.recipient, error)
        raise DeliveryFailed(error) from exc
    # An earlier attempt's error no longer describes the row (attempts still counts them).
    if not mine.update(status=ReminderStatus.SENT, sent_at=timezone.now(), error=""):
        logger.error("Reminder %s was sent after its claim was taken over.", reminder.pk)
    return Delivery(DeliveryOutcome.SENT)


AGREEMENT_SUBJECT = Subject(
    field="agreement",
    due=agreement_reminders_due,
    why_not_due=_why_not_due,
    message=agreement_message,
)


def retry_countdown(retries: int) -> int:
    """Seconds before retry number ``retries + 1``: 1, 2, 4, 8… times the base."""
    return settings.REMINDER_RETRY_BASE_SECONDS * 2**retries
