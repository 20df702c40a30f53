"""Reads compiled once and run again with other agreement ids.

Building a queryset and compiling it to SQL costs more than PostgreSQL takes to run the
short reads of a detail or a list page. A ``Statement`` compiles its queryset once per
thread, database and reader's levels (and day, for reads that depend on it) and runs the
SQL again with the next agreement id, or the next page's ids, in place of the ones it was
compiled with. Rows come as ``values()`` gives them, through the same converters.

These use Django's compiler (``as_sql``, ``get_converters``, ``apply_converters``), which is
documented for database backends but is not a stable public API: ``tests/
test_api_detail_rows.py`` and ``tests/test_api_list_rows.py`` compare what they read with
the ORM's own answers, and fail loudly if an upgrade changes it."""

from __future__ import annotations

import bisect
import threading

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections

from accounts.clearance import levels_for

# The ids a statement is compiled with: no agreement has them.
SENTINEL_ID = -918_273_645_546

# A read of many ids is compiled for the smallest of these at least as long as the ids,
# the rest of the slots given an id no agreement has (so at most len(SIZES) statements per
# kind of read and level); longer lists are read in parts of the largest (an export's chunk
# of 2,000 agreements is one statement).
SIZES = (1, 10, 25, 50, 100, 250, 500, 1000, 2000)


class Statement:
    """``build(ids, user, today)`` makes the queryset (``values``), whose SQL depends on
    ``user`` only through ``levels_for(user)`` (and not at all with ``by_levels=False``)
    and on ``today`` only with ``by_day``; ``ids`` (a list) is the one parameter that
    changes. ``rows(pk)`` reads one agreement's (dicts), ``tuples_of(ids)`` many agreements'."""

    _compiled = threading.local()

    def __init__(self, build, *, by_day: bool = False, by_levels: bool = True):
        self.build, self.by_day, self.by_levels = build, by_day, by_levels

    def rows(self, pk: int, user=None, today=None) -> list[dict]:
        names, rows = self._run([pk], 1, user, today)
        return [dict(zip(names, row, strict=True)) for row in rows]

    def tuples_of(self, ids, user=None, today=None) -> list[tuple]:
        """The rows for the agreements ``ids`` as tuples, in the order of ``values()``."""
        ids = list(ids)
        rows = []
        for start in range(0, len(ids), SIZES[-1]):
            part = ids[start : start + SIZES[-1]]
            size = SIZES[bisect.bisect_left(SIZES, len(part))]
            rows += self._run(part, size, user, today)[1]
        return rows

    def _run(self, ids: list, size: int, user, today) -> tuple[list[str], list]:
        connection = connections[DEFAULT_DB_ALIAS]
        levels = levels_for(user) if self.by_levels else ()
        key = (self, connection.alias, size, None if levels is None else tuple(levels))
        key += (today,) if self.by_day else ()
        cache = self._compiled.__dict__.setdefault("statements", {})
        if key not in cache:
            if self.by_day:  # another day's are not read again
                for stale in [k for k in cache if k[0] is self and k[-1] != today]:
                    del cache[stale]
            cache[key] = self._compile(connection, size, user, today)
        compiled = cache[key]
        if compiled is None:  # nothing can match (no level at all)
            return [], []
        sql, params, slots, names, compiler, converters = compiled
        params = list(params)
        padded = [*ids, *[SENTINEL_ID] * (size - len(ids))]
        for slot, index in slots:
            params[slot] = padded[index]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if converters:
            rows = list(compiler.apply_converters(rows, converters))
        return names, rows

    def _compile(self, connection, size: int, user, today):
        sentinels = [SENTINEL_ID - index for index in range(size)]
        query = self.build(sentinels, user, today).query
        compiler = query.get_compiler(connection=connection)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            return None
        where = {sentinel: index for index, sentinel in enumerate(sentinels)}
        slots = [(slot, where[p]) for slot, p in enumerate(params) if type(p) is int and p in where]
        if sorted(index for _, index in slots) != list(range(size)):
            # an id was written into the SQL (or left out): never reuse it
            raise AssertionError(f"{sql}: the agreement ids are not each a parameter")
        names = list(query.selected or [])
        names = names or [*query.extra_select, *query.values_select, *query.annotation_select]
        fields = [column[0] for column in compiler.select[: compiler.col_count]]
        return sql, tuple(params), slots, names, compiler, compiler.get_converters(fields)
