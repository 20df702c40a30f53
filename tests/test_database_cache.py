"""The database cache's set is one statement (``config.cache.DatabaseCache``), on SQLite and
PostgreSQL, and behaves as Django's: values replaced, expiry kept, culling still done."""

import datetime

import pytest
import time_machine
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from config.cache import DatabaseCache

pytestmark = pytest.mark.django_db

DB_CACHE = {
    "default": {
        "BACKEND": "config.cache.DatabaseCache",
        "LOCATION": "registry_cache",
        "OPTIONS": {"MAX_ENTRIES": 5, "CULL_FREQUENCY": 2},
    }
}


@pytest.fixture
def cache():
    with override_settings(CACHES=DB_CACHE):
        call_command("createcachetable", verbosity=0)
        cache = caches["default"]
        assert isinstance(cache, DatabaseCache)
        yield cache


def test_settings_pick_the_one_statement_cache():
    from django.conf import settings

    from config.settings import base

    assert base.CACHES["default"]["BACKEND"] == "config.cache.DatabaseCache"
    assert settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")  # tests: memory


def test_set_is_one_statement_after_the_first(cache):
    cache.set("k", [1.0, 2.0])  # the first set of a process culls, as Django's does
    with CaptureQueriesContext(connection) as ctx:
        cache.set("k", [3.0])
        cache.set("other", {"a": 1})
    assert len(ctx) == 2, [q["sql"] for q in ctx]
    assert "ON CONFLICT" in ctx[0]["sql"]
    assert cache.get("k") == [3.0] and cache.get("other") == {"a": 1}


def test_expiry_is_kept(cache):
    cache.set("warm", 0)
    cache.set("short", "x", timeout=60)
    cache.set("forever", "y", timeout=None)
    assert cache.get("short") == "x"
    with time_machine.travel(datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)):
        assert cache.get("short") is None
        assert cache.get("forever") == "y"


def test_culling_still_happens(cache, monkeypatch):
    monkeypatch.setattr(DatabaseCache, "CULL_EVERY", 3)
    for n in range(30):
        cache.set(f"key{n}", n)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM registry_cache")
        (rows,) = cursor.fetchone()
    assert rows < 30  # MAX_ENTRIES 5: culled on one set in three
