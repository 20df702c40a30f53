"""Reminders with real parts: a Celery worker process on Redis, PostgreSQL, concurrent sweeps,
and a worker killed in the middle of a delivery.

These need a database a separate worker process can share and PostgreSQL's concurrency, so they
run in the PostgreSQL pass (``DATABASE_URL=postgres://... pytest``) and skip on SQLite; the
worker tests also skip when Redis is not reachable. Each is bounded well under a minute.
"""

import datetime
import email
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.utils import timezone

from accounts.choices import Classification
from agreements.choices import DeliveryOutcome, ReminderStatus
from agreements.models import Reminder
from agreements.reminders import reminder_deliver, reminders_sweep
from agreements.tasks import sweep_reminders
from config.celery import app as celery_app

from .factories import AgreementFactory, EngagementFactory, UserFactory

READ = ["agreements.view_agreement"]  # reminders go only to people who may read
READ_ENGAGEMENTS = ["engagements.view_engagement"]
REDIS_URL = "redis://127.0.0.1:6379/2"  # db 2: this suite's own
DEADLINE = 40  # seconds any single wait may take

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def postgres():
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL: a worker process must share the test database, and concurrent "
            "sweeps need real row locking (runs with DATABASE_URL=postgres://...)"
        )


@pytest.fixture
def redis_broker(postgres):
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not reachable at 127.0.0.1:6379")
    client.flushdb()  # leftovers of an interrupted run would confuse the worker
    yield REDIS_URL
    client.flushdb()


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        f"/{db['NAME']}"
    )


class Workers:
    """Starts real ``celery worker`` processes against the test database; kills them after."""

    def __init__(self, tmp_path: Path, broker_url: str):
        self.tmp_path = tmp_path
        self.mail_dir = tmp_path / "mail"
        self.mail_dir.mkdir()
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": broker_url,
            "TEST_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "TEST_EMAIL_FILE_PATH": str(self.mail_dir),
        }
        self.processes: list[subprocess.Popen] = []
        self.logs: list[Path] = []

    def start(self, **env) -> subprocess.Popen:
        log = self.tmp_path / f"worker-{len(self.processes)}.log"
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker",
            "--pool", "prefork", "--concurrency", "1", "--loglevel", "INFO",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            "--hostname", f"test-{uuid.uuid4().hex[:8]}@%h",
        ]  # fmt: skip
        process = subprocess.Popen(
            command,
            cwd=settings.BASE_DIR,
            env={**self.env, **env},
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the pool child dies with it
        )
        self.processes.append(process)
        self.logs.append(log)
        return process

    def kill(self, process: subprocess.Popen, sig=signal.SIGKILL) -> None:
        if process.poll() is None:
            os.killpg(process.pid, sig)
        process.wait(timeout=20)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.kill(process)

    def log_text(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text()[-4000:]}" for log in self.logs)

    def emails(self) -> list[email.message.Message]:
        """Every message the file backend wrote (one file per connection, messages divided by
        a line of dashes)."""
        messages = []
        for path in sorted(self.mail_dir.glob("*.log")):
            for chunk in path.read_text().split("\n" + "-" * 79 + "\n"):
                if chunk.strip():
                    messages.append(email.message_from_string(chunk))
        return messages


@pytest.fixture
def workers(tmp_path, redis_broker):
    started = Workers(tmp_path, redis_broker)
    yield started
    started.stop_all()


def send_to_broker(broker_url: str, task, *args) -> None:
    """Queue a task on the real broker (the test process itself uses an in-memory one)."""
    with celery_app.connection_for_write(broker_url) as conn:
        task.apply_async(args=args, connection=conn)


def wait_for(condition, what: str, workers: Workers | None = None):
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    logs = workers.log_text() if workers else ""
    pytest.fail(f"Timed out after {DEADLINE}s waiting for {what}.\n{logs}")


def today() -> datetime.date:
    return timezone.localdate()


def test_worker_on_redis_sends_the_sweeps_emails(workers):
    owner = UserFactory(username="owner", clearance=Classification.SECRET, permissions=READ)
    cleared = UserFactory(
        username="cleared", clearance=Classification.CONFIDENTIAL, permissions=READ
    )
    uncleared = UserFactory(
        username="uncleared", clearance=Classification.RESTRICTED, permissions=READ
    )
    agreement = AgreementFactory(
        owner=owner,
        classification=Classification.CONFIDENTIAL,
        expires_on=today() + datetime.timedelta(days=7),
        office_email="desk@example.org",  # unclassified only, by default
    )
    agreement.watchers.set([cleared, uncleared])
    workers.start()
    send_to_broker(workers.env["CELERY_BROKER_URL"], sweep_reminders)

    sent = Reminder.objects.filter(status=ReminderStatus.SENT)
    wait_for(lambda: sent.count() == 2, "two reminders sent", workers)
    messages = wait_for(lambda: len(workers.emails()) >= 2 and workers.emails(), "two emails")
    assert sorted(m["To"] for m in messages) == ["cleared@example.org", "owner@example.org"]
    assert {m["X-Registry-Reminder"] for m in messages} == {str(r.pk) for r in sent}
    assert all(agreement.reference in m["Subject"] for m in messages)
    text = messages[0].get_payload()[0].get_payload()
    assert f"https://registry.example.test/agreements/{agreement.pk}/" in text
    assert "expires on" in text


