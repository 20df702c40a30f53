"""Review of issue 10 ("answers true on the day"): party acts, the rules of a day, the write
paths that carry acts, the import and the cursor. Each test is a finding: it fails on main
as it stands (2548e6d) and says, in its docstring, what is wrong and how much it matters.
Run on PostgreSQL (the NUL-character cases and the two-thread tests need it):
``DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_review10 pytest tests/test_review10.py``."""

import base64
import datetime
import json

import pytest

from agreements import party_acts
from agreements.choices import PartyActKind as K
from agreements.importers import ImportFailed, import_file
from agreements.models import AgreementParty, PartyAct
from agreements.services import agreement_save

from .api_helpers import client_for
from .factories import AgreementFactory, NationFactory

D = datetime.date


class A:
    def __init__(self, kind, date, effective_on=None):
        self.kind, self.date, self.effective_on = kind, date, effective_on


def periods(acts, eif, binds=False):
    return [
        (p.status, p.starts_on, p.ends_on)
        for p in party_acts.party_periods(acts, agreement_in_force_on=eif, signature_binds=binds)
    ]


def status(acts, eif, day, binds=False):
    return party_acts.status_on(
        party_acts.party_periods(acts, agreement_in_force_on=eif, signature_binds=binds), day
    )


def refs(user, **params):
    response = client_for(user).get("/api/v1/agreements/", params)
    assert response.status_code == 200, response.json()
    return sorted(row["reference"] for row in response.json()["results"])


IN_FORCE = {"type": "dca", "status": "in_force"}


@pytest.mark.django_db(transaction=True)
def test_party_acts_save_does_not_drop_a_party_added_by_another_writer_meanwhile(partners):
    """MEDIUM (concurrency). ``party_acts_save`` (the admin party page) lists the agreement's
    parties *before* ``agreement_save`` takes the row lock, then hands that list over as the
    full set of parties. A party another editor adds between the two is deleted, with its
    acts, by a page that only meant to change one party's acts. Two threads: A pauses after
    listing (at most 3 s), B adds JPN and commits (or waits for A's lock), then A goes on."""
    import threading

    from django.db import connection

    from agreements.services import children

    agreement = agreement_save(
        reference="RACE",
        title="Race",
        **IN_FORCE,
        signed_on=D(2000, 1, 1),
        entered_into_force_on=D(2000, 1, 1),
        parties=["USA", "PHL"],
    )
    usa = agreement.parties.get(nation__iso3="USA")
    listed, added = threading.Event(), threading.Event()
    real = children.agreement_save

    def pause_then_save(**kwargs):
        listed.set()
        added.wait(timeout=3)
        return real(**kwargs)

    def editor_a():
        try:
            children.party_acts_save(party=usa, acts=[{"kind": "signature", "date": D(2000, 1, 1)}])
        finally:
            listed.set()
            connection.close()

    def editor_b():
        try:
            listed.wait(timeout=3)
            agreement_save(agreement=agreement, parties=["USA", "PHL", "JPN"])
        finally:
            added.set()
            connection.close()

    children.agreement_save = pause_then_save
    try:
        threads = [threading.Thread(target=editor_a), threading.Thread(target=editor_b)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        children.agreement_save = real
    codes = set(
        AgreementParty.objects.filter(agreement=agreement).values_list("nation__iso3", flat=True)
    )
    assert "JPN" in codes  # actual: {"USA", "PHL"}: JPN silently removed with its row


def test_the_admin_party_page_refuses_a_save_over_someone_elses_change(client, partners, editor):
    """MEDIUM (lost update). The agreement form sends ``version_seen`` and refuses a stale
    save; the party page (PartyActsForm) sends no version at all. Two editors open the same
    party; the first records a declaration, the second a reservation; the second save
    silently deletes the first editor's declaration."""
    from .formscrape import form_data

    agreement = agreement_save(
        reference="TWO-EDITORS",
        title="Two editors",
        **IN_FORCE,
        signed_on=D(2000, 1, 1),
        entered_into_force_on=D(2000, 1, 1),
        parties=["USA", {"code": "PHL", "signed_on": D(2000, 1, 1)}],
    )
    phl = agreement.parties.get(nation__iso3="PHL")
    url = f"/admin/agreements/agreementparty/{phl.pk}/change/"
    client.force_login(editor)
    first = form_data(client.get(url).content.decode(), "agreementparty_form")
    second = form_data(client.get(url).content.decode(), "agreementparty_form")
    first.update({"acts-1-kind": "declaration", "acts-1-date": "2000-02-01"})
    assert client.post(url, first).status_code == 302
    second.update({"acts-1-kind": "reservation", "acts-1-date": "2000-03-01"})
    response = client.post(url, second)
    kinds = set(phl.acts.values_list("kind", flat=True))
    assert K.DECLARATION in kinds or response.status_code == 200, kinds  # actual: lost, 302


def test_a_party_deleted_and_added_again_on_the_agreement_page_starts_afresh(
    client, partners, registrar
):
    """LOW. On the agreement's admin page, deleting the USA row and adding a new USA row
    (signed 2001-01-01, nothing else) in one save does not replace the party: the form hands
    the service an ``AgreementParty`` by code, which is matched to the old one, and the new
    row's dates are applied as shorthand on top of the old acts. The old signature moves to
    the new date *with its note and source*, and the old declaration (a kind no shorthand
    stands for) survives on the "new" party. (With a rejoined party the same save is refused
    with an error about a withdrawal the editor never saw.)"""
    from .formscrape import form_data

    agreement = agreement_save(
        reference="READD",
        title="Re-added",
        **IN_FORCE,
        signed_on=D(2000, 1, 1),
        entered_into_force_on=D(2000, 1, 1),
        parties=[
            {
                "code": "USA",
                "acts": [
                    {"kind": "signature", "date": "2000-01-01", "note": "old note"},
                    {"kind": "declaration", "date": "2000-02-01", "note": "old declaration"},
                ],
            },
            "PHL",
        ],
    )
    client.force_login(registrar)  # editors may not delete rows
    url = f"/admin/agreements/agreement/{agreement.pk}/change/"
    data = form_data(client.get(url).content.decode(), "agreement_form")
    usa_row = next(
        key.split("-")[1]
        for key, value in data.items()
        if key.startswith("parties-")
        and key.endswith("-nation")
        and value == str(partners["USA"].pk)
    )
    data[f"parties-{usa_row}-DELETE"] = "on"
    new = int(data["parties-TOTAL_FORMS"])
    data["parties-TOTAL_FORMS"] = str(new + 1)
    data |= {
        f"parties-{new}-{name}": ""
        for name in ("id", "organization", "ratified_on", "entered_into_force_on", "withdrawn_on")
    }
    data |= {
        f"parties-{new}-agreement": str(agreement.pk),
        f"parties-{new}-nation": str(partners["USA"].pk),
        f"parties-{new}-signed_on": "2001-01-01",
    }
    assert client.post(url, data).status_code == 302
    acts = list(
        PartyAct.objects.filter(party__agreement=agreement, party__nation__iso3="USA").values_list(
            "kind", "date", "note"
        )
    )
    assert acts == [(K.SIGNATURE, D(2001, 1, 1), "")]  # actual: note kept, declaration kept


# 4. Crashes instead of errors ---------------------------------------------------------------


@pytest.mark.parametrize(
    "act",
    [
        pytest.param({"kind": "signature", "date": 20000101}, id="date-number"),
        pytest.param({"kind": "signature", "date": True}, id="date-bool"),
        pytest.param(
            {"kind": "signature", "date": "2000-01-01", "effective_on": 7}, id="effective-number"
        ),
        pytest.param({"kind": "signature", "date": "2000-01-01", "note": None}, id="note-null"),
        pytest.param({"kind": "signature", "date": "2000-01-01", "note": "a\x00b"}, id="note-nul"),
        pytest.param(
            {"kind": "signature", "date": "2000-01-01", "source_url": "https://a.example/\x00"},
            id="source-nul",
        ),
    ],
)
def test_import_reports_a_malformed_act_on_its_line(partners, tmp_path, act):
    """MEDIUM. ``check_row_shape`` checks the JSON types of a party's own fields but not of
    its ``acts``; ``coerce_fields`` then calls ``DateField.to_python`` on a number (TypeError
    from ``date.fromisoformat``), and a null note or a NUL character reaches the database
    (IntegrityError, DataError on PostgreSQL). The import dies with a traceback instead of
    naming the line; the API refuses the same acts with a 400."""
    row = {
        "reference": "IMP-1",
        "title": "T",
        **IN_FORCE,
        "signed_on": "2000-01-01",
        "entered_into_force_on": "2000-02-01",
        "parties": [{"code": "USA", "acts": [act]}, "PHL"],
    }
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps(row) + "\n")
    with pytest.raises(ImportFailed) as caught:
        import_file(path)
    ((line, message),) = caught.value.result.errors
    assert line == 1 and "parties[0].acts[0]" in message


