"""No query per row in the admin change lists."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .factories import AgreementFactory, ProvisionFactory


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url", ["/admin/agreements/agreement/", "/admin/agreements/provision/"])
def test_change_list_query_count_is_flat(client, registrar, partners, url):
    client.force_login(registrar)
    pair = [partners["USA"], partners["NATO"]]
    ProvisionFactory(agreement=AgreementFactory(parties=pair))
    _count(client, url)  # the first request fills per-process caches (content types)
    one = _count(client, url)
    for _ in range(99):
        ProvisionFactory(agreement=AgreementFactory(parties=pair))
    hundred = _count(client, url + "?all=")
    assert hundred == one, (one, hundred)
