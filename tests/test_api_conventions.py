"""The conventions analysts rely on, across the API (docs/api.md, "Conventions"):

- query parameters: repeated comma lists merge, unknown parameters are a 400 naming them on
  every list, choice errors list the valid values, the browser list ignores what it does not
  know;
- ``provisions/`` takes the agreement filters, applied to the provisions' agreements;
- ``stats/?group_by=`` counts per combination, within clearance, as JSON or CSV;
- the schema: every operation with a summary, examples that match it, and every error it can
  answer; ``/api/v1/`` lists every endpoint.

The shared world of tests/world.py (see its table) on its frozen day.
"""

from __future__ import annotations

import copy
import datetime
import re

import pytest
from django.urls import reverse
from jsonschema import Draft7Validator

from accounts.groups import ANALYSTS
from agreements.choices import ProvisionCategory
from agreements.models import Provision
from agreements.services import agreement_save
from config.api_urls import ENDPOINT_PATTERNS

from .api_helpers import client_for
from .factories import AgreementFactory, ProvisionFactory, UserFactory

D = datetime.date

# Query parameters ---------------------------------------------------------------------------


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content[:500]
    return sorted(row["id"] for row in response.json()["results"])


def list_routes(world) -> dict[str, str]:
    """Every list of the API (every GET route but the details), by URL name."""
    routes = {}
    for pattern in ENDPOINT_PATTERNS:
        if not pattern.name or pattern.name.endswith("-detail"):
            continue
        kwargs = (
            {"agreement_pk": world["public"].pk} if "agreement_pk" in str(pattern.pattern) else {}
        )
        if "<pk>" in str(pattern.pattern):  # a list under one record: the contact's postings
            kwargs = {"pk": world["contact"].pk}
        routes[pattern.name] = reverse(f"api:{pattern.name}", kwargs=kwargs)
    return routes


@pytest.mark.parametrize(
    ("url", "param", "values"),
    [
        ("/api/v1/agreements/", "type", ["sofa", "training"]),
        ("/api/v1/agreements/", "status", ["in_force", "suspended"]),
        ("/api/v1/agreements/", "party_any", ["COL", "FRA"]),
        ("/api/v1/agreements/", "region", ["Europe", "Asia"]),
        ("/api/v1/agreements/", "category", ["basing", "technology_transfer"]),
        ("/api/v1/agreements/", "classification", ["secret", "confidential"]),
        ("/api/v1/agreements/", "organization", ["NATO", "AU"]),
        ("/api/v1/agreements/", "ordering", ["-signed_on", "title"]),
        ("/api/v1/provisions/", "category", ["training", "basing"]),
        ("/api/v1/provisions/", "type", ["sofa", "training"]),
        ("/api/v1/nations/", "region", ["Europe", "Asia"]),
        ("/api/v1/organizations/", "kind", ["alliance", "coalition"]),
        ("/api/v1/points-of-contact/", "role", ["defense_attache", "desk_officer"]),
    ],
)
def test_a_repeated_comma_list_parameter_is_the_comma_list(world, analyst, url, param, values):
    c = client_for(analyst)
    repeated = c.get(f"{url}?" + "&".join(f"{param}={v}" for v in values))
    joined = c.get(url, {param: ",".join(values)})
    assert repeated.status_code == joined.status_code == 200, repeated.json()
    assert repeated.json()["results"] == joined.json()["results"]
    # Not the last value only.
    last = c.get(url, {param: values[-1]})
    assert repeated.json()["count"] > last.json()["count"] or param == "ordering"


def test_repeated_lists_merge_in_export_and_stats_too(world, analyst):
    c = client_for(analyst)
    stats = c.get("/api/v1/stats/?type=sofa&type=training").json()
    assert stats["total"] == 2
    export = c.get("/api/v1/agreements/export/?type=sofa&type=training")
    lines = b"".join(export.streaming_content).decode().splitlines()
    assert sorted(line.split(",")[1] for line in lines[1:]) == ["UK-FR-BASING", "US-PH-TRG"]
    merged = c.get(
        f"/api/v1/provisions/?agreement={world['public'].pk}&agreement={world['colombia'].pk}"
    )
    assert {p["agreement"]["reference"] for p in merged.json()["results"]} == {
        "US-PH-TRG",
        "US-CO-DCA",
    }


