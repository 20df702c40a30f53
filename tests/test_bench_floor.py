"""The benchmark's floor (bench/floor.py) answers the agreement list and detail with the very
bytes the project's API sends, so that bench/compare.py compares like with like: the same
rows, fields, order, links and clearance rule. A change to the API's output that the floor
does not follow fails here (and would make the benchmark's ratios meaningless)."""

import pytest
from django.db import connection

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the floor is raw psycopg (PostgreSQL SQL: websearch_to_tsquery, COPY, json_agg)",
    ),
]


@pytest.fixture
def world(db):
    from bench import dataset

    world = dataset.create_world()
    dataset.load(world, 0, 300, log=lambda *_: None, vacuum=False)
    return world


@pytest.fixture
def floor():
    from bench import floor

    floor._connection = connection.connection  # the test's transaction
    yield floor
    floor._connection = None


def floor_get(floor, path: str, query: str, token: str) -> tuple[str, bytes]:
    """A request to the floor's WSGI app, as the Django test client makes them."""
    import io

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http",
        "HTTP_AUTHORIZATION": f"Token {token}",
        "wsgi.input": io.BytesIO(),
    }
    statuses = []
    body = b"".join(floor.app(environ, lambda status, headers: statuses.append(status)))
    return statuses[0], body


def project_get(client, path: str, query: str, token: str) -> tuple[int, bytes]:
    response = client.get(f"{path}?{query}" if query else path, HTTP_AUTHORIZATION=f"Token {token}")
    return response.status_code, response.content


@pytest.mark.parametrize("user", ["low", "high"])
@pytest.mark.parametrize(
    "query",
    ["", "page_size=7", "page_size=7&page=2", "page_size=7&page=3", "q=maritime", "q=zanzibar"],
)
def test_list_is_byte_identical(world, floor, client, user, query):
    token = world.tokens[user]
    status, expected = project_get(client, "/api/v1/agreements/", query, token)
    assert status == 200
    floor_status, body = floor_get(floor, "/api/v1/agreements/", query, token)
    assert floor_status == "200 OK"
    assert body == expected


def test_detail_is_byte_identical(world, floor, client):
    from agreements.models import Agreement

    # One of each classification, and one with a provision above its agreement.
    chosen = {a.classification: a.pk for a in Agreement.objects.order_by("pk")}
    annexed = Agreement.objects.filter(provisions__classification="secret").exclude(
        classification="secret"
    )
    ids = [*chosen.values(), *annexed.values_list("pk", flat=True)[:2]]
    assert len(ids) >= 5
    # Engagements under the first, at two levels (the high user sees both, in order).
    from engagements.models import Engagement

    for title, level, day in (("Exercise A", "unclassified", 3), ("Exercise B", "secret", 9)):
        engagement = Engagement.objects.create(
            title=title,
            kind="exercise",
            status="planned",
            classification=level,
            starts_on=f"2030-01-{day:02d}",
        )
        engagement.agreements.add(ids[0])
    token = world.tokens["high"]
    for pk in ids:
        path = f"/api/v1/agreements/{pk}/"
        status, expected = project_get(client, path, "", token)
        assert status == 200
        floor_status, body = floor_get(floor, path, "", token)
        assert (floor_status, body) == ("200 OK", expected), pk
    assert (
        b'"title":"Exercise B"'
        in project_get(client, f"/api/v1/agreements/{ids[0]}/", "", token)[1]
    )


def test_detail_out_of_clearance_is_a_404_on_both(world, floor, client):
    from agreements.models import Agreement

    secret = Agreement.objects.filter(classification="secret").first().pk
    path = f"/api/v1/agreements/{secret}/"
    assert project_get(client, path, "", world.tokens["low"])[0] == 404
    assert floor_get(floor, path, "", world.tokens["low"])[0] == "404 Not Found"
