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