@pytest.mark.parametrize(
    "query",
    [
        "signed_after=2010-01-01&signed_after=2011-01-01",
        "q=training&q=zebra",
        "page=1&page=2",
        "page_size=5&page_size=10",
    ],
)
def test_a_single_value_parameter_given_twice_is_a_400(world, analyst, query):
    response = client_for(analyst).get(f"/api/v1/agreements/?{query}")
    name = query.split("=")[0]
    assert response.status_code == 400
    assert response.json() == {name: ["Given more than once; give it once."]}


def test_every_list_refuses_an_unknown_parameter_naming_it(world, analyst):
    c = client_for(analyst)
    routes = list_routes(world)
    assert {"agreement-list", "agreement-export", "statistics", "deadline-list"} <= set(routes)
    assert {"provision-list", "nation-list", "reminder-list", "agreement-history"} <= set(routes)
    for name, url in routes.items():
        response = c.get(url, {"partys": "PHL"})
        assert response.status_code == 400, name
        (message,) = response.json()["partys"]
        assert message.startswith("Unknown parameter. Known: "), name
        known = message.removeprefix("Unknown parameter. Known: ").rstrip(".").split(", ")
        assert "format" in known and "partys" not in known, name
    agreements = c.get("/api/v1/agreements/", {"partys": "PHL"}).json()
    assert agreements == {
        "partys": [
            "Unknown parameter. Known: party, party_any, region, organization, type, status, "
            "classification, category, signed_after, signed_before, expires_after, "
            "expires_before, expiring_within, review_due_within, in_force_on, q, ordering, "
            "page, page_size, cursor, format."
        ]
    }
    # Several unknown ones are each named, beside the errors of the known ones.
    body = c.get("/api/v1/agreements/", {"partys": "PHL", "utm_source": "x", "type": "x"}).json()
    assert set(body) == {"partys", "utm_source", "type"}


def test_the_known_parameters_are_the_documented_ones(world, analyst):
    """What a list says it knows is what its schema documents (``format`` aside, which the
    schema documents only where there is a choice of formats)."""
    c = client_for(analyst)
    schema = c.get("/api/v1/schema/", {"format": "json"}).json()
    for name, url in list_routes(world).items():
        argument = "{id}" if url.startswith("/api/v1/points-of-contact/") else "{agreement_pk}"
        template = re.sub(r"/\d+/", f"/{argument}/", url)
        documented = {
            p["name"] for p in schema["paths"][template]["get"]["parameters"] if p["in"] == "query"
        }
        message = c.get(url, {"partys": "PHL"}).json()["partys"][0]
        known = set(message.removeprefix("Unknown parameter. Known: ").rstrip(".").split(", "))
        assert documented - {"format"} == known - {"format"}, name


def test_pagination_format_and_ordering_are_known(world, analyst):
    c = client_for(analyst)
    query = {"page": 1, "page_size": 2, "format": "json", "ordering": "title"}
    assert c.get("/api/v1/agreements/", query).status_code == 200
    assert (
        c.get("/api/v1/nations/", {"page": 1, "page_size": 2, "format": "json"}).status_code == 200
    )
    assert c.get("/api/v1/deadlines/", {"within": 30, "format": "json"}).status_code == 200
    # A list without an order of its own does not pretend to take one.
    assert "ordering" in c.get("/api/v1/nations/", {"ordering": "name"}).json()


def test_details_ignore_query_parameters(world, analyst):
    """One record takes no filters: a parameter on it changes nothing (documented)."""
    c = client_for(analyst)
    assert c.get(f"/api/v1/agreements/{world['public'].pk}/", {"foo": "1"}).status_code == 200
    assert c.get("/api/v1/nations/USA/", {"foo": "1"}).status_code == 200


@pytest.mark.parametrize(
    ("url", "query", "param", "valid"),
    [
        ("/api/v1/agreements/", "type=treaty", "type", ["dca", "sofa", "training", "other"]),
        ("/api/v1/agreements/", "status=bogus", "status", ["in_force", "suspended", "draft"]),
        ("/api/v1/agreements/", "ordering=colour", "ordering", ["title", "-signed_on"]),
        ("/api/v1/agreements/", "classification=cosmic", "classification", ["secret"]),
        ("/api/v1/provisions/", "category=cooking", "category", ["training", "basing"]),
        ("/api/v1/organizations/", "kind=club", "kind", ["alliance"]),
        ("/api/v1/points-of-contact/", "role=spy", "role", ["defense_attache"]),
        ("/api/v1/nations/", "region=Atlantis", "region", ["Americas", "Asia", "Europe"]),
        ("/api/v1/stats/", "group_by=century", "group_by", ["decade", "partner", "region"]),
        ("/api/v1/agreements/", "format=xml", "format", ["json"]),
        ("/api/v1/stats/", "format=xml", "format", ["json", "csv"]),
    ],
)
def test_a_bad_choice_lists_the_valid_values(world, analyst, url, query, param, valid):
    response = client_for(analyst).get(f"{url}?{query}")
    assert response.status_code == 400
    (message,) = response.json()[param]
    for value in valid:
        assert re.search(rf"[ :,]{re.escape(value)}[,.]", message), (message, value)


