"""The database cache (the default ``CACHES``, where the throttles count), with ``set`` as
one statement.

Django's ``DatabaseCache.set`` takes five round trips (a ``COUNT(*)`` of the table to decide
whether to cull, then in a transaction a ``SELECT`` of the key and an ``UPDATE`` or
``INSERT``); the throttles set their key on every API request. Here ``set`` is one upsert
(``INSERT … ON CONFLICT (cache_key) DO UPDATE``, PostgreSQL and SQLite alike), and the count
and cull run on one set in ``CULL_EVERY`` per process instead of on each. Other databases,
``add`` and ``touch`` keep Django's code."""

from __future__ import annotations

import base64
import datetime
import pickle

from django.conf import settings
from django.core.cache.backends import db
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.db import connections, router

UPSERT_VENDORS = ("postgresql", "sqlite")


class DatabaseCache(db.DatabaseCache):
    CULL_EVERY = 100

    def __init__(self, table, params):
        super().__init__(table, params)
        self._sets = 0

    def _base_set(self, mode, key, value, timeout=DEFAULT_TIMEOUT):
        connection = connections[router.db_for_write(self.cache_model_class)]
        self._sets += 1
        if (
            mode != "set"
            or connection.vendor not in UPSERT_VENDORS
            or self._sets % self.CULL_EVERY == 1  # the first, then one in CULL_EVERY
        ):
            return super()._base_set(mode, key, value, timeout)
        timeout = self.get_backend_timeout(timeout)
        if timeout is None:
            expires = datetime.datetime.max
        else:
            tz = datetime.UTC if settings.USE_TZ else None
            expires = datetime.datetime.fromtimestamp(timeout, tz=tz)
        expires = connection.ops.adapt_datetimefield_value(expires.replace(microsecond=0))
        pickled = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
        quote = connection.ops.quote_name
        table, key_column = quote(self._table), quote("cache_key")
        value_column, expires_column = quote("value"), quote("expires")
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({key_column}, {value_column}, {expires_column}) "
                f"VALUES (%s, %s, %s) ON CONFLICT ({key_column}) DO UPDATE SET "
                f"{value_column} = EXCLUDED.{value_column}, "
                f"{expires_column} = EXCLUDED.{expires_column}",
                [key, pickled, expires],
            )
        return True
