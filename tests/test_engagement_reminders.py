"""Reminders about engagements: before the start (30/7/1 days) and of the after-action report
(on the due day and a week after), exactly once each, with catch-up, recipients who may read
the engagement at send time, and stopping once it is cancelled, postponed or assessed."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command

from accounts.choices import Classification
from accounts.groups import POLICY_STAFF, REGISTRY_ADMINS
from agreements.choices import ReminderKind, ReminderStatus
from agreements.models import Reminder
from agreements.reminders import reminder_deliver, reminders_plan, reminders_sweep
from engagements.choices import EngagementStatus
from engagements.services import engagement_save

from .api_helpers import client_for
from .conftest import TODAY
from .factories import AgreementFactory, EngagementFactory, NationFactory, UserFactory

pytestmark = pytest.mark.django_db

START = ReminderKind.ENGAGEMENT_START
AFTER = ReminderKind.AFTER_ACTION


def days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


def sweep(today=TODAY) -> list[str]:
    """Run the sweep and deliver inline; the outcomes of the deliveries."""
    return [
        reminder_deliver(reminder_id=pk, today=today).outcome for pk in reminders_sweep(today=today)
    ]


def sent() -> list[tuple]:
    return list(
        Reminder.objects.filter(status=ReminderStatus.SENT)
        .order_by("sent_at", "pk")
        .values_list("kind", "due_on", "days_before", "recipient")
    )


@pytest.fixture
def owner(db):
    return UserFactory(username="owner", group=POLICY_STAFF, clearance=Classification.SECRET)


def starting(owner, n: int, **fields) -> object:
    """An engagement of ``owner`` starting in ``n`` days (ten days long)."""
    fields.setdefault("starts_on", days(n))
    fields.setdefault("ends_on", fields["starts_on"] + datetime.timedelta(days=10))
    return EngagementFactory(owner=owner, **fields)


def reporting(owner, n: int, **fields) -> object:
    """A completed engagement of ``owner`` whose after-action report is due in ``n`` days
    (negative: ``-n`` days ago)."""
    due = days(n)
    fields.setdefault("participants", [NationFactory(), NationFactory()])
    return EngagementFactory(
        owner=owner,
        status=EngagementStatus.COMPLETED,
        starts_on=due - datetime.timedelta(days=30),
        ends_on=due - datetime.timedelta(days=20),
        after_action_due_on=due,
        **fields,
    )


# Before the start ------------------------------------------------------------------------


@pytest.mark.parametrize("offset", [30, 7, 1])
def test_start_reminder_on_each_offset_once(owner, frozen_today, offset):
    engagement = starting(owner, offset, title="Balikatan 2026", location="Luzon")
    assert sweep() == ["sent"]
    reminder = Reminder.objects.get()
    assert reminder.engagement == engagement
    assert reminder.agreement is None and reminder.posting is None
    assert (reminder.kind, reminder.due_on, reminder.days_before) == (START, days(offset), offset)
    [message] = mail.outbox
    assert message.to == ["owner@example.org"]
    assert "Balikatan 2026" in message.subject
    assert ("tomorrow" if offset == 1 else f"in {offset} days") in message.subject
    assert f"https://registry.example.test/engagements/{engagement.pk}/" in message.body
    assert "Luzon" in message.body and "Unclassified" in message.body
    html = message.alternatives[0][0]
    assert "Balikatan 2026" in html and "<script" not in html
    # Exactly once: the same day again, and the days up to the next offset, add nothing.
    assert sweep() == [] and sweep(days(1)) == []
    assert len(mail.outbox) == 1


def test_every_offset_once_over_the_days_before_the_start(owner, frozen_today):
    starting(owner, 40)
    for n in range(0, 45):
        sweep(days(n))
    assert [(d, s) for _, d, s, _ in sent()] == [(days(40), 30), (days(40), 7), (days(40), 1)]
    assert len(mail.outbox) == 3


def test_catch_up_sends_the_most_urgent_offset_only(owner, frozen_today):
    # Swept 30 days before, then not again until 3 days before: the 7-day one, not a burst.
    starting(owner, 30)
    sweep()
    assert sweep(days(27)) == ["sent"]
    assert [s for _, _, s, _ in sent()] == [30, 7]
    # Recorded with 5 days left and never swept before: only the 7-day one.
    other = UserFactory(username="late", group=POLICY_STAFF)
    starting(other, 5, title="Late entry")
    assert sweep() == ["sent"]
    assert Reminder.objects.get(recipient="late@example.org").days_before == 7


def test_no_start_reminder_before_the_first_offset_nor_once_started(owner, frozen_today):
    starting(owner, 31)
    starting(owner, -1)
    assert sweep() == [] and reminders_plan(today=TODAY) == []


def test_cancelled_or_postponed_engagements_are_not_reminded(owner, frozen_today):
    starting(owner, 7, status=EngagementStatus.CANCELLED)
    starting(owner, 7, status=EngagementStatus.POSTPONED)
    assert sweep() == []


@pytest.mark.parametrize("status", [EngagementStatus.CANCELLED, EngagementStatus.POSTPONED])
def test_a_pending_reminder_stops_when_the_engagement_is_called_off(owner, frozen_today, status):
    engagement = starting(owner, 7)
    [pk] = reminders_sweep(today=TODAY)
    engagement_save(engagement=engagement, status=status)
    assert reminder_deliver(reminder_id=pk, today=TODAY).outcome == "cancelled"
    reminder = Reminder.objects.get()
    assert reminder.status == ReminderStatus.CANCELLED
    assert reminder.error == f"No longer due: the engagement is {status.label.lower()}."
    assert mail.outbox == [] and sweep() == []


def test_a_moved_start_cancels_the_pending_reminder_and_the_new_date_is_reminded(
    owner, frozen_today
):
    engagement = starting(owner, 7)
    [pk] = reminders_sweep(today=TODAY)
    engagement_save(engagement=engagement, starts_on=days(1), ends_on=days(5))
    assert reminder_deliver(reminder_id=pk, today=TODAY).outcome == "cancelled"
    assert Reminder.objects.get(pk=pk).error == (
        "No longer due: the date changed or the engagement's status makes it moot."
    )
    assert sweep() == ["sent"]
    assert [(d, s) for _, d, s, _ in sent()] == [(days(1), 1)]


def test_offsets_come_from_settings(owner, frozen_today, settings):
    settings.ENGAGEMENT_REMINDER_OFFSETS = [14, 2]
    starting(owner, 14)
    starting(owner, 7)  # no 7-day offset any more: the 14-day one is the most urgent ahead
    starting(owner, 30)
    assert sweep() == ["sent", "sent"]
    assert sorted(s for _, _, s, _ in sent()) == [14, 14]


# Recipients and clearance ----------------------------------------------------------------


def test_owner_and_watchers_who_may_read_it_each_once(owner, frozen_today):
    cleared = UserFactory(
        username="cleared", group=POLICY_STAFF, clearance=Classification.CONFIDENTIAL
    )
    uncleared = UserFactory(
        username="uncleared", group=POLICY_STAFF, clearance=Classification.RESTRICTED
    )
    no_permission = UserFactory(username="noperm", clearance=Classification.SECRET)
    inactive = UserFactory(
        username="gone", group=POLICY_STAFF, clearance=Classification.SECRET, is_active=False
    )
    same_address = UserFactory(
        username="twin", group=POLICY_STAFF, clearance=Classification.SECRET,
        email="OWNER@example.org",
    )  # fmt: skip
    engagement = starting(owner, 7, classification=Classification.CONFIDENTIAL)
    engagement.watchers.set([cleared, uncleared, no_permission, inactive, same_address])
    assert sweep() == ["sent", "sent"]
    assert sorted(m.to[0] for m in mail.outbox) == ["cleared@example.org", "owner@example.org"]


def test_clearance_and_permission_are_checked_again_at_send_time(owner, frozen_today):
    watcher = UserFactory(username="watcher", group=POLICY_STAFF, clearance=Classification.SECRET)
    leaver = UserFactory(username="leaver", group=POLICY_STAFF, clearance=Classification.SECRET)
    engagement = starting(owner, 7, classification=Classification.CONFIDENTIAL)
    engagement.watchers.set([watcher, leaver])
    ids = reminders_sweep(today=TODAY)
    assert len(ids) == 3
    # Between the sweep and the delivery: one watcher loses clearance, the other the
    # permission; then the engagement is reclassified above the owner.
    watcher.clearance = Classification.RESTRICTED
    watcher.save()
    leaver.groups.clear()
    outcomes = {
        Reminder.objects.get(pk=pk).recipient: reminder_deliver(reminder_id=pk, today=TODAY).outcome
        for pk in ids
    }
    assert outcomes == {
        "owner@example.org": "sent",
        "watcher@example.org": "cancelled",
        "leaver@example.org": "cancelled",
    }
    assert [m.to for m in mail.outbox] == [["owner@example.org"]]
    cancelled = Reminder.objects.filter(status=ReminderStatus.CANCELLED)
    assert {r.error for r in cancelled} == {
        "No longer due to this recipient (not responsible for it, or may not read it)."
    }


def test_a_reclassified_engagement_is_not_mailed_to_the_uncleared(frozen_today):
    owner = UserFactory(username="owner", group=POLICY_STAFF, clearance=Classification.CONFIDENTIAL)
    engagement = starting(owner, 7, classification=Classification.CONFIDENTIAL)
    [pk] = reminders_sweep(today=TODAY)
    engagement.classification = Classification.SECRET  # raised above the owner meanwhile
    engagement.save()
    assert reminder_deliver(reminder_id=pk, today=TODAY).outcome == "cancelled"
    assert mail.outbox == []
    assert sweep(days(6)) == []  # and later offsets are not recorded for them either


def test_reminder_list_hides_reminders_of_engagements_out_of_reach(owner, frozen_today):
    low_admin = UserFactory(
        username="lowadmin", group=REGISTRY_ADMINS, clearance=Classification.UNCLASSIFIED
    )
    secret = starting(owner, 7, title="Secret exercise", classification=Classification.SECRET)
    public = starting(owner, 1, title="Open exercise")
    sweep()
    rows = client_for(owner).get("/api/v1/reminders/").json()["results"]
    assert sorted(r["engagement"]["title"] for r in rows) == ["Open exercise", "Secret exercise"]
    assert {r["agreement"] for r in rows} == {None}
    [row] = [r for r in rows if r["engagement"]["id"] == public.pk]
    assert (row["kind"], row["days_before"]) == ("engagement_start", 1)
    assert row["engagement"]["url"].endswith(f"/api/v1/engagements/{public.pk}/")
    # A registry admin sees every reminder, except those about what is above their clearance.
    rows = client_for(low_admin).get("/api/v1/reminders/").json()["results"]
    assert [r["engagement"]["id"] for r in rows] == [public.pk]
    assert secret.pk not in {r["engagement"]["id"] for r in rows}


# The after-action report -----------------------------------------------------------------


def test_after_action_on_the_due_day_and_a_week_after_exactly_once_each(owner, frozen_today):
    engagement = reporting(owner, 0, title="Talisman Sabre")
    for n in range(0, 30):
        sweep(days(n))
    assert sent() == [
        (AFTER, days(0), 0, "owner@example.org"),
        (AFTER, days(0), -7, "owner@example.org"),
    ]
    first, second = mail.outbox
    assert "After-action report due today" in first.subject
    assert "Talisman Sabre" in first.subject
    assert "After-action report overdue by 7 days" in second.subject
    assert "was due on" in second.body and "Record the outcome" in second.body
    assert f"/engagements/{engagement.pk}/" in second.body


def test_after_action_catch_up_sends_the_latest_only_and_not_long_overdue_ones(owner, frozen_today):
    reporting(owner, -3, title="Missed the day")  # the 0-day one, three days late
    reporting(owner, -9, title="Missed both")  # the 7-day one only
    reporting(owner, -15, title="Too late")  # past the week of catch-up after the last one
    assert sorted(sweep()) == ["sent", "sent"]
    assert sorted((d, s) for _, d, s, _ in sent()) == [(days(-9), -7), (days(-3), 0)]
    assert sweep(days(1)) == []


def test_a_recorded_outcome_stops_the_after_action_reminders(owner, frozen_today):
    engagement = reporting(owner, -3)
    # The due-day one went out (three days late); the week-after one is recorded but not
    # yet delivered when the outcome is recorded.
    assert sweep() == ["sent"]
    [pk] = reminders_sweep(today=days(4))
    engagement_save(engagement=engagement, outcome="met", outcome_notes="All objectives met.")
    assert reminder_deliver(reminder_id=pk, today=days(4)).outcome == "cancelled"
    error = Reminder.objects.get(pk=pk).error
    assert error == "No longer due: the after-action outcome is recorded."
    assert sweep(days(5)) == [] and reminders_plan(today=days(5)) == []
    assert len(mail.outbox) == 1


def test_an_outcome_recorded_early_means_no_after_action_reminder(owner, frozen_today):
    reporting(owner, 0, outcome="partly_met")
    assert sweep() == []


def test_after_action_offsets_come_from_settings(owner, frozen_today, settings):
    settings.ENGAGEMENT_AFTER_ACTION_OFFSETS = [0, 3, 10]
    settings.ENGAGEMENT_AFTER_ACTION_CATCH_UP_DAYS = 0
    reporting(owner, 0)
    for n in range(0, 20):
        sweep(days(n))
    assert [s for _, _, s, _ in sent()] == [0, -3, -10]


def test_start_and_after_action_of_one_engagement_are_separate(owner, frozen_today):
    EngagementFactory(
        owner=owner,
        starts_on=days(7),
        ends_on=days(8),
        after_action_due_on=days(7),
    )
    for n in range(0, 20):
        sweep(days(n))
    assert [(k, s) for k, _, s, _ in sent()] == [
        (START, 7),
        (START, 1),
        (AFTER, 0),
        (AFTER, -7),
    ]


# The row and the command -----------------------------------------------------------------


def test_the_reminder_row_names_exactly_one_subject(owner):
    engagement = starting(owner, 7)
    agreement = AgreementFactory()
    common = {"kind": START, "due_on": TODAY, "days_before": 7, "recipient": "x@example.org"}
    with pytest.raises(ValidationError):
        Reminder(agreement=agreement, engagement=engagement, **common).full_clean()
    Reminder(engagement=engagement, **common).full_clean()
    row = Reminder.objects.create(engagement=engagement, **common)
    assert row.subject == engagement and row.subject_field == "engagement"


def test_send_reminders_dry_run_lists_engagement_reminders(owner, frozen_today, capsys):
    starting(owner, 7, title="Keen Sword", participants=[NationFactory(iso3="JPN")])
    reporting(owner, -8, title="Cobra Gold")
    call_command("send_reminders", "--dry-run", "--as-of", TODAY.isoformat())
    out = capsys.readouterr().out
    assert "Would send 2 reminder(s)" in out
    assert "Keen Sword" in out and "(7 days before)  to owner@example.org" in out
    assert "Cobra Gold" in out and "(7 days after)  to owner@example.org" in out
    assert not Reminder.objects.exists()
