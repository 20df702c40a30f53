"""The reminder sweep and delivery: offsets, catch-up, recipients and clearance, at most once."""

import datetime

import pytest
from celery.signals import task_retry
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from accounts.choices import Classification
from accounts.groups import POLICY_STAFF
from agreements.choices import AgreementStatus, DeliveryOutcome, ReminderKind, ReminderStatus
from agreements.models import Agreement, Reminder
from agreements.reminders import (
    current_offset,
    reminder_deliver,
    reminders_plan,
    reminders_sweep,
    retry_countdown,
)
from agreements.services import agreement_save
from agreements.tasks import deliver_reminder

from .conftest import TODAY
from .factories import AgreementFactory, UserFactory

pytestmark = pytest.mark.django_db


def days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


def sweep(today=TODAY) -> list[str]:
    """Run the sweep and deliver inline; the outcomes of the deliveries."""
    return [
        reminder_deliver(reminder_id=pk, today=today).outcome for pk in reminders_sweep(today=today)
    ]


@pytest.fixture
def owner(db):
    return UserFactory(username="owner", group=POLICY_STAFF, clearance=Classification.SECRET)


def agreement_with(owner, **fields):
    fields.setdefault("office_email", "")
    agreement = AgreementFactory(owner=owner, **fields)
    return agreement


# Offsets ----------------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [180, 90, 30, 7])
def test_expiry_reminder_on_each_offset(owner, frozen_today, offset):
    agreement = agreement_with(owner, expires_on=days(offset))
    assert sweep() == ["sent"]
    reminder = Reminder.objects.get()
    assert (reminder.kind, reminder.due_on, reminder.days_before) == (
        "expiry",
        days(offset),
        offset,
    )
    assert (reminder.status, reminder.recipient, reminder.attempts) == (
        "sent",
        "owner@example.org",
        1,
    )
    assert reminder.sent_at is not None
    [message] = mail.outbox
    assert message.to == ["owner@example.org"]
    assert agreement.reference in message.subject
    assert f"in {offset} days" in message.subject
    assert f"https://registry.example.test/agreements/{agreement.pk}/" in message.body


@pytest.mark.parametrize("offset", [60, 30, 7, 1])
def test_notice_deadline_reminder_on_each_offset(owner, frozen_today, offset):
    # Expiry far enough away that no expiry offset is due at the same time.
    agreement_with(owner, expires_on=days(offset + 200), notice_period_days=200)
    sweep()
    [reminder] = Reminder.objects.filter(kind=ReminderKind.NOTICE_DEADLINE)
    assert (reminder.due_on, reminder.days_before) == (days(offset), offset)
    assert "notice of non-renewal" in mail.outbox[-1].body


def test_no_notice_reminder_once_notice_was_given(owner, frozen_today):
    agreement_with(owner, expires_on=days(230), notice_period_days=200, notice_given_on=days(-1))
    assert sweep() == []


@pytest.mark.parametrize("offset", [30, 7, 0])
def test_review_reminder_on_each_offset(owner, frozen_today, offset):
    agreement_with(owner, next_review_on=days(offset))
    assert sweep() == ["sent"]
    reminder = Reminder.objects.get()
    assert (reminder.kind, reminder.due_on, reminder.days_before) == (
        "review",
        days(offset),
        offset,
    )
    expected = {0: "today", 7: "in 7 days", 30: "in 30 days"}[offset]
    assert expected in mail.outbox[0].subject


def test_nothing_before_the_first_offset_nor_after_the_date(owner, frozen_today):
    agreement_with(owner, expires_on=days(181), next_review_on=days(-1))
    assert sweep() == []
    assert not Reminder.objects.exists()


def test_dates_of_a_finished_or_unsigned_agreement_are_not_reminded(owner, frozen_today):
    agreement_with(owner, status=AgreementStatus.DRAFT, expires_on=days(7), next_review_on=days(7))
    agreement_with(owner, status=AgreementStatus.EXPIRED, next_review_on=days(7))
    sweep()
    # The draft's review still matters; its expiry and the expired agreement's review do not.
    assert list(Reminder.objects.values_list("kind", "agreement__status")) == [("review", "draft")]


