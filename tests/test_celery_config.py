"""The Celery app's configuration: safe serialisation, late acks, one task at a time, the
daily schedule, and the embedded broker's folders."""

from types import SimpleNamespace

from celery.schedules import crontab

from config.celery import _create_broker_folders
from config.celery import app as celery_app
from config.settings.base import _daily_at


def test_app_is_configured_for_safe_redelivery():
    conf = celery_app.conf
    assert conf.accept_content == ["json"]
    assert (conf.task_serializer, conf.result_serializer) == ("json", "json")
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert 0 < conf.task_soft_time_limit < conf.task_time_limit
    celery_app.loader.import_default_modules()  # what a worker does at start: autodiscovery
    assert {"agreements.tasks.sweep_reminders", "agreements.tasks.deliver_reminder"} <= set(
        celery_app.tasks
    )


def test_beat_runs_lifecycle_then_sweep_daily(settings):
    schedule = celery_app.conf.beat_schedule
    assert schedule["reminders-daily-sweep"]["task"] == "agreements.tasks.sweep_reminders"
    assert schedule["reminders-daily-sweep"]["schedule"] == crontab(hour=6, minute=0)
    assert schedule["agreements-lifecycle"]["schedule"] == crontab(hour=5, minute=45)
    assert celery_app.conf.timezone == settings.TIME_ZONE
    assert _daily_at("18:30") == crontab(hour=18, minute=30)


def test_filesystem_broker_folders_are_created(tmp_path):
    options = {
        "data_folder_in": str(tmp_path / "queue"),
        "data_folder_out": str(tmp_path / "queue"),
        "processed_folder": str(tmp_path / "processed"),
    }
    conf = SimpleNamespace(broker_url="filesystem://", broker_transport_options=options)
    _create_broker_folders(sender=SimpleNamespace(conf=conf))
    assert (tmp_path / "queue").is_dir() and (tmp_path / "processed").is_dir()


def test_beat_catches_up_on_start_when_the_daily_run_was_missed(db, partners):
    import datetime

    from django.core.cache import cache

    from agreements.models import Agreement
    from agreements.services import agreement_save
    from agreements.tasks import LAST_RUN_KEY, catch_up
    from config.celery import app

    today = datetime.date.today()
    signed = agreement_save(
        reference="DUE-TODAY",
        title="Enters into force today",
        type="dca",
        status="signed",
        signed_on=today - datetime.timedelta(days=30),
        entered_into_force_on=today - datetime.timedelta(days=1),
        parties=["USA", "PHL"],
    )
    cache.delete(LAST_RUN_KEY)
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        assert catch_up() is True  # never ran: runs now
        assert Agreement.objects.get(pk=signed.pk).status == "in_force"
        assert cache.get(LAST_RUN_KEY) == today.isoformat()
        assert catch_up() is False  # ran today: nothing more
        assert catch_up(today + datetime.timedelta(days=1)) is True  # a day missed
    finally:
        app.conf.task_always_eager = eager
        cache.delete(LAST_RUN_KEY)