def test_the_browser_list_ignores_unknown_parameters_and_says_so(client, world, analyst):
    client.force_login(analyst)
    response = client.get("/agreements/?type=sofa&utm_source=newsletter&partys=PHL")
    assert response.status_code == 200
    html = response.content.decode()
    assert "1 agreement matches" in html  # the type applied, the rest not
    assert "Not filters of this list, so not applied: utm_source, partys." in html
    # The export link carries the filters only (the API would refuse the rest).
    assert 'href="/api/v1/agreements/export/?type=sofa"' in html
    assert "ignored-parameters" not in client.get("/agreements/?type=sofa").content.decode()


# provisions/ with the agreement filters -------------------------------------------------------

AGREEMENT_QUERIES = [
    {"party": "PHL"},
    {"party": "USA,PHL"},
    {"party_any": "COL,FRA"},
    {"region": "Europe"},
    {"organization": "NATO"},
    {"type": "training,dca"},
    {"status": "suspended"},
    {"classification": "confidential,unclassified"},
    {"signed_after": "2009-10-30", "signed_before": "2014-01-01"},
    {"expires_before": "2026-07-15"},
    {"expiring_within": "30"},
    {"review_due_within": "16"},
    {"in_force_on": "2010-01-01"},
    {"party": "PHL", "in_force_on": "2016-01-01"},
    {"organization": "NATO", "in_force_on": "2016-01-01"},
]


@pytest.mark.parametrize(
    "query", AGREEMENT_QUERIES, ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items())
)
@pytest.mark.parametrize("who", ["viewer", "analyst"])
def test_provisions_take_the_agreement_filters(world, frozen_today, request, who, query):
    """``provisions/?X`` is every provision you may see of the agreements ``agreements/?X``
    lists."""
    c = client_for(request.getfixturevalue(who))
    agreements = c.get("/api/v1/agreements/", {**query, "page_size": 500})
    listed = {a["id"] for a in agreements.json()["results"]}
    provisions = c.get("/api/v1/provisions/", {**query, "page_size": 500})
    assert provisions.status_code == 200, provisions.json()
    got = {p["id"] for p in provisions.json()["results"]}
    user = request.getfixturevalue(who)
    want = set(
        Provision.objects.visible_to(user).filter(agreement__in=listed).values_list("id", flat=True)
    )
    assert got == want


def test_the_analyst_question_in_one_call(world, analyst, viewer):
    """What do our agreements in force with the Philippines on a day commit to?"""
    c = client_for(analyst)
    public = world["public"]
    agreement_save(
        agreement=public,
        parties=[
            {"code": "USA"},
            {"code": "NATO"},
            {"code": "PHL", "entered_into_force_on": D(2016, 1, 1)},  # joined late
        ],
    )
    late = c.get("/api/v1/provisions/", {"party": "PHL", "in_force_on": "2015-12-31"}).json()
    assert {p["agreement"]["reference"] for p in late["results"]} == {"SEC-0001"}
    day = c.get("/api/v1/provisions/", {"party": "PHL", "in_force_on": "2026-06-15"}).json()
    assert sorted((p["agreement"]["reference"], p["title"]) for p in day["results"]) == [
        ("SEC-0001", "Covert technology transfer"),
        ("US-PH-TRG", "Combined training"),
        ("US-PH-TRG", "Zanzibar signals annex"),
    ]
    # An uncleared reader is told only what they may see.
    seen = client_for(viewer).get(
        "/api/v1/provisions/", {"party": "PHL", "in_force_on": "2026-06-15"}
    )
    assert [p["title"] for p in seen.json()["results"]] == ["Combined training"]


def test_provision_category_and_q_keep_their_provision_meaning(world, analyst):
    c = client_for(analyst)
    training = c.get("/api/v1/provisions/", {"category": "training"}).json()["results"]
    # Only training provisions, not every provision of an agreement with one.
    assert {p["category"] for p in training} == {"training"}
    assert {p["title"] for p in training} == {"Combined training", "Riverine training annex"}
    found = c.get("/api/v1/provisions/", {"q": "zanzibar", "party": "USA"}).json()["results"]
    assert [p["title"] for p in found] == ["Zanzibar signals annex"]
    assert c.get("/api/v1/provisions/", {"ordering": "title"}).status_code == 400