# Catch-up and never twice -----------------------------------------------------------------


def test_catch_up_sends_only_the_most_urgent_offset(owner, frozen_today):
    agreement_with(owner, expires_on=days(5))  # 180, 90, 30 and 7 all fell due unsent
    assert sweep() == ["sent"]
    assert list(Reminder.objects.values_list("days_before", flat=True)) == [7]
    assert len(mail.outbox) == 1


def test_a_delivered_offset_is_never_sent_again(owner, frozen_today):
    agreement_with(owner, expires_on=days(30))
    sweep()
    assert sweep() == []  # the same day again
    assert sweep(days(1)) == []  # the next day: 29 days left, the 30-day reminder went out
    assert len(mail.outbox) == 1


def test_daily_sweeps_send_each_offset_once_up_to_the_date(owner):
    agreement = agreement_with(owner, expires_on=days(200))
    for day in range(0, 202):
        sweep(days(day))
    sent = Reminder.objects.filter(agreement=agreement, status=ReminderStatus.SENT)
    assert sorted(sent.values_list("days_before", flat=True)) == [7, 30, 90, 180]
    assert len(mail.outbox) == 4


def test_current_offset_rule():
    offsets = [180, 90, 30, 7]
    assert current_offset(offsets, days(200), TODAY) is None
    assert current_offset(offsets, days(180), TODAY) == 180
    assert current_offset(offsets, days(100), TODAY) == 180
    assert current_offset(offsets, days(90), TODAY) == 90
    assert current_offset(offsets, days(8), TODAY) == 30
    assert current_offset(offsets, days(0), TODAY) == 7
    assert current_offset(offsets, days(-1), TODAY) is None
    assert current_offset([30, 7, 0], days(0), TODAY) == 0


def test_an_agreement_may_set_its_own_offsets(owner, frozen_today):
    agreement = agreement_with(owner, expires_on=days(45), reminder_offsets={"expiry": [45, 3]})
    assert sweep() == ["sent"]
    assert Reminder.objects.get().days_before == 45
    assert sweep(days(15)) == []  # 30 days left: the default 30-day offset does not apply here
    agreement_save(agreement=agreement, reminder_offsets={"expiry": []})
    assert sweep(days(42)) == []


@pytest.mark.parametrize(
    "value",
    [
        [7],
        {"expiry": 7},
        {"expiry": [-1]},
        {"expiry": [7, 7]},
        {"birthday": [7]},
        {"review": [True]},
    ],
)
def test_bad_own_offsets_are_a_clear_error(value):
    agreement = AgreementFactory.build(reminder_offsets=value)
    with pytest.raises(ValidationError) as caught:
        agreement.clean()
    assert "reminder_offsets" in caught.value.message_dict


# Recipients and clearance -----------------------------------------------------------------


def test_owner_watchers_and_office_each_once_and_only_if_cleared(
    owner, viewer, analyst, editor, frozen_today, settings
):
    settings.REMINDER_OFFICE_MAX_CLASSIFICATION = Classification.CONFIDENTIAL
    twin = UserFactory(username="twin", email="OWNER@example.org", clearance=Classification.SECRET)
    gone = UserFactory(username="gone", clearance=Classification.SECRET, is_active=False)
    agreement = agreement_with(
        owner,
        classification=Classification.CONFIDENTIAL,
        expires_on=days(7),
        office_email="Desk@Example.org",
    )
    agreement.watchers.set([viewer, analyst, editor, twin, gone])
    sweep()
    sent_to = sorted(message.to[0] for message in mail.outbox)
    assert sent_to == [
        "analyst@example.org",
        "desk@example.org",
        "editor@example.org",
        "owner@example.org",
    ]


