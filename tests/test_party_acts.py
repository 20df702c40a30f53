"""Party acts: each party's relation to an agreement as a dated ledger, its status on a day
derived from it (agreements/party_acts.py), written through agreement_save with history, and
the questions about a day that use it (in_force_on with party, suspensions, organization=)."""

import datetime
import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from agreements import party_acts
from agreements.choices import PartyActKind as K
from agreements.choices import PartyStatus as S
from agreements.models import Agreement, PartyAct, PartyPeriod
from agreements.services import agreement_save
from history.models import ChangeRecord

from .api_helpers import client_for
from .factories import MembershipFactory, NationFactory

D = datetime.date


class A:
    def __init__(self, kind, date, effective_on=None):
        self.kind, self.date, self.effective_on = kind, date, effective_on


EIF = D(2000, 1, 1)


def periods(acts, eif=EIF, binds=False):
    return [
        (p.status, p.starts_on, p.ends_on)
        for p in party_acts.party_periods(acts, agreement_in_force_on=eif, signature_binds=binds)
    ]


# The rules, on plain acts ----------------------------------------------------------------


def test_no_acts_means_bound_from_the_agreements_entry_into_force():
    assert periods([]) == [(S.BOUND, D(2000, 1, 1), None)]
    assert periods([], eif=None) == []


def test_a_signature_binds_only_when_the_agreement_took_effect_on_signature():
    signed = [A(K.SIGNATURE, D(1999, 5, 1))]
    assert periods(signed, binds=True) == [
        (S.SIGNATORY, D(1999, 5, 1), D(2000, 1, 1)),
        (S.BOUND, D(2000, 1, 1), None),
    ]
    assert periods(signed, binds=False) == [(S.SIGNATORY, D(1999, 5, 1), None)]


def test_signature_binds_for_bilateral_or_when_nobody_ratifies():
    ratified = [[A(K.SIGNATURE, D(1999, 5, 1)), A(K.RATIFICATION, D(1999, 9, 1))]]
    only_signed = [[A(K.SIGNATURE, D(1999, 5, 1))]]
    assert party_acts.signature_binds(ratified + only_signed, 2)
    assert not party_acts.signature_binds(ratified + only_signed + only_signed, 3)
    # Accession is how non-signatories join: it does not make signatures insufficient.
    acceded = [[A(K.ACCESSION, D(2024, 3, 7))]]
    assert party_acts.signature_binds(only_signed * 12 + acceded, 13)


def test_consent_binds_from_the_later_of_itself_and_the_agreements_entry_into_force():
    early = [A(K.SIGNATURE, D(1999, 5, 1)), A(K.RATIFICATION, D(1999, 9, 1))]
    assert periods(early)[-1] == (S.BOUND, D(2000, 1, 1), None)
    late = [A(K.ACCESSION, D(2024, 3, 7))]
    assert periods(late) == [(S.BOUND, D(2024, 3, 7), None)]


def test_own_entry_into_force_wins_over_the_computed_one():
    acts = [A(K.RATIFICATION, D(2001, 3, 1)), A(K.ENTRY_INTO_FORCE, D(2001, 4, 18))]
    assert periods(acts, eif=D(2000, 1, 1)) == [
        (S.SIGNATORY, D(2001, 3, 1), D(2001, 4, 18)),
        (S.BOUND, D(2001, 4, 18), None),
    ]


def test_a_denunciation_takes_effect_on_its_effective_date():
    acts = [A(K.RATIFICATION, D(1948, 3, 5)), A(K.DENUNCIATION, D(2002, 9, 6), D(2004, 9, 6))]
    assert periods(acts, eif=D(1948, 12, 3)) == [
        (S.SIGNATORY, D(1948, 3, 5), D(1948, 12, 3)),
        (S.BOUND, D(1948, 12, 3), D(2004, 9, 6)),
        (S.WITHDRAWN, D(2004, 9, 6), None),
    ]