def test_provision_agreement_is_a_list_of_visible_ids(world, viewer, analyst):
    public, colombia, secret = world["public"], world["colombia"], world["secret"]
    c = client_for(analyst)
    both = c.get("/api/v1/provisions/", {"agreement": f"{public.pk},{colombia.pk}"})
    assert {p["agreement"]["id"] for p in both.json()["results"]} == {public.pk, colombia.pk}
    hidden = client_for(viewer).get(
        "/api/v1/provisions/", {"agreement": f"{public.pk},{secret.pk}"}
    )
    missing = client_for(viewer).get("/api/v1/provisions/", {"agreement": f"{public.pk},99999999"})
    assert hidden.status_code == missing.status_code == 400
    assert hidden.json() == {"agreement": [f"No agreement you may see has the id(s): {secret.pk}."]}
    assert missing.json() == {"agreement": ["No agreement you may see has the id(s): 99999999."]}
    bad = client_for(viewer).get("/api/v1/provisions/", {"agreement": "12,abc"})
    assert bad.json() == {"agreement": ["Not an id: abc."]}


# stats/?group_by= ------------------------------------------------------------------------------


@pytest.fixture
def low_analyst(db):
    """An analyst (statistics allowed) cleared to unclassified only."""
    return UserFactory(username="low_analyst", group=ANALYSTS, clearance="unclassified")


def grouped(user, **params):
    response = client_for(user).get("/api/v1/stats/", params)
    assert response.status_code == 200, response.json()
    body = response.json()
    return body["total"], [
        (*(row[name] for name in body["group_by"]), row["count"]) for row in body["results"]
    ]


def test_group_by_decade_and_type(world, analyst, low_analyst):
    assert grouped(analyst, group_by="decade,type") == (
        4,
        [
            (1970, "defense_industrial", 1),
            (2000, "dca", 1),
            (2010, "sofa", 1),
            (2010, "training", 1),
        ],
    )
    assert grouped(low_analyst, group_by="decade,type") == (
        2,
        [(2000, "dca", 1), (2010, "training", 1)],
    )
    body = client_for(analyst).get("/api/v1/stats/", {"group_by": "type"}).json()
    assert body["group_by"] == ["type"]
    assert body["results"][0] == {
        "type": "dca",
        "type_label": "Defense cooperation agreement",
        "count": 1,
    }
    # Repeated, like every comma list.
    assert grouped(analyst, group_by=["decade", "type"]) == grouped(analyst, group_by="decade,type")


def test_group_by_counts_an_agreement_once_per_partner_and_region(world, analyst):
    # US-PH-TRG and SEC-0001 have three partners each: counted once for each of them.
    assert grouped(analyst, group_by="partner") == (
        4,
        [("COL", 1), ("FRA", 1), ("GBR", 1), ("NATO", 2), ("PHL", 2), ("USA", 3)],
    )
    # US-CO-DCA has two parties in the Americas: once there. NATO has no region.
    assert grouped(analyst, group_by="region") == (4, [("Americas", 3), ("Asia", 2), ("Europe", 1)])
    body = client_for(analyst).get("/api/v1/stats/", {"group_by": "partner"}).json()
    assert body["results"][3] == {
        "partner": "NATO",
        "partner_label": "North Atlantic Treaty Organization",
        "count": 2,
    }


def test_group_by_organization_counts_organizations_that_are_parties(world, analyst):
    # The organization filter counts members (the USA is in NATO: three agreements); the
    # grouping counts NATO where NATO itself is a party, the others under null.
    assert client_for(analyst).get("/api/v1/stats/", {"organization": "NATO"}).json()["total"] == 3
    assert grouped(analyst, group_by="organization") == (4, [("NATO", 2), (None, 2)])


def test_group_by_category_counts_only_the_provisions_you_may_see(world, analyst, low_analyst):
    assert grouped(analyst, group_by="category") == (
        4,
        [("basing", 1), ("intelligence_sharing", 1), ("technology_transfer", 1), ("training", 2)],
    )
    # Uncleared, one sees US-CO-DCA but not its one (secret) provision: no category, null.
    assert grouped(low_analyst, group_by="category") == (2, [("training", 1), (None, 1)])
    assert grouped(low_analyst, group_by="year,category") == (
        2,
        [(2009, None, 1), (2015, "training", 1)],
    )