def test_classified_agreement_never_mailed_to_uncleared_watcher_or_office(
    owner, viewer, frozen_today
):
    agreement = agreement_with(
        owner,
        classification=Classification.SECRET,
        expires_on=days(7),
        office_email="desk@example.org",
    )
    agreement.watchers.set([viewer])
    sweep()
    assert [message.to for message in mail.outbox] == [["owner@example.org"]]
    assert not Reminder.objects.filter(recipient__in=["viewer@example.org", "desk@example.org"])


def test_someone_cleared_but_without_the_read_permission_is_sent_nothing(
    owner, outsider, frozen_today
):
    """Cleared to secret but in no group (403 on every page): no reminder, not even a row."""
    agreement = agreement_with(
        outsider, classification=Classification.CONFIDENTIAL, expires_on=days(7)
    )
    agreement.watchers.set([outsider, owner])
    assert sweep() == ["sent"]
    assert [message.to for message in mail.outbox] == [["owner@example.org"]]
    assert not Reminder.objects.filter(recipient="outsider@example.org").exists()


def test_the_read_permission_may_be_given_directly_and_superusers_have_it(frozen_today):
    from django.contrib.auth.models import Permission

    direct = UserFactory(username="direct", clearance=Classification.CONFIDENTIAL)
    direct.user_permissions.add(Permission.objects.get(codename="view_agreement"))
    chief = UserFactory(username="chief", is_superuser=True)  # no group, no clearance set
    agreement = agreement_with(
        chief, classification=Classification.CONFIDENTIAL, expires_on=days(7)
    )
    agreement.watchers.set([direct])
    sweep()
    assert sorted(message.to[0] for message in mail.outbox) == [
        "chief@example.org",
        "direct@example.org",
    ]


def test_losing_the_read_permission_before_delivery_cancels_it(owner, frozen_today):
    agreement_with(owner, expires_on=days(7))
    [pk] = reminders_sweep(today=TODAY)
    owner.groups.clear()
    assert reminder_deliver(reminder_id=pk).outcome is DeliveryOutcome.CANCELLED
    assert "may not read it" in Reminder.objects.get().error
    assert mail.outbox == []


def test_reclassified_before_delivery_is_cancelled_not_sent(viewer, frozen_today):
    agreement = agreement_with(viewer, expires_on=days(7))
    [pk] = reminders_sweep(today=TODAY)
    # Written behind the registry's back: agreement_save itself refuses to classify an
    # agreement above its owner's clearance. Delivery must still check.
    Agreement.objects.filter(pk=agreement.pk).update(classification=Classification.SECRET)
    assert reminder_deliver(reminder_id=pk).outcome is DeliveryOutcome.CANCELLED
    assert Reminder.objects.get().status == ReminderStatus.CANCELLED
    assert mail.outbox == []


# Delivering once; failures ---------------------------------------------------------------


def test_a_claimed_or_sent_row_is_not_delivered_again(owner, frozen_today):
    agreement_with(owner, expires_on=days(7))
    [pk] = reminders_sweep(today=TODAY)
    assert reminder_deliver(reminder_id=pk).outcome is DeliveryOutcome.SENT
    assert reminder_deliver(reminder_id=pk).outcome is DeliveryOutcome.DONE
    # The task's result is the plain value (a result backend stores it as JSON).
    result = deliver_reminder.apply(args=[pk]).get()
    assert (type(result), result) == (str, DeliveryOutcome.DONE.value)
    assert len(mail.outbox) == 1


def test_delivering_a_reminder_that_is_gone_says_so(db):
    assert reminder_deliver(reminder_id=987654).outcome is DeliveryOutcome.MISSING
    assert mail.outbox == []