@pytest.mark.parametrize("position", ["abc", "1.5", "\x00", "1e5"])
def test_a_cursor_whose_position_is_not_a_number_is_refused_not_a_500(partners, viewer, position):
    """MEDIUM. The keyset cursor's ``p=`` goes straight into ``id__gt``: a cursor decoding to
    ``p=abc`` raises ValueError in the queryset (a 500); DRF answers other bad cursors 404
    "Invalid cursor" (test_cursor_pagination), so should this one."""
    AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    cursor = base64.b64encode(f"p={position}".encode()).decode()
    client = client_for(viewer)
    client.raise_request_exception = False
    response = client.get("/api/v1/agreements/", {"cursor": cursor})
    assert response.status_code in (400, 404)


# 5. Query counts -------------------------------------------------------------------------------


def test_the_admin_agreement_page_costs_the_same_for_2_and_25_parties(client, partners, editor):
    """LOW (probably older than issue 10). The agreement change page makes two queries per
    party row (the nation and organization autocomplete widgets each look up their selected
    value): 20 queries for 2 parties, 66 for 25. The party inline's act count is annotated,
    so acts add nothing; the widgets do."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def make(n, reference):
        return agreement_save(
            reference=reference,
            title="T",
            **IN_FORCE,
            signed_on=D(2000, 1, 1),
            entered_into_force_on=D(2000, 1, 1),
            parties=[NationFactory().iso3 for _ in range(n)],
        )

    small, big = make(2, "SMALL"), make(25, "BIG")
    client.force_login(editor)

    def count(agreement):
        url = f"/admin/agreements/agreement/{agreement.pk}/change/"
        client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx)

    assert count(big) == count(small)