def test_two_groupings_count_every_combination(world, analyst):
    total, rows = grouped(analyst, group_by="partner,category", party="PHL", type="training")
    assert total == 1  # US-PH-TRG: three partners by two categories it has
    assert rows == [
        (partner, category, 1)
        for partner in ("NATO", "PHL", "USA")
        for category in ("intelligence_sharing", "training")
    ]


def test_group_by_takes_the_agreement_filters(world, analyst):
    assert grouped(analyst, group_by="status", party="USA") == (
        3,
        [("in_force", 2), ("suspended", 1)],
    )
    assert grouped(analyst, group_by="year", signed_after="2010-01-01") == (
        2,
        [(2012, 1), (2015, 1)],
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "century",
            "Unknown grouping(s): century. Known: year, decade, type, status, category, "
            "partner, region, organization.",
        ),
        ("year,type,status", "At most 2 groupings."),
        ("type,type", "Give each grouping once."),
    ],
)
def test_group_by_errors(world, analyst, value, message):
    response = client_for(analyst).get("/api/v1/stats/", {"group_by": value})
    assert response.status_code == 400
    assert response.json() == {"group_by": [message]}


def test_stats_as_csv(world, analyst):
    c = client_for(analyst)
    response = c.get("/api/v1/stats/", {"group_by": "decade,type", "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.decode() == (
        "decade,type,type_label,count\r\n"
        "1970,defense_industrial,Defense industrial,1\r\n"
        "2000,dca,Defense cooperation agreement,1\r\n"
        "2010,sofa,Status of forces agreement,1\r\n"
        "2010,training,Training,1\r\n"
    )
    accept = c.get("/api/v1/stats/", {"group_by": "organization"}, HTTP_ACCEPT="text/csv")
    assert accept.content.decode().splitlines() == [
        "organization,organization_label,count",
        "NATO,North Atlantic Treaty Organization,2",
        ",,2",
    ]
    plain = c.get("/api/v1/stats/", {"format": "csv", "type": "sofa"}).content.decode()
    assert plain.splitlines()[:3] == ["grouping,key,label,count", "total,,,1", "year,2012,2012,1"]
    assert "partner,GBR,United Kingdom,1" in plain.splitlines()
    # Errors stay JSON.
    bad = c.get("/api/v1/stats/", {"format": "csv", "type": "x"})
    assert bad.status_code == 400 and bad["Content-Type"] == "application/json"
    assert "type" in bad.json()


def test_stats_need_their_permission_also_as_csv(world, viewer):
    response = client_for(viewer).get("/api/v1/stats/", {"group_by": "type", "format": "csv"})
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"


# The schema -------------------------------------------------------------------------------------

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def schema(viewer):
    return client_for(viewer).get("/api/v1/schema/", {"format": "json"}).json()


def operations(schema):
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def test_every_operation_has_a_summary_and_an_example(schema):
    for path, method, operation in operations(schema):
        where = f"{method.upper()} {path}"
        assert operation.get("summary"), where
        bodies = [
            *operation.get("requestBody", {}).get("content", {}).values(),
            *(
                content
                for status, response in operation["responses"].items()
                if status.startswith("2") or status in ("409", "412")
                for content in response.get("content", {}).values()
            ),
        ]
        assert any(body.get("examples") for body in bodies), where


def test_every_operation_documents_the_errors_it_can_answer(schema):
    for path, method, operation in operations(schema):
        where = f"{method.upper()} {path}"
        statuses = set(operation["responses"])
        assert {"400", "406", "429"} <= statuses, where
        if path != "/api/v1/auth/token/":
            assert {"401", "403"} <= statuses, where
        if "{" in path:
            assert "404" in statuses, where
        if method in ("post", "put", "patch"):
            assert "415" in statuses, where
        for status in statuses - {"200", "201", "204"}:
            content = operation["responses"][status]["content"]
            assert list(content) == ["application/json"], (where, status)
            assert content["application/json"]["examples"], (where, status)
    agreement = schema["paths"]["/api/v1/agreements/{id}/"]
    assert "409" in agreement["delete"]["responses"]
    assert "412" in agreement["put"]["responses"] and "412" in agreement["patch"]["responses"]
    assert "401" not in schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]


