"""The daily lifecycle: agreements move with their dates.

- ``signed`` agreements whose entry into force is today or earlier become ``in_force``
  (event ``entered_into_force``);
- live agreements (signed, in force, suspended) whose expiry has passed either roll forward
  by ``renewal_period_months`` (auto-renewing, no notice given; repeated until the expiry is
  today or later; event ``renewed``) or become ``expired`` (event ``expired``).

Every change goes through ``agreement_save``, so the rules hold, the version goes up and the
history records the change as made by "lifecycle". The notice deadline follows the new expiry
(it is derived on save) and the renewed dates get their own reminders (a new ``due_on``).
Each agreement is its own transaction: one that fails validation is reported and skipped.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .choices import AgreementStatus, EventKind
from .dates import add_months
from .models import Agreement
from .services import agreement_save

logger = logging.getLogger(__name__)

SOURCE = "lifecycle"


@dataclass
class LifecycleReport:
    entered_into_force: list[str] = field(default_factory=list)
    renewed: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def renewed_expiry(expires_on: datetime.date, months: int, today: datetime.date) -> datetime.date:
    """``expires_on`` moved forward by whole renewal periods until it is today or later
    (each step from the original date, so month ends do not drift)."""
    periods = 1
    while (new := add_months(expires_on, months * periods)) < today:
        periods += 1
    return new


def _enter_into_force(agreement: Agreement, today: datetime.date) -> str | None:
    if agreement.status != AgreementStatus.SIGNED:
        return None
    if not agreement.entered_into_force_on or agreement.entered_into_force_on > today:
        return None
    events = []
    if not agreement.events.filter(kind=EventKind.ENTERED_INTO_FORCE).exists():
        events.append(
            {
                "kind": EventKind.ENTERED_INTO_FORCE,
                "date": agreement.entered_into_force_on,
                "note": "Entered into force on its date (recorded by the registry).",
            }
        )
    agreement_save(
        agreement=agreement, status=AgreementStatus.IN_FORCE, add_events=events, source=SOURCE
    )
    return "entered_into_force"


def _renew_or_expire(agreement: Agreement, today: datetime.date) -> str | None:
    if agreement.status not in AgreementStatus.live():
        return None
    old = agreement.expires_on
    if old is None or old >= today:
        return None
    if agreement.auto_renews and agreement.renewal_period_months and not agreement.notice_given_on:
        new = renewed_expiry(old, agreement.renewal_period_months, today)
        note = (
            f"Renewed automatically ({agreement.renewal_period_months}-month period, no "
            f"notice given); now expires on {new.isoformat()}."
        )
        agreement_save(
            agreement=agreement,
            expires_on=new,
            add_events=[{"kind": EventKind.RENEWED, "date": old, "note": note}],
            source=SOURCE,
        )
        return "renewed"
    note = "Expired (recorded by the registry)."
    agreement_save(
        agreement=agreement,
        status=AgreementStatus.EXPIRED,
        add_events=[{"kind": EventKind.EXPIRED, "date": old, "note": note}],
        source=SOURCE,
    )
    return "expired"


def _step(report: LifecycleReport, pk: int, today: datetime.date, action) -> None:
    reference = ""
    try:
        with transaction.atomic():
            agreement = Agreement.objects.select_for_update().get(pk=pk)
            reference = agreement.reference
            outcome = action(agreement, today)
    except ValidationError as exc:
        report.failed[reference or str(pk)] = "; ".join(exc.messages)
        logger.warning("Lifecycle could not change %s: %s", reference or pk, exc.messages)
        return
    except Agreement.DoesNotExist:
        return
    if outcome:
        getattr(report, outcome).append(reference)


def lifecycle_run(*, today: datetime.date | None = None) -> LifecycleReport:
    """Apply the lifecycle rules for ``today`` (default: today in the configured time zone).
    Safe to run again and twice at once: each change re-checks its condition under a row
    lock."""
    today = today or timezone.localdate()
    report = LifecycleReport()
    due_in_force = Agreement.objects.filter(
        status=AgreementStatus.SIGNED, entered_into_force_on__lte=today
    ).values_list("pk", flat=True)
    for pk in list(due_in_force):
        _step(report, pk, today, _enter_into_force)
    past_expiry = Agreement.objects.filter(
        status__in=AgreementStatus.live(), expires_on__lt=today
    ).values_list("pk", flat=True)
    for pk in list(past_expiry):
        _step(report, pk, today, _renew_or_expire)
    return report