def test_worker_on_redis_sends_engagement_reminders_once_to_those_cleared(workers):
    owner = UserFactory(
        username="owner", clearance=Classification.SECRET, permissions=READ_ENGAGEMENTS
    )
    cleared = UserFactory(
        username="cleared", clearance=Classification.CONFIDENTIAL, permissions=READ_ENGAGEMENTS
    )
    uncleared = UserFactory(
        username="uncleared", clearance=Classification.RESTRICTED, permissions=READ_ENGAGEMENTS
    )
    agreements_only = UserFactory(  # may read agreements, not engagements
        username="papers", clearance=Classification.SECRET, permissions=READ
    )
    starting = EngagementFactory(
        title="Exercise starting in a week",
        owner=owner,
        classification=Classification.CONFIDENTIAL,
        starts_on=today() + datetime.timedelta(days=7),
        ends_on=today() + datetime.timedelta(days=12),
    )
    starting.watchers.set([cleared, uncleared, agreements_only])
    EngagementFactory(
        title="Exercise with its report a week overdue",
        owner=owner,
        status="completed",
        starts_on=today() - datetime.timedelta(days=30),
        ends_on=today() - datetime.timedelta(days=20),
        after_action_due_on=today() - datetime.timedelta(days=7),
    )
    workers.start()
    broker = workers.env["CELERY_BROKER_URL"]
    send_to_broker(broker, sweep_reminders)

    sent = Reminder.objects.filter(status=ReminderStatus.SENT)
    wait_for(lambda: sent.count() == 3, "three engagement reminders sent", workers)
    messages = wait_for(lambda: len(workers.emails()) >= 3 and workers.emails(), "three emails")
    subjects = [" ".join(str(m["Subject"]).split()) for m in messages]  # unfolded
    titles = [subject.rsplit("): ", 1)[-1] for subject in subjects]
    assert sorted(zip((m["To"] for m in messages), titles, strict=True)) == [
        ("cleared@example.org", "Exercise starting in a week"),
        ("owner@example.org", "Exercise starting in a week"),
        ("owner@example.org", "Exercise with its report a week overdue"),
    ]
    assert sorted(sent.values_list("kind", "days_before")) == [
        ("after_action", -7),
        ("engagement_start", 7),
        ("engagement_start", 7),
    ]
    # A second sweep on the same day sends nothing again.
    send_to_broker(broker, sweep_reminders)
    time.sleep(3)
    assert Reminder.objects.count() == 3 and len(workers.emails()) == 3


def test_two_sweeps_at_the_same_moment_send_each_reminder_once(postgres):
    owners = [UserFactory(clearance=Classification.SECRET, permissions=READ) for _ in range(2)]
    for n in range(20):
        agreement = AgreementFactory(
            owner=owners[0],
            expires_on=today() + datetime.timedelta(days=7 + n % 3),
            next_review_on=today() + datetime.timedelta(days=n % 8),
            office_email=f"office{n % 4}@example.org",
        )
        agreement.watchers.set(owners)
    start = threading.Barrier(2)
    outcomes: list[list[str]] = [[], []]
    errors = []

    def run(index: int) -> None:
        try:
            start.wait(timeout=10)
            for pk in reminders_sweep():
                outcomes[index].append(reminder_deliver(reminder_id=pk).outcome)
        except Exception as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=DEADLINE)
    assert errors == []
    rows = Reminder.objects.all()
    # 20 agreements x (expiry + review) x (2 people + the office mailbox)
    assert rows.count() == 120
    assert set(rows.values_list("status", flat=True)) == {ReminderStatus.SENT}
    assert set(rows.values_list("attempts", flat=True)) == {1}
    assert sum(o == DeliveryOutcome.SENT for thread in outcomes for o in thread) == 120
    headers = [m.extra_headers["X-Registry-Reminder"] for m in mail.outbox]
    assert len(headers) == len(set(headers)) == 120


def test_worker_killed_mid_delivery_delivers_exactly_once_after_restart(workers):
    owner = UserFactory(username="owner", clearance=Classification.SECRET, permissions=READ)
    AgreementFactory(owner=owner, expires_on=today() + datetime.timedelta(days=7))
    marker = workers.tmp_path / "blocked"
    crash_env = {
        "TEST_EMAIL_BACKEND": "tests.mail_backends.BlockOnceBackend",
        "BLOCK_ONCE_MARKER": str(marker),
        # A claim this old is a dead worker's; the broker hands unacknowledged work back soon.
        "REMINDER_CLAIM_TIMEOUT": "3",
        "CELERY_BROKER_TRANSPORT_OPTIONS": json.dumps(
            {"visibility_timeout": 4, "unacked_restore_interval": 1, "unacked_restore_throttle": 1}
        ),
    }
    first = workers.start(**crash_env)
    send_to_broker(workers.env["CELERY_BROKER_URL"], sweep_reminders)
    wait_for(marker.exists, "the first worker to start sending", workers)
    workers.kill(first)  # SIGKILL, in the middle of the send

    reminder = Reminder.objects.get()
    assert (reminder.status, reminder.attempts) == (ReminderStatus.PENDING, 1)
    assert reminder.claimed_at is not None
    assert workers.emails() == []

    workers.start(**crash_env)
    wait_for(
        lambda: Reminder.objects.filter(status=ReminderStatus.SENT).exists(),
        "the restarted worker to deliver",
        workers,
    )
    time.sleep(3)  # room for a duplicate to show up, if there were one
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts) == (ReminderStatus.SENT, 2)
    messages = workers.emails()
    assert [m["X-Registry-Reminder"] for m in messages] == [str(reminder.pk)]
    assert messages[0]["To"] == "owner@example.org"
