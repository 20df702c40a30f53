"""The daily lifecycle: entry into force, automatic renewal, expiry; and reminders after."""

import datetime

import pytest
from django.core import mail

from accounts.choices import Classification
from accounts.groups import POLICY_STAFF
from agreements.choices import (
    AgreementStatus,
    DeliveryOutcome,
    EventKind,
    ReminderKind,
    ReminderStatus,
)
from agreements.lifecycle import lifecycle_run, renewed_expiry
from agreements.models import Reminder
from agreements.reminders import reminder_deliver, reminders_sweep
from agreements.tasks import run_lifecycle
from history.models import ChangeRecord

from .conftest import TODAY
from .factories import AgreementFactory, UserFactory

pytestmark = pytest.mark.django_db


def days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


def test_signed_agreement_enters_into_force_on_its_date(frozen_today):
    due = AgreementFactory(status=AgreementStatus.SIGNED, entered_into_force_on=TODAY)
    later = AgreementFactory(status=AgreementStatus.SIGNED, entered_into_force_on=days(1))
    report = lifecycle_run()
    due.refresh_from_db()
    later.refresh_from_db()
    assert (due.status, later.status) == (AgreementStatus.IN_FORCE, AgreementStatus.SIGNED)
    assert report.entered_into_force == [due.reference]
    assert list(due.events.values_list("kind", "date")) == [(EventKind.ENTERED_INTO_FORCE, TODAY)]
    change = ChangeRecord.objects.about(due).get(action="update")
    assert change.source == "lifecycle" and change.actor is None
    assert change.changes["status"] == ["signed", "in_force"]
    assert due.version == 2


def test_auto_renewing_agreement_rolls_forward_when_no_notice(frozen_today):
    agreement = AgreementFactory(
        expires_on=days(-1), auto_renews=True, renewal_period_months=12, notice_period_days=90
    )
    report = lifecycle_run()
    agreement.refresh_from_db()
    assert report.renewed == [agreement.reference]
    assert agreement.status == AgreementStatus.IN_FORCE
    assert agreement.expires_on == datetime.date(2027, 6, 14)
    # The notice deadline follows the new expiry, never the original one.
    assert agreement.notice_deadline == datetime.date(2027, 6, 14) - datetime.timedelta(days=90)
    [event] = agreement.events.all()
    assert (event.kind, event.date) == (EventKind.RENEWED, days(-1))
    assert "2027-06-14" in event.note
    change = ChangeRecord.objects.about(agreement).get(action="update")
    assert change.source == "lifecycle"
    assert change.changes["expires_on"] == ["2026-06-14", "2027-06-14"]
    assert lifecycle_run().renewed == []  # nothing more to do today


def test_renewal_repeats_until_the_expiry_is_ahead(frozen_today):
    agreement = AgreementFactory(
        signed_on=datetime.date(2015, 1, 1),
        entered_into_force_on=datetime.date(2015, 1, 31),
        expires_on=datetime.date(2020, 1, 31),
        auto_renews=True,
        renewal_period_months=24,
    )
    lifecycle_run()
    agreement.refresh_from_db()
    assert agreement.expires_on == datetime.date(2028, 1, 31)
    assert agreement.events.get().kind == EventKind.RENEWED


def test_renewed_expiry_counts_periods_from_the_original_date():
    assert renewed_expiry(datetime.date(2026, 1, 31), 1, datetime.date(2026, 3, 1)) == (
        datetime.date(2026, 3, 31)
    )
    assert renewed_expiry(datetime.date(2026, 6, 14), 12, TODAY) == datetime.date(2027, 6, 14)


