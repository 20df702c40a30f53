"""Review 14: problems found in a8fa38f..53330cb (each test fails on 53330cb). A float that
is not a number is null from the renderer, as its docstring says (the API writes none)."""

from unittest import mock

import pytest
from django.db.models.sql.query import Query
from rest_framework.renderers import JSONRenderer as DRFJSONRenderer

from config.renderers import JSONRenderer


@pytest.mark.parametrize("value", [2**64, -(2**63) - 1])
def test_renderer_renders_ints_drf_renders(value):
    """orjson refuses ints outside 64 bits (TypeError -> a 500) where DRF writes them: the
    renderer should fall back to DRF's own rendering instead of failing."""
    data = {"n": value}
    assert JSONRenderer().render(data) == DRFJSONRenderer().render(data)


def test_permissions_sql_is_compiled_for_its_own_alias():
    """``_users_permissions_sql(alias)`` is cached per alias but ``Query.sql_with_params``
    always compiles for DEFAULT_DB_ALIAS: another alias (of another vendor) gets the
    default database's SQL."""
    from accounts import backends

    seen = []
    real = Query.get_compiler

    def spy(self, using=None, connection=None, elide_empty=True):
        seen.append(using)  # compiled on the default connection: "replica" is not configured
        return real(self, "default", connection, elide_empty)

    with mock.patch.object(Query, "get_compiler", spy):
        backends._users_permissions_sql.__wrapped__("replica")  # an alias never opened
    assert seen[0] == "replica", seen  # the union's own compile; its parts follow it