def test_suspension_and_resumption():
    acts = [A(K.SUSPENSION, D(2007, 12, 12)), A(K.RESUMPTION, D(2010, 1, 1))]
    assert periods(acts, eif=D(1992, 11, 9)) == [
        (S.BOUND, D(1992, 11, 9), D(2007, 12, 12)),
        (S.SUSPENDED, D(2007, 12, 12), D(2010, 1, 1)),
        (S.BOUND, D(2010, 1, 1), None),
    ]


def test_withdrawal_of_ratification_leaves_a_signatory():
    acts = [
        A(K.SIGNATURE, D(1998, 1, 1)),
        A(K.RATIFICATION, D(1999, 1, 1)),
        A(K.WITHDRAWAL_OF_RATIFICATION, D(2005, 1, 1)),
    ]
    result = periods(acts)
    assert result[-1] == (S.SIGNATORY, D(2005, 1, 1), None)
    assert party_acts.status_on(
        party_acts.party_periods(acts, agreement_in_force_on=D(2000, 1, 1), signature_binds=False),
        D(2003, 1, 1),
    ) == (S.BOUND)


def test_provisional_application_until_bound():
    acts = [A(K.PROVISIONAL_APPLICATION, D(1999, 6, 1)), A(K.RATIFICATION, D(2001, 1, 1))]
    assert periods(acts) == [
        (S.PROVISIONAL, D(1999, 6, 1), D(2001, 1, 1)),
        (S.BOUND, D(2001, 1, 1), None),
    ]


def test_reservations_and_declarations_change_nothing():
    acts = [A(K.RATIFICATION, D(1999, 1, 1)), A(K.RESERVATION, D(1999, 1, 1))]
    assert periods(acts) == periods([A(K.RATIFICATION, D(1999, 1, 1))])


# The write path ---------------------------------------------------------------------------

NAT = {
    "reference": "NAT",
    "title": "North Atlantic Treaty",
    "type": "alliance",
    "status": "in_force",
    "signed_on": D(1949, 4, 4),
    "entered_into_force_on": D(1949, 8, 24),
}


@pytest.fixture
def nat(partners):
    NationFactory(iso3="SWE", name="Sweden")
    return agreement_save(
        **NAT,
        parties=[
            {"code": "USA", "signed_on": D(1949, 4, 4)},
            {"code": "GBR", "signed_on": D(1949, 4, 4)},
            {"code": "FRA", "signed_on": D(1949, 4, 4)},
            {
                "code": "SWE",
                "acts": [
                    {
                        "kind": "accession",
                        "date": "2024-03-07",
                        "source_url": "https://example.org/depositary",
                    }
                ],
            },
        ],
    )


def refs(user, **params):
    response = client_for(user).get("/api/v1/agreements/", params)
    assert response.status_code == 200, response.json()
    return sorted(row["reference"] for row in response.json()["results"])


def test_shorthand_dates_become_acts_and_acts_give_the_dates(nat):
    usa = nat.parties.get(nation__iso3="USA")
    assert [(a.kind, a.date) for a in usa.acts.all()] == [(K.SIGNATURE, D(1949, 4, 4))]
    swe = nat.parties.get(nation__iso3="SWE")
    assert swe.ratified_on == D(2024, 3, 7)  # the summary date, read from the acts
    stored = PartyPeriod.objects.filter(party=swe).values_list("status", "starts_on", "ends_on")
    assert list(stored) == [(S.BOUND, D(2024, 3, 7), None)]


def test_party_in_force_on_uses_each_partys_own_acts(nat, viewer):
    assert refs(viewer, party="SWE", in_force_on="2010-01-01") == []
    assert refs(viewer, party="SWE", in_force_on="2024-03-07") == ["NAT"]
    assert refs(viewer, party="USA,SWE", in_force_on="2024-03-06") == []
    assert refs(viewer, party="USA", in_force_on="1949-08-24") == ["NAT"]


