"""Postings of points of contact (issue 12, part 2): the write path and its errors, the API
(postings under each contact, the current first; ``active_on`` and ``posted_to`` on one
posting; writes), the agreements' responsible contacts within clearance, the nation and
organization pages, and the reminder to the office mailbox before a posting ends with no
successor."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agreements.choices import ReminderKind
from agreements.models import Reminder
from agreements.reminders import reminder_deliver, reminders_plan, reminders_sweep
from agreements.services import agreement_save
from history.models import ChangeRecord
from partners.choices import ContactRole
from partners.models import PointOfContact, Posting
from partners.services import point_of_contact_save

from .api_helpers import client_for
from .conftest import TODAY
from .factories import NationFactory

D = datetime.date
pytestmark = pytest.mark.django_db


def days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


def attache(name="Jane Doe", represents="USA", role=ContactRole.DEFENSE_ATTACHE, **fields):
    return point_of_contact_save(name=name, role=role, represents=represents, **fields)


def errors_of(excinfo) -> dict:
    return excinfo.value.message_dict


# The write path ---------------------------------------------------------------------------


def test_postings_are_written_with_the_contact_and_recorded(partners, editor):
    contact = attache(
        actor=editor,
        active_from="2021-08-01",
        postings=[
            {"code": "NATO", "active_from": "2021-08-01", "active_to": "2024-07-31"},
            {"code": "phl", "active_from": "2025-07-01", "title": "Defense attaché, Manila"},
        ],
    )
    assert contact.posted_to == partners["PHL"]  # the latest posting's nation
    rows = {p.code: p for p in contact.postings.select_related("nation", "organization")}
    assert rows["NATO"].organization == partners["NATO"] and rows["NATO"].nation is None
    assert rows["PHL"].title == "Defense attaché, Manila"
    posting_records = [r for r in ChangeRecord.objects.all() if r.related_object == contact]
    assert len(posting_records) == 2 and {r.action for r in posting_records} == {"create"}

    # Without an id, the posting to the same place from the same day is the one changed.
    point_of_contact_save(
        point_of_contact=contact,
        actor=editor,
        postings=[
            {"code": "NATO", "active_from": "2021-08-01", "active_to": "2024-07-31"},
            {
                "code": "PHL",
                "active_from": "2025-07-01",
                "active_to": "2028-06-30",
                "title": "Defense attaché, Manila",
            },
        ],
    )
    assert Posting.objects.count() == 2
    (update,) = ChangeRecord.objects.filter(action="update")
    assert update.changes == {"active_to": [None, "2028-06-30"]}
    # The latest posting now to an organization: the summary has no nation.
    point_of_contact_save(
        point_of_contact=contact,
        postings=[{"code": "NATO", "active_from": "2029-01-01"}],
    )
    contact.refresh_from_db()
    assert contact.posted_to is None and Posting.objects.count() == 1
    assert ChangeRecord.objects.filter(action="delete").count() == 2


def test_bad_postings_are_errors_by_row_and_change_nothing(partners, editor):
    contact = attache(active_from="2020-01-01", active_to="2026-12-31")
    before = ChangeRecord.objects.count()
    with pytest.raises(ValidationError) as excinfo:
        point_of_contact_save(
            point_of_contact=contact,
            actor=editor,
            name="Renamed",
            postings=[
                {"code": "PHL", "active_from": "2020-01-01", "active_to": "2022-12-31"},
                {"code": "JPN", "active_from": "2024-01-01", "active_to": "2023-01-01"},
                {"code": "XXX", "active_from": "2024-01-01", "active_to": "2024-02-01"},
                {"code": "FRA", "active_from": "2019-06-01", "active_to": "2020-06-01"},
                {"code": "GBR", "active_from": "2025-01-01"},
                {"nation": "GBR", "organization": "NATO", "active_from": "2025-01-01"},
                "PHL",
            ],
        )
    errors = errors_of(excinfo)
    assert errors["postings[1].active_to"] == ["Must be on or after the active-from date."]
    assert "No nation or organization has the code 'XXX'." in errors["postings[2].code"]
    assert "contact's first day" in errors["postings[3].active_from"][0]
    assert "give the last day" in errors["postings[4].active_to"][0]
    assert errors["postings[5].nation"] == ["Choose exactly one of a nation or an organization."]
    assert "postings[6]" in errors and "postings[0].active_to" not in errors
    contact.refresh_from_db()
    assert contact.name == "Jane Doe" and not contact.postings.exists()
    assert ChangeRecord.objects.count() == before

    with pytest.raises(ValidationError) as excinfo:
        attache(posted_to="PHL")
    assert "postings" in errors_of(excinfo)["posted_to"][0]
    with pytest.raises(ValidationError) as excinfo:
        attache(
            postings=[{"code": "PHL", "active_from": "2024-01-01"}] * 2,
        )
    assert "PHL" in errors_of(excinfo)["postings"][0]


# The API ------------------------------------------------------------------------------------


@pytest.fixture
def postings_world(partners, frozen_today):
    """Jane Doe: NATO (past), PHL (current), JPN (future). John Roe: PHL in 2023 only."""
    jane = attache(
        postings=[
            {"code": "NATO", "active_from": "2019-08-01", "active_to": "2023-07-31"},
            {"code": "PHL", "active_from": "2023-08-01", "active_to": days(40).isoformat()},
            {"code": "JPN", "active_from": days(41).isoformat()},
        ]
    )
    john = attache(
        name="John Roe",
        represents="FRA",
        role=ContactRole.NAVAL_ATTACHE,
        postings=[{"code": "PHL", "active_from": "2023-01-01", "active_to": "2023-12-31"}],
    )
    return {"jane": jane, "john": john}


def test_postings_are_listed_the_current_first(postings_world, viewer):
    c = client_for(viewer)
    jane = postings_world["jane"]
    detail = c.get(f"/api/v1/points-of-contact/{jane.pk}/").json()
    assert [p["code"] for p in detail["postings"]] == ["PHL", "JPN", "NATO"]
    assert [p["current"] for p in detail["postings"]] == [True, False, False]
    assert detail["postings"][2]["kind"] == "organization"
    assert detail["posted_to"] == "JPN"  # the summary: the latest posting
    listed = c.get("/api/v1/points-of-contact/", {"represents": "USA"}).json()["results"]
    assert listed[0]["postings"] == detail["postings"]
    postings = c.get(f"/api/v1/points-of-contact/{jane.pk}/postings/")
    assert postings.status_code == 200 and postings.json() == detail["postings"]
    assert c.get(f"/api/v1/points-of-contact/{jane.pk}/postings/", {"x": 1}).status_code == 400
    assert c.get("/api/v1/points-of-contact/999999/postings/").status_code == 404


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"posted_to": "PHL"}, {"jane", "john"}),
        ({"posted_to": "PHL", "active_on": "2023-06-01"}, {"john"}),
        ({"posted_to": "PHL", "active_on": "2024-01-15"}, {"jane"}),
        ({"posted_to": "nato", "active_on": "2023-09-01"}, set()),  # over by then
        ({"posted_to": "NATO,FRA", "active_on": "2020-01-01"}, {"jane"}),
        ({"active_on": "2023-06-01"}, {"jane", "john"}),  # NATO and PHL, that day
        ({"active_on": "2024-06-01"}, {"jane"}),
        ({"active_on": "2019-01-01"}, set()),
        ({"posted_to": "JPN", "represents": "usa"}, {"jane"}),
    ],
)
def test_active_on_and_posted_to_ask_about_one_posting(postings_world, viewer, query, expected):
    response = client_for(viewer).get("/api/v1/points-of-contact/", query)
    assert response.status_code == 200, response.json()
    names = {row["name"].split()[0].lower() for row in response.json()["results"]}
    assert names == expected


def test_bad_filter_values_are_400s_naming_them(postings_world, viewer):
    c = client_for(viewer)
    assert "posted_to" in c.get("/api/v1/points-of-contact/", {"posted_to": "XYZ"}).json()
    assert "active_on" in c.get("/api/v1/points-of-contact/", {"active_on": "soon"}).json()


def test_api_writes_take_postings_with_errors_by_row(partners, editor, viewer, registrar):
    body = {
        "name": "Ana Cruz",
        "rank": "Capt.",
        "role": "naval_attache",
        "represents": "PHL",
        "postings": [
            {"code": "USA", "active_from": "2024-01-01", "active_to": "2025-12-31"},
            {"code": "NATO", "active_from": "2026-01-01", "active_to": "2025-01-01"},
        ],
    }
    c = client_for(editor)
    bad = c.post("/api/v1/points-of-contact/", body, format="json")
    assert bad.status_code == 400
    assert bad.json() == {"postings[1].active_to": ["Must be on or after the active-from date."]}
    body["postings"][1]["active_to"] = None
    body["postings"][0]["active_to"] = "soon"
    assert (
        "postings[0].active_to" in c.post("/api/v1/points-of-contact/", body, format="json").json()
    )
    assert not PointOfContact.objects.exists()
    body["postings"][0]["active_to"] = "2025-12-31"
    created = c.post("/api/v1/points-of-contact/", body, format="json")
    assert created.status_code == 201, created.json()
    assert [p["code"] for p in created.json()["postings"]] == ["NATO", "USA"]
    pk = created.json()["id"]
    patched = c.patch(
        f"/api/v1/points-of-contact/{pk}/", {"postings": [body["postings"][0]]}, format="json"
    )
    assert patched.status_code == 200 and len(patched.json()["postings"]) == 1
    # Reading is not writing; deletes are the admin's.
    assert client_for(viewer).patch(f"/api/v1/points-of-contact/{pk}/", {}).status_code == 403
    assert client_for(registrar).delete(f"/api/v1/points-of-contact/{pk}/").status_code == 405


def count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/points-of-contact/",
        "/api/v1/points-of-contact/?active_on=2025-01-01&posted_to=PHL,NATO",
    ],
)
def test_contact_list_query_count_does_not_grow(partners, viewer, url):
    def make(n):
        for i in range(n):
            contact = PointOfContact.objects.create(
                name=f"Officer {i}", role=ContactRole.DEFENSE_ATTACHE, represents=NationFactory()
            )
            Posting.objects.create(
                contact=contact, nation=partners["PHL"], active_from=D(2024, 1, 1)
            )
            Posting.objects.create(
                contact=contact, organization=partners["NATO"], active_from=D(2020, 1, 1)
            )

    c = client_for(viewer)
    make(1)
    one = count_queries(c, url)
    make(99)
    assert count_queries(c, url + ("&" if "?" in url else "?") + "page_size=200") == one


# Agreements and their desk officers ----------------------------------------------------------


def test_agreement_contacts_written_through_agreement_save_and_shown_within_clearance(
    client, partners, world, editor, viewer
):
    desk = attache(name="Desk Officer", role=ContactRole.DESK_OFFICER)
    public, secret = world["public"], world["secret"]
    agreement_save(agreement=public, actor=editor, contact_ids=[desk.pk])
    agreement_save(agreement=secret, contact_ids=[desk.pk])
    record = next(r for r in ChangeRecord.objects.order_by("pk") if "contacts" in r.changes)
    assert record.related_object is None and record.changed_object == public
    assert record.changes == {"contacts": [[], [f"Desk Officer (#{desk.pk})"]]}
    assert public.contacts.get() == desk

    with pytest.raises(ValidationError) as excinfo:
        agreement_save(agreement=public, contact_ids=[desk.pk, 999999])
    assert excinfo.value.message_dict["contact_ids"] == [
        "No point of contact has the id(s): 999999."
    ]

    c = client_for(viewer)
    detail = c.get(f"/api/v1/agreements/{public.pk}/").json()
    assert [(x["id"], x["represents"]) for x in detail["contacts"]] == [(desk.pk, "USA")]
    contact = c.get(f"/api/v1/points-of-contact/{desk.pk}/").json()
    assert [a["reference"] for a in contact["agreements"]] == [public.reference]  # not secret
    client.force_login(viewer)
    page = client.get(f"/agreements/{public.pk}/").content.decode()
    assert "Desk Officer (Desk officer, United States)" in page

    # Through the API: contacts are ids.
    response = client_for(editor).patch(
        f"/api/v1/agreements/{public.pk}/", {"contacts": []}, format="json"
    )
    assert response.status_code == 200 and response.json()["contacts"] == []


# Pages ----------------------------------------------------------------------------------------


def test_nation_page_lists_attaches_posted_here_and_from_here(client, postings_world, viewer):
    client.force_login(viewer)
    phl = client.get("/nations/PHL/").content.decode()
    posted_here = phl.split('id="posted-here-heading"')[1].split("</section>")[0]
    assert "Jane Doe" in posted_here and "John Roe" not in posted_here  # John's is over
    assert posted_here.index("Philippines") < posted_here.index("Japan")  # the current first
    usa = client.get("/nations/USA/").content.decode()
    from_here = usa.split('id="from-here-heading"')[1].split("</section>")[0]
    assert "Jane Doe" in from_here and "(current)" in from_here
    nato = client.get("/organizations/NATO/").content.decode()
    assert "Jane Doe" not in nato.split('id="posted-here-heading"')[1].split("</section>")[0]


# Reminders ------------------------------------------------------------------------------------


def sweep(today=TODAY):
    return [
        reminder_deliver(reminder_id=pk, today=today).outcome for pk in reminders_sweep(today=today)
    ]


def test_a_posting_ending_without_successor_is_reminded_once(partners, frozen_today, settings):
    settings.POSTINGS_OFFICE_EMAIL = "Attache-Office@example.org"
    jane = attache(
        postings=[{"code": "PHL", "active_from": "2024-01-01", "active_to": days(45).isoformat()}]
    )
    attache(  # ends in 62 days: not yet, nor tomorrow
        name="Later",
        postings=[{"code": "JPN", "active_from": "2024-01-01", "active_to": days(62).isoformat()}],
    )
    attache(  # ended yesterday: too late
        name="Gone",
        postings=[{"code": "FRA", "active_from": "2024-01-01", "active_to": days(-1).isoformat()}],
    )
    [due] = reminders_plan(today=TODAY)
    assert (due.kind, due.due_on, due.days_before) == ("posting_end", days(45), 60)
    assert sweep() == ["sent"]
    reminder = Reminder.objects.get()
    assert reminder.posting == jane.postings.get() and reminder.agreement is None
    assert reminder.recipient == "attache-office@example.org"
    [message] = mail.outbox
    assert "Jane Doe" in message.subject and "PHL" in message.subject
    assert "in 45 days" in message.subject and "no successor" in message.body
    assert sweep() == [] and sweep(days(1)) == [] and len(mail.outbox) == 1


def test_no_reminder_when_a_successor_is_recorded(partners, frozen_today):
    attache(
        postings=[{"code": "PHL", "active_from": "2024-01-01", "active_to": days(30).isoformat()}]
    )
    successor = attache(
        name="Next One", postings=[{"code": "PHL", "active_from": days(25).isoformat()}]
    )
    # A successor in another role, or elsewhere, is none.
    attache(
        name="Sailor",
        role=ContactRole.NAVAL_ATTACHE,
        postings=[{"code": "PHL", "active_from": days(31).isoformat()}],
    )
    assert sweep() == []
    assert not Reminder.objects.exists()
    # Without the successor, the sweep reminds; recorded again before delivery: cancelled.
    point_of_contact_save(point_of_contact=successor, postings=[])
    ids = reminders_sweep(today=TODAY)
    assert len(ids) == 1
    point_of_contact_save(
        point_of_contact=successor, postings=[{"code": "PHL", "active_from": days(31).isoformat()}]
    )
    assert reminder_deliver(reminder_id=ids[0], today=TODAY).outcome == "cancelled"
    assert Reminder.objects.get().error == "No longer due: a successor was recorded."
    assert mail.outbox == []


def test_an_extension_by_the_same_contact_is_a_successor(partners, frozen_today):
    attache(
        postings=[
            {"code": "NATO", "active_from": "2024-01-01", "active_to": days(10).isoformat()},
            {
                "code": "NATO",
                "active_from": days(11).isoformat(),
                "active_to": days(500).isoformat(),
            },
        ]
    )
    assert reminders_plan(today=TODAY) == []


def test_the_reminder_row_names_exactly_one_subject(partners, world):
    posting = Posting.objects.get()
    common = {
        "kind": ReminderKind.POSTING_END,
        "due_on": TODAY,
        "days_before": 60,
        "recipient": "x@example.org",
    }
    with pytest.raises(ValidationError):
        Reminder(**common).full_clean()
    with pytest.raises(ValidationError):
        Reminder(agreement=world["public"], posting=posting, **common).full_clean()
    Reminder(posting=posting, **common).full_clean()


def test_posting_reminders_listed_for_registry_admins_only(
    partners, frozen_today, registrar, viewer
):
    attache(
        postings=[{"code": "PHL", "active_from": "2024-01-01", "active_to": days(5).isoformat()}]
    )
    sweep()
    rows = client_for(registrar).get("/api/v1/reminders/").json()["results"]
    assert [(r["kind"], r["agreement"], r["posting"]["code"]) for r in rows] == [
        ("posting_end", None, "PHL")
    ]
    assert client_for(viewer).get("/api/v1/reminders/").json()["results"] == []
