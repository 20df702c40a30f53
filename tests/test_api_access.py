"""Who may read what through /api/v1/: 401, 403, 404 and the clearance rule everywhere."""

import csv
import io

import pytest

from agreements.choices import ReminderKind
from agreements.models import Reminder

from .api_helpers import client_for

LISTS = [
    "/api/v1/agreements/",
    "/api/v1/provisions/",
    "/api/v1/nations/",
    "/api/v1/organizations/",
    "/api/v1/points-of-contact/",
    "/api/v1/reminders/",
    "/api/v1/deadlines/",
    "/api/v1/stats/",
    "/api/v1/agreements/export/",
    "/api/v1/agreements/dyad-years/",
]
# Lists that need query parameters to answer 200 (without them: 400 naming them).
REQUIRED_PARAMS = {"agreement-dyad-years": {"from": 2020, "to": 2020}}


@pytest.mark.parametrize("url", [*LISTS, "/api/v1/schema/", "/api/v1/docs/"])
def test_anonymous_gets_401(db, url):
    response = client_for().get(url)
    assert response.status_code == 401
    assert "WWW-Authenticate" in response


def test_anonymous_detail_and_write_401(world):
    pk = world["public"].pk
    assert client_for().get(f"/api/v1/agreements/{pk}/").status_code == 401
    assert client_for().post("/api/v1/agreements/", {}).status_code == 401


@pytest.mark.parametrize("url", LISTS)
def test_outsider_gets_403_on_lists(outsider, url):
    assert client_for(outsider).get(url).status_code == 403


def test_outsider_gets_404_on_details(world, outsider, partners):
    client = client_for(outsider)
    pk = world["public"].pk
    for url in [
        f"/api/v1/agreements/{pk}/",
        f"/api/v1/agreements/{pk}/provisions/",
        f"/api/v1/agreements/{pk}/reviews/",
        f"/api/v1/agreements/{pk}/history/",
        "/api/v1/nations/USA/",
        "/api/v1/organizations/NATO/",
    ]:
        assert client.get(url).status_code == 404, url


def test_hidden_agreement_is_404_everywhere(world, viewer, editor):
    client = client_for(viewer)
    pk = world["secret"].pk
    for url in [
        f"/api/v1/agreements/{pk}/",
        f"/api/v1/agreements/{pk}/provisions/",
        f"/api/v1/agreements/{pk}/reviews/",
        f"/api/v1/agreements/{pk}/history/",
    ]:
        assert client.get(url).status_code == 404, url
    # An editor cleared to confidential cannot find the secret agreement to change it.
    editing = client_for(editor)
    assert editing.patch(f"/api/v1/agreements/{pk}/", {"title": "x"}).status_code == 404
    assert editing.post(f"/api/v1/agreements/{pk}/reviews/", {}).status_code == 404
    # Without the change permission it is a 403, the same as for an id that does not exist.
    assert client.patch(f"/api/v1/agreements/{pk}/", {"title": "x"}).status_code == 403
    assert client.patch("/api/v1/agreements/999999/", {"title": "x"}).status_code == 403


def test_viewer_never_sees_classified_records(world, viewer):
    client = client_for(viewer)
    body = client.get("/api/v1/agreements/").json()
    assert body["count"] == 2
    assert {a["reference"] for a in body["results"]} == {"US-PH-TRG", "US-CO-DCA"}
    public = next(a for a in body["results"] if a["reference"] == "US-PH-TRG")
    assert public["provision_categories"] == ["training"]
    assert public["parties"] == [
        {"code": "USA", "name": "United States", "kind": "nation"},
        {"code": "PHL", "name": "Philippines", "kind": "nation"},
        {"code": "NATO", "name": "North Atlantic Treaty Organization", "kind": "organization"},
    ]
    colombia = next(a for a in body["results"] if a["reference"] == "US-CO-DCA")
    assert colombia["provision_categories"] == []  # its only provision is secret

    detail = client.get(f"/api/v1/agreements/{world['public'].pk}/").json()
    assert [p["title"] for p in detail["provisions"]] == ["Combined training"]
    history = client.get(f"/api/v1/agreements/{world['public'].pk}/history/").json()
    assert history["count"] >= 1
    assert "Zanzibar" not in str(history)

    provisions = client.get("/api/v1/provisions/").json()
    assert "Zanzibar" not in str(provisions)
    assert [p["title"] for p in provisions["results"]] == ["Combined training"]

    assert client.get("/api/v1/agreements/", {"q": "zanzibar"}).json()["count"] == 0
    assert (
        client.get("/api/v1/agreements/", {"category": "intelligence_sharing"}).json()["count"] == 0
    )
    assert client.get("/api/v1/provisions/", {"q": "zanzibar"}).json()["count"] == 0

    deadlines = client.get("/api/v1/deadlines/", {"within": 365}).json()
    assert "SEC-0001" not in str(deadlines) and "UK-FR-BASING" not in str(deadlines)
    assert {d["agreement"]["reference"] for d in deadlines["results"]} == {
        "US-PH-TRG",
        "US-CO-DCA",
    }