def test_acts_are_recorded_in_history(nat, editor):
    records = ChangeRecord.objects.filter(changed_object_type__model="partyact")
    assert records.filter(action="create").count() == 4
    swe = nat.parties.get(nation__iso3="SWE")
    agreement_save(
        agreement=nat,
        actor=editor,
        parties=[
            *(p.code for p in nat.parties.exclude(pk=swe.pk)),
            {"code": "SWE", "acts": [{"kind": "accession", "date": "2024-03-07", "note": "ok"}]},
        ],
    )
    update = records.get(action="update")
    assert update.changes["note"] == ["", "ok"]
    assert update.changes["source_url"] == ["https://example.org/depositary", ""]


def test_a_party_without_acts_in_a_write_keeps_its_acts(nat):
    before = list(PartyAct.objects.order_by("pk").values_list("pk", "kind", "date"))
    version = Agreement.objects.get(pk=nat.pk).version
    agreement_save(agreement=nat, parties=["USA", "GBR", "FRA", "SWE"])
    assert list(PartyAct.objects.order_by("pk").values_list("pk", "kind", "date")) == before
    assert Agreement.objects.get(pk=nat.pk).version == version


def test_shorthand_that_disagrees_with_the_acts_is_refused(nat):
    with pytest.raises(ValidationError) as caught:
        agreement_save(
            agreement=nat,
            parties=[
                "USA",
                "GBR",
                "FRA",
                {
                    "code": "SWE",
                    "ratified_on": D(2023, 1, 1),
                    "acts": [{"kind": "accession", "date": "2024-03-07"}],
                },
            ],
        )
    assert "parties[3].ratified_on" in caught.value.message_dict
    assert "2024-03-07" in caught.value.message_dict["parties[3].ratified_on"][0]


def test_bad_acts_are_errors_by_place(nat):
    bad = [
        {"kind": "annexation", "date": "2024-03-07"},
        {"kind": "accession", "date": "2024-13-07"},
        {"kind": "withdrawal", "date": "2024-03-07", "effective_on": "2023-01-01"},
        {"kind": "accession", "date": "2024-03-07", "colour": "blue"},
        "accession",
    ]
    with pytest.raises(ValidationError) as caught:
        agreement_save(agreement=nat, parties=["USA", "GBR", "FRA", {"code": "SWE", "acts": bad}])
    errors = caught.value.message_dict
    assert "parties[3].acts[0].kind" in errors
    assert "parties[3].acts[1].date" in errors
    assert "parties[3].acts[2].effective_on" in errors
    assert "Unknown field" in errors["parties[3].acts[3]"][0]
    assert "parties[3].acts[4]" in errors
    assert PartyAct.objects.filter(party__nation__iso3="SWE").count() == 1


def test_a_withdrawal_must_take_effect_after_the_party_joined(nat):
    acts = [
        {"kind": "accession", "date": "2024-03-07"},
        {"kind": "withdrawal", "date": "2020-01-01"},
    ]
    with pytest.raises(ValidationError) as caught:
        agreement_save(agreement=nat, parties=["USA", "GBR", "FRA", {"code": "SWE", "acts": acts}])
    assert "parties[3].acts[1]" in caught.value.message_dict


def test_changing_the_agreements_entry_into_force_moves_the_periods(nat):
    agreement_save(agreement=nat, entered_into_force_on=D(1950, 1, 1))
    usa = PartyPeriod.objects.get(party__nation__iso3="USA", status=S.BOUND)
    assert usa.starts_on == D(1950, 1, 1)


# The API ---------------------------------------------------------------------------------


def test_api_detail_lists_acts_and_status_under_each_party(nat, viewer, frozen_today):
    body = client_for(viewer).get(f"/api/v1/agreements/{nat.pk}/").json()
    swe = next(p for p in body["parties"] if p["code"] == "SWE")
    assert swe["status"] == "bound"
    assert swe["acts"] == [
        {
            "kind": "accession",
            "date": "2024-03-07",
            "effective_on": None,
            "note": "",
            "source_url": "https://example.org/depositary",
        }
    ]