def _openapi_to_jsonschema(node):
    """OpenAPI 3.0's ``nullable`` as JSON Schema's null type. ``oneOf`` is read as ``anyOf``:
    drf-spectacular writes a blank-or-URL field as ``oneOf`` [an empty string, a URI], which
    only a validator that checks the ``uri`` format tells apart."""
    if isinstance(node, list):
        return [_openapi_to_jsonschema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {
        ("anyOf" if key == "oneOf" else key): _openapi_to_jsonschema(value)
        for key, value in node.items()
    }
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


def test_every_example_matches_its_schema(schema):
    components = _openapi_to_jsonschema(copy.deepcopy(schema["components"]))
    checked = 0
    for path, method, operation in operations(schema):
        contents = [("request", operation.get("requestBody", {}).get("content", {}))]
        contents += [(status, r.get("content", {})) for status, r in operation["responses"].items()]
        for where, content in contents:
            for media_type, body in content.items():
                for name, example in body.get("examples", {}).items():
                    if media_type == "text/csv":
                        assert isinstance(example["value"], str)
                        continue
                    root = {"components": components, **_openapi_to_jsonschema(body["schema"])}
                    errors = [
                        e.message for e in Draft7Validator(root).iter_errors(example["value"])
                    ]
                    assert errors == [], (method, path, where, name, errors[:3])
                    checked += 1
    assert checked > 40


def test_the_schema_documents_the_new_parameters(schema):
    def names(path):
        return {p["name"] for p in schema["paths"][path]["get"]["parameters"]}

    agreement_filters = names("/api/v1/agreements/") - {"page", "page_size", "cursor", "ordering"}
    assert agreement_filters <= names("/api/v1/provisions/")
    assert {"agreement"} <= names("/api/v1/provisions/")
    assert "ordering" not in names("/api/v1/provisions/")
    stats = {p["name"]: p for p in schema["paths"]["/api/v1/stats/"]["get"]["parameters"]}
    assert stats["group_by"]["schema"]["items"]["enum"][:2] == ["year", "decade"]
    assert stats["format"]["schema"]["enum"] == ["csv", "json"]
    content = schema["paths"]["/api/v1/stats/"]["get"]["responses"]["200"]["content"]
    assert set(content) == {"application/json", "text/csv"}


def test_the_api_root_lists_every_endpoint_of_the_schema(analyst, schema):
    body = client_for(analyst).get("/api/v1/").json()
    root = {
        re.sub(r"\{\w+\}", "{}", url.removeprefix("http://testserver"))
        for url in body["endpoints"].values()
    }
    documented = {re.sub(r"\{\w+\}", "{}", path) for path in schema["paths"]}
    assert root == documented
    assert body["schema"].endswith("/api/v1/schema/") and body["docs"].endswith("/api/v1/docs/")
    assert client_for(analyst).get(body["docs"]).status_code == 200


def test_the_docs_page_needs_no_inline_style_or_script(analyst):
    response = client_for(analyst).get("/api/v1/docs/")
    html = response.content.decode()
    assert "<style" not in html and "<script>" not in html
    assert "/static/css/api-docs.css" in html
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]


# One call per question (docs/api.md, "Three questions, three calls") -----------------------------


def test_the_documented_calls_are_the_ones_in_the_docs():
    from django.conf import settings

    text = (settings.BASE_DIR / "docs" / "api.md").read_text()
    for call in (
        "/api/v1/provisions/?party=PHL&in_force_on=",
        "/api/v1/stats/?group_by=decade,type",
        "/api/v1/agreements/export/?organization=NATO&category=training",
    ):
        assert call in text, call


def test_export_with_nato_or_its_members_and_training(world, analyst, partners):
    """The third question: agreements with NATO or a member of it at the time, with a training
    provision. The USA joined NATO in 1949 (tests/world.py); Colombia is not a member."""
    c = client_for(analyst)
    response = c.get("/api/v1/agreements/export/", {"organization": "NATO", "category": "training"})
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("id,reference,title,")
    assert sorted(line.split(",")[1] for line in lines[1:]) == ["US-CO-DCA", "US-PH-TRG"]
    # Before it joined, a member's agreement is not NATO's.
    old = AgreementFactory(
        reference="OLD-US-ACCORD",
        signed_on=D(1940, 1, 1),
        entered_into_force_on=D(1940, 1, 1),
        expires_on=D(1945, 1, 1),
        parties=[partners["USA"], partners["JPN"]],
    )
    ProvisionFactory(agreement=old, category=ProvisionCategory.TRAINING)
    again = c.get("/api/v1/agreements/export/", {"organization": "NATO", "category": "training"})
    assert "OLD-US-ACCORD" not in b"".join(again.streaming_content).decode()