@pytest.mark.parametrize("renewal", [{}, {"auto_renews": True, "renewal_period_months": 12}])
def test_others_expire(frozen_today, renewal):
    notice = {"notice_given_on": days(-200)} if renewal else {}
    agreement = AgreementFactory(expires_on=days(-1), **renewal, **notice)
    still = AgreementFactory(expires_on=TODAY)
    report = lifecycle_run()
    agreement.refresh_from_db()
    still.refresh_from_db()
    assert report.expired == [agreement.reference]
    assert (agreement.status, still.status) == (AgreementStatus.EXPIRED, AgreementStatus.IN_FORCE)
    assert list(agreement.events.values_list("kind", "date")) == [(EventKind.EXPIRED, days(-1))]
    assert ChangeRecord.objects.about(agreement).get(action="update").source == "lifecycle"


def test_an_invalid_agreement_is_reported_and_the_rest_still_run(frozen_today):
    broken = AgreementFactory(expires_on=days(-1), parties=[])  # in force with no parties
    fine = AgreementFactory(expires_on=days(-1))
    report = run_lifecycle.apply().get()
    broken.refresh_from_db()
    fine.refresh_from_db()
    assert list(report["failed"]) == [broken.reference]
    assert "two parties" in report["failed"][broken.reference]
    assert (broken.status, fine.status) == (AgreementStatus.IN_FORCE, AgreementStatus.EXPIRED)
    assert not broken.events.exists()


def test_renewed_dates_get_their_own_reminders(frozen_today):
    owner = UserFactory(username="owner", group=POLICY_STAFF, clearance=Classification.SECRET)
    agreement = AgreementFactory(
        owner=owner,
        expires_on=days(7),
        auto_renews=True,
        renewal_period_months=12,
        notice_period_days=30,
    )
    for pk in reminders_sweep(today=TODAY):  # expiry in 7 days
        reminder_deliver(reminder_id=pk, today=TODAY)
    # A notice reminder recorded for the old deadline is still waiting (say, it failed).
    stale_notice = Reminder.objects.create(
        agreement=agreement,
        kind=ReminderKind.NOTICE_DEADLINE,
        due_on=agreement.notice_deadline,
        days_before=1,
        recipient="owner@example.org",
    )
    lifecycle_run(today=days(8))
    agreement.refresh_from_db()
    new_expiry = datetime.date(2027, 6, 22)
    assert agreement.expires_on == new_expiry
    assert agreement.notice_deadline == new_expiry - datetime.timedelta(days=30)
    # The old row is cancelled at delivery: its date is no longer the agreement's.
    delivery = reminder_deliver(reminder_id=stale_notice.pk, today=days(8))
    assert delivery.outcome is DeliveryOutcome.CANCELLED
    # 30 days before the new notice deadline: a notice reminder for the new date.
    when = agreement.notice_deadline - datetime.timedelta(days=30)
    for pk in reminders_sweep(today=when):
        reminder_deliver(reminder_id=pk, today=when)
    notice = Reminder.objects.get(kind=ReminderKind.NOTICE_DEADLINE, status=ReminderStatus.SENT)
    assert (notice.due_on, notice.days_before) == (agreement.notice_deadline, 30)
    # And the new expiry gets its own 7-day reminder, although the old one was sent.
    when = new_expiry - datetime.timedelta(days=7)
    for pk in reminders_sweep(today=when):
        reminder_deliver(reminder_id=pk, today=when)
    expiry = Reminder.objects.filter(kind=ReminderKind.EXPIRY, status=ReminderStatus.SENT)
    assert sorted(expiry.values_list("due_on", "days_before")) == [
        (days(7), 7),
        (new_expiry, 7),
        (new_expiry, 90),  # sent with the notice reminder: 60 days left, the 90-day offset
    ]
    assert [m.subject.split(": ")[0] for m in mail.outbox] == [
        "[DCA Registry] Expiry in 7 days (2026-06-22)",
        "[DCA Registry] Expiry in 60 days (2027-06-22)",
        "[DCA Registry] Notice deadline in 30 days (2027-05-23)",
        "[DCA Registry] Expiry in 7 days (2027-06-22)",
    ]