def test_api_create_and_put_take_acts(partners, editor):
    payload = {
        **{k: str(v) for k, v in NAT.items()},
        "parties": [
            {"code": "USA", "acts": [{"kind": "signature", "date": "1949-04-04"}]},
            {"code": "GBR", "signed_on": "1949-04-04"},
            {
                "code": "FRA",
                "acts": [
                    {"kind": "signature", "date": "1949-04-04"},
                    {"kind": "denunciation", "date": "2030-01-01", "effective_on": "2031-01-01"},
                ],
            },
        ],
    }
    client = client_for(editor)
    response = client.post("/api/v1/agreements/", payload, format="json")
    assert response.status_code == 201, response.json()
    fra = next(p for p in response.json()["parties"] if p["code"] == "FRA")
    assert fra["withdrawn_on"] == "2031-01-01"
    assert [a["kind"] for a in fra["acts"]] == ["signature", "denunciation"]
    # A PUT that names the parties without acts or dates keeps their acts.
    url = f"/api/v1/agreements/{response.json()['id']}/"
    put = {**payload, "parties": [{"code": "USA"}, {"code": "GBR"}, {"code": "FRA"}]}
    response = client.put(url, put, format="json", HTTP_IF_MATCH=response["ETag"])
    assert response.status_code == 200, response.json()
    assert PartyAct.objects.filter(party__nation__iso3="FRA").count() == 2
    bad = {**payload, "parties": [{"code": "USA", "acts": [{"kind": "x", "date": "1949"}]}]}
    errors = client.put(url, bad, format="json").json()
    assert "parties[0].acts[0].kind" in errors and "parties[0].acts[0].date" in errors


def test_import_takes_acts(partners, tmp_path):
    row = {
        **{k: str(v) for k, v in NAT.items()},
        "parties": [
            {"code": "USA", "acts": [{"kind": "ratification", "date": "1949-07-25"}]},
            {"code": "GBR", "acts": [{"kind": "ratification", "date": "1949-06-07"}]},
            {"code": "FRA", "signed_on": "1949-04-04"},
        ],
    }
    path = tmp_path / "nat.jsonl"
    path.write_text(json.dumps(row) + "\n")
    call_command("import_agreements", str(path), "--no-progress")
    nat = Agreement.objects.get(reference="NAT")
    assert PartyAct.objects.filter(party__agreement=nat).count() == 3
    # France only signed, the others ratified: France is a signatory, not bound.
    statuses = dict(nat.party_periods.values_list("party__nation__iso3", "status"))
    assert statuses == {"USA": S.BOUND, "GBR": S.BOUND, "FRA": S.SIGNATORY}


# Questions about a day --------------------------------------------------------------------


def test_a_suspended_agreement_is_not_in_force_while_suspended(nat, viewer):
    agreement_save(
        agreement=nat,
        add_events=[
            {"kind": "suspended", "date": D(2014, 4, 1)},
            {"kind": "resumed", "date": D(2016, 1, 1)},
        ],
    )
    assert refs(viewer, in_force_on="2014-03-31") == ["NAT"]
    assert refs(viewer, in_force_on="2014-04-01") == []
    assert refs(viewer, in_force_on="2015-12-31") == []
    assert refs(viewer, in_force_on="2016-01-01") == ["NAT"]


