"""The Celery app: settings from Django's (``CELERY_*``), tasks found in every app's tasks.py.

Run a worker with ``celery -A config worker`` and exactly one beat with ``celery -A config beat``
(or ``worker -B`` on one machine)."""

import os
from pathlib import Path

from celery import Celery
from celery.signals import beat_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _create_broker_folders(sender, **kwargs):
    """The filesystem broker needs its folders before the first message."""
    options = sender.conf.broker_transport_options or {}
    if str(sender.conf.broker_url or "").startswith("filesystem:"):
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            if options.get(key):
                Path(options[key]).mkdir(parents=True, exist_ok=True)


@beat_init.connect
def _catch_up_on_start(sender, **kwargs):
    """Beat starting after missing a day (or on a fresh install) runs the day's work now."""
    from agreements.tasks import catch_up

    catch_up()