def test_analyst_sees_classified_records(world, analyst):
    client = client_for(analyst)
    assert client.get("/api/v1/agreements/").json()["count"] == 4
    detail = client.get(f"/api/v1/agreements/{world['public'].pk}/").json()
    assert sorted(p["title"] for p in detail["provisions"]) == [
        "Combined training",
        "Zanzibar signals annex",
    ]
    history = client.get(f"/api/v1/agreements/{world['public'].pk}/history/").json()
    assert "Zanzibar" in str(history)
    assert client.get("/api/v1/agreements/", {"q": "zanzibar"}).json()["count"] == 1
    deadlines = client.get("/api/v1/deadlines/", {"within": 365}).json()
    assert "SEC-0001" in str(deadlines) and "UK-FR-BASING" in str(deadlines)

    stats = client.get("/api/v1/stats/").json()
    assert stats["total"] == 4
    export = client.get("/api/v1/agreements/export/")
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert len(rows) == 5


def test_statistics_and_export_need_their_permissions(world, viewer, analyst):
    assert client_for(viewer).get("/api/v1/stats/").status_code == 403
    assert client_for(viewer).get("/api/v1/agreements/export/").status_code == 403
    assert client_for(analyst).get("/api/v1/stats/").status_code == 200


def test_statistics_count_only_visible_records(world, viewer):
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_statistics"))
    stats = client_for(viewer).get("/api/v1/stats/").json()
    assert stats["total"] == 2
    assert {row["key"] for row in stats["by_type"]} == {"training", "dca"}
    # US-CO-DCA's secret training annex is not counted.
    assert {row["key"]: row["count"] for row in stats["by_provision_category"]} == {"training": 1}
    partners = {row["key"]: row["count"] for row in stats["by_partner"]}
    assert partners == {"USA": 2, "PHL": 1, "COL": 1, "NATO": 1}
    assert {row["key"] for row in stats["by_year_signed"]} == {"2015", "2009"}
    assert {row["key"] for row in stats["by_status"]} == {"in_force"}