def test_organization_counts_members_only_while_they_were_members(partners, viewer):
    nato = partners["NATO"]
    pol = NationFactory(iso3="POL", name="Poland")
    sun = NationFactory(iso3="SUN", name="USSR")
    MembershipFactory(nation=pol, organization=nato, joined_on=D(1999, 3, 12))
    MembershipFactory(nation=partners["FRA"], organization=nato, joined_on=D(1949, 8, 24))
    fields = {"type": "alliance", "status": "terminated", "signed_on": D(1955, 5, 14)}
    fields |= {"entered_into_force_on": D(1955, 6, 4), "terminated_on": D(1991, 7, 1)}
    agreement_save(reference="WARSAW", title="Warsaw Pact", parties=["SUN", "POL"], **fields)
    fields = {"type": "dca", "status": "in_force", "signed_on": D(2000, 1, 1)}
    fields |= {"entered_into_force_on": D(2000, 1, 1)}
    agreement_save(reference="PL-FR", title="Polish-French", parties=["POL", "FRA"], **fields)
    assert sun.pk
    assert refs(viewer, organization="NATO") == ["PL-FR"]
    # A member on the day asked.
    assert refs(viewer, organization="NATO", in_force_on="2005-01-01") == ["PL-FR"]
    with_late = {"type": "dca", "status": "expired", "signed_on": D(1990, 1, 1)}
    with_late |= {"entered_into_force_on": D(1990, 1, 1), "expires_on": D(2001, 1, 1)}
    agreement_save(reference="PL-OLD", title="Old", parties=["POL", "SUN"], **with_late)
    assert refs(viewer, organization="NATO") == ["PL-FR", "PL-OLD"]  # Poland joined in 1999
    assert refs(viewer, organization="NATO", in_force_on="1998-01-01") == []
    assert refs(viewer, organization="NATO", in_force_on="2000-06-01") == ["PL-FR", "PL-OLD"]