def test_a_live_claim_is_respected_and_a_stale_one_taken_over(owner, settings, frozen_today):
    agreement_with(owner, expires_on=days(7))
    [pk] = reminders_sweep(today=TODAY)
    now = datetime.datetime(2026, 6, 15, 12, 0, tzinfo=datetime.UTC)
    Reminder.objects.filter(pk=pk).update(claimed_at=now - datetime.timedelta(seconds=10))
    settings.REMINDER_CLAIM_TIMEOUT = 60
    busy = reminder_deliver(reminder_id=pk)
    assert (busy.outcome, busy.retry_in) == (DeliveryOutcome.BUSY, 51)
    assert mail.outbox == []
    settings.REMINDER_CLAIM_TIMEOUT = 5  # the claim is now older than the timeout
    assert reminder_deliver(reminder_id=pk).outcome is DeliveryOutcome.SENT
    assert len(mail.outbox) == 1


def test_failed_send_is_recorded_and_retried_with_backoff(owner, settings, frozen_today):
    settings.EMAIL_BACKEND = "tests.mail_backends.FailOnceBackend"
    agreement_with(owner, expires_on=days(7))
    [pk] = reminders_sweep(today=TODAY)
    countdowns = []

    def on_retry(sender=None, request=None, reason=None, **kwargs):
        countdowns.append(reason.when)

    task_retry.connect(on_retry, weak=False)
    try:
        result = deliver_reminder.apply(args=[pk])
    finally:
        task_retry.disconnect(on_retry)
    assert result.get() == DeliveryOutcome.SENT
    assert countdowns == [60]
    reminder = Reminder.objects.get()
    assert (reminder.status, reminder.attempts) == (ReminderStatus.SENT, 2)
    # The first attempt's error is not left beside a sent status.
    assert reminder.error == ""
    assert len(mail.outbox) == 1


def test_delivery_that_keeps_failing_gives_up_recorded(owner, settings, frozen_today):
    settings.EMAIL_BACKEND = "tests.mail_backends.FailingBackend"
    agreement_with(owner, expires_on=days(7))
    [pk] = reminders_sweep(today=TODAY)
    countdowns = []

    def on_retry(sender=None, request=None, reason=None, **kwargs):
        countdowns.append(reason.when)

    task_retry.connect(on_retry, weak=False)
    try:
        result = deliver_reminder.apply(args=[pk])
    finally:
        task_retry.disconnect(on_retry)
    assert result.failed()
    assert countdowns == [retry_countdown(n) for n in range(6)] == [60, 120, 240, 480, 960, 1920]
    reminder = Reminder.objects.get()
    assert (reminder.status, reminder.attempts, reminder.sent_at) == ("failed", 7, None)
    assert "SMTPRecipientsRefused" in reminder.error
    # A row that used up its retries is not queued again by the next sweep.
    assert reminders_sweep(today=TODAY) == []


# The command ------------------------------------------------------------------------------


def test_dry_run_lists_and_sends_nothing(owner, frozen_today, capsys):
    agreement = agreement_with(owner, expires_on=days(30), office_email="desk@example.org")
    call_command("send_reminders", "--dry-run")
    out = capsys.readouterr().out
    assert "Would send 2 reminder(s)" in out
    assert agreement.reference in out and "desk@example.org" in out
    assert not Reminder.objects.exists()
    assert mail.outbox == []


def test_dry_run_counts_days_in_english(owner, frozen_today, capsys):
    agreement_with(owner, expires_on=days(1), reminder_offsets={"expiry": [1]})
    agreement_with(owner, expires_on=days(7))
    call_command("send_reminders", "--dry-run")
    out = capsys.readouterr().out
    assert "(1 day before)" in out and "(7 days before)" in out
    assert "1 days" not in out


def test_command_sends_as_of_a_date(owner, frozen_today, capsys):
    agreement_with(owner, expires_on=days(100))
    call_command("send_reminders", "--as-of", days(10).isoformat())  # 90 days left then
    assert "Sent 1 reminder(s)" in capsys.readouterr().out
    assert Reminder.objects.get().days_before == 90
    call_command("send_reminders", "--as-of", days(10).isoformat())
    assert len(mail.outbox) == 1
    assert reminders_plan(today=days(10)) == []


def test_command_rejects_a_bad_date():
    with pytest.raises(CommandError, match="--as-of: '2026-13-01' is not a date"):
        call_command("send_reminders", "--as-of", "2026-13-01")
