"""``?cursor=`` on agreements/: keyset pages in id order, every row once, the same cost
(queries) deep in the registry as on the first page, clear errors when mixed with pages."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from .api_helpers import client_for
from .factories import AgreementFactory


def walk(client, url, params):
    seen, pages, queries = [], 0, []
    response = client.get(url, params)
    while True:
        assert response.status_code == 200, response.json()
        body = response.json()
        assert "count" not in body
        seen += [row["reference"] for row in body["results"]]
        pages += 1
        if not body["next"]:
            return seen, pages, queries
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(body["next"])
        queries.append(len(ctx))


def test_cursor_walks_every_visible_row_once_in_id_order(partners, viewer):
    made = [AgreementFactory(parties=[partners["USA"], partners["PHL"]]) for _ in range(7)]
    AgreementFactory(classification="secret", parties=[partners["USA"], partners["PHL"]])
    seen, pages, queries = walk(
        client_for(viewer), "/api/v1/agreements/", {"cursor": "", "page_size": 2}
    )
    assert seen == [a.reference for a in made]  # the secret one is never there
    assert pages == 4
    assert len(set(queries)) == 1  # a deep page costs what the second one does


def test_cursor_takes_the_filters(partners, viewer):
    AgreementFactory(type="sofa", parties=[partners["USA"], partners["PHL"]])
    AgreementFactory(type="dca", parties=[partners["USA"], partners["PHL"]])
    body = client_for(viewer).get("/api/v1/agreements/", {"cursor": "", "type": "sofa"}).json()
    assert [row["type"] for row in body["results"]] == ["sofa"]


def test_cursor_with_page_or_ordering_or_a_bad_cursor_is_a_clear_error(partners, viewer):
    client = client_for(viewer)
    response = client.get("/api/v1/agreements/", {"cursor": "", "page": 2, "ordering": "title"})
    assert response.status_code == 400
    assert set(response.json()) == {"page", "ordering"}
    assert client.get("/api/v1/agreements/", {"cursor": "garbage"}).status_code == 404
