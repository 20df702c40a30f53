"""Each rule the data must keep, refused with a clear message naming the field, through the
service, through the admin form, and (where it can hold it) by the database."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.choices import Classification
from agreements.models import Agreement, AgreementParty, Provision
from agreements.services import agreement_save
from agreements.services.plan import party_set_errors

from .factories import AgreementFactory, ProvisionFactory
from .formscrape import form_data

D = datetime.date


def base_fields(**overrides):
    fields = {
        "title": "Defense cooperation agreement",
        "type": "dca",
        "status": "in_force",
        "signed_on": D(2014, 4, 28),
        "entered_into_force_on": D(2014, 6, 25),
    }
    fields.update(overrides)
    return fields


TWO_PARTIES = [{"code": "USA"}, {"code": "PHL"}]

# (fields, parties, the field the error names, a word of the message)
BROKEN = [
    pytest.param(
        base_fields(entered_into_force_on=D(2014, 1, 1)),
        TWO_PARTIES,
        "entered_into_force_on",
        "signed",
        id="in-force-before-signed",
    ),
    pytest.param(
        base_fields(expires_on=D(2014, 6, 1)),
        TWO_PARTIES,
        "expires_on",
        "entered into force",
        id="expires-before-in-force",
    ),
    pytest.param(
        base_fields(status="terminated", terminated_on=D(2013, 1, 1)),
        TWO_PARTIES,
        "terminated_on",
        "signed",
        id="terminated-before-signed",
    ),
    pytest.param(
        base_fields(entered_into_force_on=None),
        TWO_PARTIES,
        "entered_into_force_on",
        "in force",
        id="in-force-without-date",
    ),
    pytest.param(
        base_fields(auto_renews=True, renewal_period_months=12),
        TWO_PARTIES,
        "expires_on",
        "renews automatically",
        id="auto-renew-without-expiry",
    ),
    pytest.param(
        base_fields(auto_renews=True, expires_on=D(2024, 6, 25)),
        TWO_PARTIES,
        "renewal_period_months",
        "renewal period",
        id="auto-renew-without-period",
    ),
    pytest.param(
        base_fields(), [{"code": "USA"}], "parties", "at least two", id="one-party-once-signed"
    ),
    pytest.param(
        base_fields(),
        [{"code": "USA"}, {"code": "PHL"}, {"code": "USA"}],
        "parties",
        "more than once",
        id="party-twice",
    ),
    pytest.param(
        base_fields(),
        [
            {"code": "USA", "entered_into_force_on": "2014-06-25", "withdrawn_on": "2014-06-01"},
            {"code": "PHL"},
        ],
        "parties[0].withdrawn_on",
        "after",
        id="withdrawn-before-own-date",
    ),
]


@pytest.mark.parametrize("fields, parties, field, words", BROKEN)
def test_service_refuses_broken_rule(partners, fields, parties, field, words):
    with pytest.raises(ValidationError) as caught:
        agreement_save(parties=parties, **fields)
    errors = caught.value.message_dict
    assert field in errors, errors
    assert words in " ".join(errors[field])
    assert Agreement.objects.count() == 0
    assert AgreementParty.objects.count() == 0


def test_service_accepts_valid_agreement_and_generates_reference(partners):
    agreement = agreement_save(
        parties=TWO_PARTIES,
        provisions=[{"category": "training", "title": "Training", "article": "Art. 1"}],
        **base_fields(expires_on=D(2024, 6, 25), notice_period_days=365),
    )
    assert agreement.reference == "DCA-2014-0001"
    assert agreement.notice_deadline == D(2023, 6, 26)
    assert agreement.is_bilateral and not agreement.is_multilateral
    second = agreement_save(parties=TWO_PARTIES, **base_fields())
    assert second.reference == "DCA-2014-0002"


def test_draft_needs_no_parties(partners):
    agreement = agreement_save(title="Early draft", type="mou", status="draft")
    assert agreement.parties.count() == 0


def test_unknown_party_code_is_named(partners):
    with pytest.raises(ValidationError) as caught:
        agreement_save(parties=[{"code": "USA"}, {"code": "ZZZ"}], **base_fields())
    assert "ZZZ" in caught.value.message_dict["parties[1].code"][0]


def test_provision_not_below_agreement(partners):
    with pytest.raises(ValidationError) as caught:
        agreement_save(
            parties=TWO_PARTIES,
            provisions=[{"category": "training", "title": "T", "classification": "unclassified"}],
            **base_fields(classification="confidential"),
        )
    assert "below its agreement" in caught.value.message_dict["provisions[0].classification"][0]
    assert Agreement.objects.count() == 0


def test_agreement_cannot_be_raised_above_its_provisions(partners):
    agreement = AgreementFactory(
        classification="restricted", parties=[partners["USA"], partners["PHL"]]
    )
    ProvisionFactory(agreement=agreement, classification="restricted")
    agreement.classification = "secret"
    with pytest.raises(ValidationError) as caught:
        agreement.full_clean()
    assert "classification" in caught.value.message_dict


def test_supersedes_and_parent_never_loop(partners):
    older = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    newer = AgreementFactory(parties=[partners["USA"], partners["PHL"]], supersedes=older)
    with pytest.raises(ValidationError) as caught:
        agreement_save(agreement=older, supersedes=newer)
    assert "loop" in caught.value.message_dict["supersedes"][0]
    with pytest.raises(ValidationError) as caught:
        agreement_save(agreement=older, parent=older)
    assert "itself" in caught.value.message_dict["parent"][0]
    older.refresh_from_db()
    assert older.supersedes_id is None and older.parent_id is None


def test_failed_update_changes_nothing(partners):
    agreement = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    before = (agreement.version, agreement.title)
    with pytest.raises(ValidationError):
        agreement_save(
            agreement=agreement,
            title="Renamed",
            parties=[{"code": "USA"}, {"code": "NOPE"}],
        )
    agreement.refresh_from_db()
    assert (agreement.version, agreement.title) == before
    assert sorted(p.code for p in agreement.parties.all()) == ["PHL", "USA"]


def test_update_bumps_version_only_on_change(partners):
    agreement = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    same = agreement_save(agreement=agreement, title=agreement.title)
    assert same.version == 1
    changed = agreement_save(agreement=agreement, parties=[{"code": "USA"}, {"code": "JPN"}])
    assert changed.version == 2
    assert sorted(p.code for p in changed.parties.all()) == ["JPN", "USA"]


def test_actor_cannot_write_above_clearance(partners, editor):
    with pytest.raises(ValidationError) as caught:
        agreement_save(actor=editor, parties=TWO_PARTIES, **base_fields(classification="secret"))
    assert "not cleared" in caught.value.message_dict["classification"][0]


@pytest.mark.parametrize(
    "update, constraint",
    [
        ({"entered_into_force_on": D(2000, 1, 1)}, "agreement_signed_before_in_force"),
        ({"expires_on": D(2015, 1, 1)}, "agreement_in_force_before_expiry"),
        ({"terminated_on": D(2000, 1, 1)}, "agreement_terminated_after_signed"),
        ({"entered_into_force_on": None}, "agreement_in_force_has_date"),
        ({"auto_renews": True}, "agreement_auto_renewal_complete"),
    ],
)
def test_database_holds_the_rules_too(partners, update, constraint):
    agreement = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        Agreement.objects.filter(pk=agreement.pk).update(**update)
    # SQLite names the failing constraint; PostgreSQL does too.
    assert constraint in str(caught.value)


def test_database_refuses_a_party_twice(partners):
    agreement = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    with pytest.raises(IntegrityError), transaction.atomic():
        AgreementParty.objects.create(agreement=agreement, nation=partners["USA"])


def test_database_refuses_party_with_nation_and_organization(partners):
    agreement = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    with pytest.raises(IntegrityError), transaction.atomic():
        AgreementParty.objects.create(
            agreement=agreement, nation=partners["JPN"], organization=partners["NATO"]
        )


# Through the admin form --------------------------------------------------------------------


def _admin_add_data(client, **overrides):
    page = client.get("/admin/agreements/agreement/add/")
    assert page.status_code == 200
    data = form_data(page.content.decode(), "agreement_form")
    data.update(
        {
            "title": "Admin-entered agreement",
            "type": "dca",
            "status": "in_force",
            "classification": "unclassified",
            "signed_on": "2014-04-28",
            "entered_into_force_on": "2014-06-25",
            "parties-TOTAL_FORMS": "2",
            "parties-0-nation": str(overrides.pop("party0", None) or ""),
            "parties-1-nation": str(overrides.pop("party1", None) or ""),
        }
    )
    data.update(overrides)
    return data


ADMIN_BROKEN = [
    ({"entered_into_force_on": "2014-01-01"}, "Cannot be before the date the agreement was signed"),
    ({"expires_on": "2014-06-01"}, "Cannot be before the date the agreement entered into force"),
    ({"entered_into_force_on": ""}, "An agreement in force needs its entry-into-force date"),
    ({"auto_renews": "on", "renewal_period_months": "12"}, "needs an expiry date"),
    ({"parties-1-nation": ""}, "needs at least two parties"),
    (
        {"parties-1-withdrawn_on": "2010-01-01", "parties-1-signed_on": "2014-04-28"},
        "Must be after the date this party signed",
    ),
    (
        {
            "provisions-TOTAL_FORMS": "1",
            "classification": "confidential",
            "provisions-0-category": "training",
            "provisions-0-title": "T",
            "provisions-0-classification": "unclassified",
        },
        "cannot be classified below its agreement",
    ),
]


@pytest.mark.parametrize("overrides, message", ADMIN_BROKEN)
def test_admin_form_refuses_broken_rule(client, editor, partners, overrides, message):
    client.force_login(editor)
    data = _admin_add_data(
        client, party0=partners["USA"].pk, party1=partners["PHL"].pk, **overrides
    )
    response = client.post("/admin/agreements/agreement/add/", data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Agreement.objects.count() == 0


def test_admin_form_refuses_duplicate_party(client, editor, partners):
    client.force_login(editor)
    data = _admin_add_data(client, party0=partners["USA"].pk, party1=partners["USA"].pk)
    response = client.post("/admin/agreements/agreement/add/", data)
    assert response.status_code == 200
    assert "more than once" in response.content.decode()
    assert Agreement.objects.count() == 0


def test_admin_form_creates_valid_agreement(client, editor, partners):
    client.force_login(editor)
    data = _admin_add_data(client, party0=partners["USA"].pk, party1=partners["PHL"].pk)
    response = client.post("/admin/agreements/agreement/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    agreement = Agreement.objects.get()
    assert agreement.reference == "DCA-2014-0001"
    assert sorted(p.code for p in agreement.parties.all()) == ["PHL", "USA"]


def test_admin_offers_only_classifications_within_clearance(client, editor):
    client.force_login(editor)
    html = client.get("/admin/agreements/agreement/add/").content.decode()
    assert 'value="confidential"' in html
    assert 'value="secret"' not in html


def test_provision_admin_refuses_classification_below_agreement(client, registrar, partners):
    agreement = AgreementFactory(
        classification="confidential", parties=[partners["USA"], partners["PHL"]]
    )
    provision = ProvisionFactory(agreement=agreement, classification="confidential")
    client.force_login(registrar)
    url = f"/admin/agreements/provision/{provision.pk}/change/"
    data = form_data(client.get(url).content.decode(), "provision_form")
    data["classification"] = Classification.UNCLASSIFIED
    response = client.post(url, data)
    assert response.status_code == 200
    assert "cannot be classified below its agreement" in response.content.decode()
    provision.refresh_from_db()
    assert provision.classification == "confidential"
    assert Provision.objects.count() == 1


def test_service_refuses_a_review_date_that_would_overflow(partners, registrar):
    import datetime

    from django.core.exceptions import ValidationError

    from agreements.services import review_record

    agreement = AgreementFactory(parties=[partners["USA"]], review_interval_months=12)
    with pytest.raises(ValidationError) as info:
        review_record(
            agreement=agreement,
            reviewed_on=datetime.date(9999, 12, 30),
            outcome="continue",
            actor=registrar,
        )
    assert "reviewed_on" in info.value.message_dict


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("in_force", "An agreement that is in force needs at least two parties."),
        ("signed", "An agreement that is signed needs at least two parties."),
    ],
)
def test_too_few_parties_reads_as_english(status, message):
    assert party_set_errors(status, ["FRA"]) == [message]
    assert party_set_errors("draft", ["FRA"]) == []