def test_export_rows_only_visible(world, viewer):
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="export_agreement"))
    response = client_for(viewer).get("/api/v1/agreements/export/", {"party": "USA"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert sorted(r["reference"] for r in rows) == ["US-CO-DCA", "US-PH-TRG"]
    public = next(r for r in rows if r["reference"] == "US-PH-TRG")
    assert public["parties"] == "USA;PHL;NATO"
    assert public["provision_categories"] == "training"
    colombia = next(r for r in rows if r["reference"] == "US-CO-DCA")
    assert colombia["provision_categories"] == ""


def test_reminders_for_the_user_and_all_for_registry_admins(world, viewer, registrar, analyst):
    def remind(agreement, recipient, user=None):
        return Reminder.objects.create(
            agreement=agreement,
            kind=ReminderKind.REVIEW,
            due_on=agreement.next_review_on or agreement.expires_on,
            days_before=7,
            recipient=recipient,
            recipient_user=user,
        )

    mine = remind(world["public"], "someone@example.org", user=viewer)
    by_email = remind(world["colombia"], viewer.email.upper())
    other = remind(world["public"], "other@example.org")
    hidden = remind(world["secret"], viewer.email, user=viewer)

    ids = {r["id"] for r in client_for(viewer).get("/api/v1/reminders/").json()["results"]}
    assert ids == {mine.pk, by_email.pk}
    ids = {r["id"] for r in client_for(registrar).get("/api/v1/reminders/").json()["results"]}
    assert ids == {world["reminder"].pk, mine.pk, by_email.pk, other.pk, hidden.pk}
    ids = {r["id"] for r in client_for(analyst).get("/api/v1/reminders/").json()["results"]}
    assert ids == set()

    detail = client_for(viewer).get(f"/api/v1/agreements/{world['public'].pk}/").json()
    assert [r["id"] for r in detail["reminders"]] == [mine.pk]


def test_linked_hidden_agreement_is_not_revealed(world, viewer, analyst):
    public = world["public"]
    public.supersedes = world["secret"]
    public.save()
    assert client_for(viewer).get(f"/api/v1/agreements/{public.pk}/").json()["supersedes"] is None
    linked = client_for(analyst).get(f"/api/v1/agreements/{public.pk}/").json()["supersedes"]
    assert linked["reference"] == "SEC-0001"


def test_token_endpoint(viewer):
    client = client_for()
    bad = client.post("/api/v1/auth/token/", {"username": "viewer", "password": "nope"})
    assert bad.status_code == 400
    good = client.post("/api/v1/auth/token/", {"username": "viewer", "password": "pw"})
    assert good.status_code == 200
    token = good.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/nations/").status_code == 200


def test_session_authentication(world, viewer):
    client = client_for()
    client.force_login(viewer)
    assert client.get("/api/v1/agreements/").json()["count"] == 2


def test_partners_endpoints(world, viewer, partners):
    from .factories import MembershipFactory

    MembershipFactory(nation=partners["GBR"], organization=partners["NATO"])
    client = client_for(viewer)
    nations = client.get("/api/v1/nations/", {"region": "asia"}).json()
    assert {n["iso3"] for n in nations["results"]} == {"PHL", "JPN"}
    assert client.get("/api/v1/nations/", {"q": "colom"}).json()["results"][0]["iso3"] == "COL"
    assert client.get("/api/v1/nations/", {"region": "Atlantis"}).status_code == 400
    usa = client.get("/api/v1/nations/usa/").json()
    assert usa["name"] == "United States"
    nato = client.get("/api/v1/organizations/nato/").json()
    assert [m["iso3"] for m in nato["members"]] == ["GBR", "USA"]  # by name
    assert client.get("/api/v1/nations/XXX/").status_code == 404
    assert client.get("/api/v1/organizations/NOPE/").status_code == 404


def test_api_root_lists_every_endpoint_with_absolute_urls(analyst):
    client = client_for(analyst)
    response = client.get("/api/v1/")
    assert response.status_code == 200
    assert "DELETE" not in response["Allow"] and "POST" not in response["Allow"]
    body = response.json()
    base = "http://testserver/api/v1/"
    assert body["schema"] == base + "schema/" and body["docs"] == base + "docs/"
    endpoints = body["endpoints"]
    assert endpoints["agreement-list"] == base + "agreements/"
    assert endpoints["agreement-detail"] == base + "agreements/{pk}/"
    assert endpoints["agreement-provisions"] == base + "agreements/{agreement_pk}/provisions/"
    assert endpoints["nation-detail"] == base + "nations/{iso3}/"
    assert endpoints["token"] == base + "auth/token/"
    assert {
        "agreement-export",
        "agreement-dyad-years",
        "provision-list",
        "reminder-list",
        "deadline-list",
        "statistics",
        "nation-list",
        "organization-list",
        "point-of-contact-list",
    } <= set(endpoints)
    # Every address without an argument answers (the token one takes only POST).
    for name, url in endpoints.items():
        if "{" not in url and name != "token":
            assert client.get(url, REQUIRED_PARAMS.get(name, {})).status_code == 200, name
    for name, params in REQUIRED_PARAMS.items():
        response = client.get(endpoints[name])
        assert response.status_code == 400 and set(response.json()) == set(params), name
    page = client.get("/api/v1/", HTTP_ACCEPT="text/html")
    assert page.status_code == 200 and base + "schema/" in page.content.decode()


def test_api_root_needs_credentials(db):
    response = client_for().get("/api/v1/")
    assert response.status_code == 401
    assert "WWW-Authenticate" in response