def test_day_questions_take_the_same_number_of_queries_for_1_and_50_parties(partners, viewer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    nations = [NationFactory() for _ in range(50)]
    for nation in nations:
        MembershipFactory(nation=nation, organization=partners["NATO"])

    def count():
        with CaptureQueriesContext(connection) as ctx:
            refs(viewer, party="USA", in_force_on="2020-01-01", organization="NATO")
        return len(ctx)

    base = {"type": "dca", "status": "in_force", "signed_on": D(2000, 1, 1)}
    base |= {"entered_into_force_on": D(2000, 1, 1)}
    agreement_save(reference="ONE", title="One", parties=["USA", nations[0].iso3], **base)
    count()  # warm the per-process caches
    small = count()
    agreement_save(
        reference="MANY", title="Many", parties=["USA", *(n.iso3 for n in nations)], **base
    )
    assert count() == small


# The admin ---------------------------------------------------------------------------------


def test_admin_party_page_records_acts_through_the_write_path(client, nat, editor):
    from .formscrape import form_data

    swe = nat.parties.get(nation__iso3="SWE")
    client.force_login(editor)
    agreement_page = client.get(f"/admin/agreements/agreement/{nat.pk}/change/").content.decode()
    url = f"/admin/agreements/agreementparty/{swe.pk}/change/"
    assert url in agreement_page
    data = form_data(client.get(url).content.decode(), "agreementparty_form")
    data.update(
        {"acts-1-kind": "declaration", "acts-1-date": "2024-03-08", "acts-1-note": "On Art. 5"}
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(swe.acts.values_list("kind", flat=True)) == ["accession", "declaration"]
    record = ChangeRecord.objects.get(
        changed_object_type__model="partyact", action="create", actor=editor
    )
    assert record.source == "admin"
    # A wrong act is an error on its row, and nothing changes.
    data = form_data(client.get(url).content.decode(), "agreementparty_form")
    data.update({"acts-2-kind": "withdrawal", "acts-2-date": "2020-01-01"})
    response = client.post(url, data)
    assert response.status_code == 200
    assert "after the party joined" in response.content.decode()
    assert swe.acts.count() == 2


def test_admin_party_page_of_an_agreement_out_of_reach_is_a_404(client, nat, editor):
    Agreement.objects.filter(pk=nat.pk).update(classification="secret")
    swe = nat.parties.get(nation__iso3="SWE")
    client.force_login(editor)  # cleared to confidential
    assert client.get(f"/admin/agreements/agreementparty/{swe.pk}/change/").status_code == 404


def test_the_migration_turns_stored_party_dates_into_acts_and_periods(partners):
    import importlib

    from django.apps import apps

    from agreements.models import AgreementParty

    from .factories import AgreementFactory

    migration = importlib.import_module("agreements.migrations.0006_party_acts")
    agreement = AgreementFactory(parties=[])
    AgreementParty.objects.create(
        agreement=agreement, nation=partners["USA"], signed_on=D(2015, 3, 1)
    )
    AgreementParty.objects.create(
        agreement=agreement,
        nation=partners["PHL"],
        signed_on=D(2015, 3, 1),
        withdrawn_on=D(2020, 1, 1),
    )
    PartyPeriod.objects.all().delete()
    migration.shorthand_to_acts(apps, None)
    acts = set(PartyAct.objects.values_list("party__nation__iso3", "kind", "date"))
    assert acts == {
        ("USA", K.SIGNATURE, D(2015, 3, 1)),
        ("PHL", K.SIGNATURE, D(2015, 3, 1)),
        ("PHL", K.WITHDRAWAL, D(2020, 1, 1)),
    }
    phl = PartyPeriod.objects.filter(party__nation__iso3="PHL").values_list("status", "starts_on")
    assert list(phl) == [
        (S.SIGNATORY, D(2015, 3, 1)),
        (S.BOUND, D(2015, 6, 1)),
        (S.WITHDRAWN, D(2020, 1, 1)),
    ]


# Former states ----------------------------------------------------------------------------


@pytest.fixture
def ussr(partners):
    return NationFactory(
        iso3="SUN",
        name="USSR",
        is_historical=True,
        valid_from=D(1922, 12, 30),
        valid_to=D(1991, 12, 26),
    )


def test_a_former_state_cannot_act_after_it_ceased_to_exist(partners, ussr):
    fields = {"reference": "LATE", "title": "Late", "type": "dca", "status": "signed"}
    with pytest.raises(ValidationError) as caught:
        agreement_save(
            **fields,
            signed_on=D(1995, 1, 1),
            parties=[{"code": "SUN", "signed_on": D(1995, 1, 1)}, "USA"],
        )
    message = caught.value.message_dict["parties[0].signed_on"][0]
    assert "USSR ceased to exist on 1991-12-26" in message
    with pytest.raises(ValidationError) as caught:
        agreement_save(
            **fields,
            signed_on=D(1995, 1, 1),
            parties=[{"code": "SUN", "acts": [{"kind": "accession", "date": "1920-01-01"}]}, "USA"],
        )
    assert (
        "came into being only on 1922-12-30" in caught.value.message_dict["parties[0].acts[0]"][0]
    )
    assert not Agreement.objects.filter(reference="LATE").exists()


def test_a_former_states_periods_end_when_it_ceased(partners, ussr, viewer):
    agreement_save(
        reference="CN-SU",
        title="Treaty",
        type="alliance",
        status="expired",
        signed_on=D(1950, 2, 14),
        entered_into_force_on=D(1950, 4, 11),
        expires_on=D(2000, 4, 11),
        parties=["SUN", "USA"],
    )
    period = PartyPeriod.objects.get(party__nation__iso3="SUN")
    assert (period.starts_on, period.ends_on) == (D(1950, 4, 11), D(1991, 12, 27))
    assert refs(viewer, party="SUN", in_force_on="1991-12-26") == ["CN-SU"]
    assert refs(viewer, party="SUN", in_force_on="1991-12-27") == []


def test_rebuild_periods_follows_a_change_of_existence_dates(partners, ussr):
    agreement_save(
        reference="CN-SU",
        title="Treaty",
        type="alliance",
        status="in_force",
        signed_on=D(1950, 2, 14),
        entered_into_force_on=D(1950, 4, 11),
        parties=["SUN", "USA"],
    )
    type(ussr).objects.filter(pk=ussr.pk).update(valid_to=D(1980, 1, 1))
    out = io.StringIO()
    call_command("rebuild_periods", "--former-states", stdout=out)
    assert "1 of 1 agreements changed" in out.getvalue()
    assert PartyPeriod.objects.get(party__nation__iso3="SUN").ends_on == D(1980, 1, 2)
    out = io.StringIO()
    call_command("rebuild_periods", stdout=out)
    assert "0 of 1 agreements changed" in out.getvalue()
