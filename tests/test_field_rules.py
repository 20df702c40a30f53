"""Limits live on the model fields: date bounds and period limits are validators there, and
the API's input serializers are derived from the models, so the admin, the API, the import
and the services refuse the same values with the same message."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import models

from agreements.dates import validate_in_range
from agreements.models import Agreement, AgreementEvent, AgreementParty, Review
from agreements.services import AGREEMENT_FIELDS, agreement_save

from .api_helpers import client_for
from .factories import AgreementFactory

pytestmark = pytest.mark.django_db

D = datetime.date
OUT_OF_RANGE = "Must be between 1700-01-01 and 2300-12-31."
NEW = {
    "title": "Enhanced Defense Cooperation Agreement",
    "type": "dca",
    "status": "signed",
    "signed_on": "2014-04-28",
    "parties": [{"code": "USA"}, {"code": "PHL"}],
}


def given_dates(model) -> list[str]:
    """The date fields of ``model`` that someone types in (not the derived ones)."""
    return [
        f.name for f in model._meta.get_fields() if isinstance(f, models.DateField) and f.editable
    ]


@pytest.mark.parametrize("model", [Agreement, AgreementParty, Review, AgreementEvent])
def test_every_given_date_field_carries_the_range_validator(model):
    names = given_dates(model)
    assert names
    for name in names:
        assert validate_in_range in model._meta.get_field(name).validators, name


def test_the_periods_are_bounded_on_the_model_fields():
    agreement = AgreementFactory.build(
        renewal_period_months=1201, notice_period_days=36501, review_interval_months=0
    )
    with pytest.raises(ValidationError) as info:
        agreement.clean_fields()
    errors = info.value.message_dict
    assert errors["renewal_period_months"] == ["Must be at most 1200 months."]
    assert errors["notice_period_days"] == ["Must be at most 36500 days."]
    assert errors["review_interval_months"] == ["Ensure this value is greater than or equal to 1."]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("expires_on", "2301-01-01", OUT_OF_RANGE),
        ("signed_on", "1699-12-31", OUT_OF_RANGE),
        ("notice_given_on", "9999-12-31", OUT_OF_RANGE),
        ("renewal_period_months", 1201, "Ensure this value is less than or equal to 1200."),
        ("renewal_period_months", 0, "Ensure this value is greater than or equal to 1."),
        ("notice_period_days", 36501, "Ensure this value is less than or equal to 36500."),
        ("notice_period_days", -1, "Ensure this value is greater than or equal to 0."),
        ("review_interval_months", 1201, "Ensure this value is less than or equal to 1200."),
    ],
)
def test_api_refuses_out_of_bounds_values_with_the_same_messages(
    partners, editor, field, value, message
):
    response = client_for(editor).post("/api/v1/agreements/", {**NEW, field: value}, format="json")
    assert response.status_code == 400
    assert response.json()[field] == [message]
    assert not Agreement.objects.exists()


def test_api_refuses_a_party_date_out_of_range(partners, editor):
    body = {**NEW, "parties": [{"code": "USA", "ratified_on": "2301-01-01"}, {"code": "PHL"}]}
    response = client_for(editor).post("/api/v1/agreements/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"parties[0].ratified_on": [OUT_OF_RANGE]}


def test_api_refuses_a_review_date_out_of_range(partners, editor):
    agreement = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    response = client_for(editor).post(
        f"/api/v1/agreements/{agreement.pk}/reviews/",
        {"reviewed_on": "2301-01-01", "outcome": "continue"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"reviewed_on": [OUT_OF_RANGE]}


def test_service_refuses_a_party_date_out_of_range(partners, editor):
    """The import and the admin hand parties to the service, which now checks their dates
    (before, only the API did)."""
    with pytest.raises(ValidationError) as info:
        agreement_save(
            actor=editor,
            title="Accord",
            type="dca",
            parties=[{"code": "USA", "withdrawn_on": D(9999, 1, 1)}, {"code": "PHL"}],
        )
    assert info.value.message_dict == {"parties[0].withdrawn_on": [OUT_OF_RANGE]}
    assert not Agreement.objects.exists()


def test_service_refuses_an_event_date_out_of_range(partners, editor):
    agreement = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    with pytest.raises(ValidationError) as info:
        agreement_save(
            agreement=agreement,
            actor=editor,
            add_events=[{"kind": "amended", "date": "2301-01-01"}],
        )
    assert info.value.message_dict == {"add_events[0].date": [OUT_OF_RANGE]}
    assert not agreement.events.exists()


def test_import_reports_a_party_date_out_of_range(tmp_path, partners, editor):
    from agreements.importers import ImportFailed, import_file

    path = tmp_path / "rows.jsonl"
    path.write_text(
        '{"title": "Accord", "type": "dca", "parties": '
        '[{"code": "USA", "signed_on": "2500-01-01"}, {"code": "PHL"}]}\n',
        encoding="utf-8",
    )
    with pytest.raises(ImportFailed) as info:
        import_file(path, actor=editor)
    assert info.value.result.errors == [(1, f"parties[0].signed_on: {OUT_OF_RANGE}")]


# The write serializer is derived from the model ------------------------------------------


def test_api_writes_and_reads_reminder_offsets(partners, editor):
    """Every editable field is writable through the API: the agreement's own reminder
    offsets too (before, the API dropped them silently)."""
    client = client_for(editor)
    offsets = {"expiry": [120, 30], "review": []}
    response = client.post(
        "/api/v1/agreements/", {**NEW, "reminder_offsets": offsets}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["reminder_offsets"] == offsets
    assert Agreement.objects.get().reminder_offsets == offsets
    url = f"/api/v1/agreements/{response.json()['id']}/"
    bad = client.patch(url, {"reminder_offsets": {"expiry": [-5]}}, format="json")
    assert bad.status_code == 400
    assert "reminder_offsets" in bad.json()


def test_put_resets_every_field_it_leaves_out(partners, registrar):
    """A PUT resets what it leaves out to the model's default, whatever the field (a new
    model field too), except the reference, which stays."""
    other = AgreementFactory(reference="OTHER", parties=[partners["USA"], partners["PHL"]])
    agreement = AgreementFactory(
        reference="KEEP-ME",
        parties=[partners["USA"], partners["PHL"]],
        short_title="Short",
        summary="Summary",
        source_url="https://example.org/a",
        status="in_force",
        classification="restricted",
        signed_on=D(2010, 1, 1),
        entered_into_force_on=D(2010, 2, 1),
        expires_on=D(2030, 1, 1),
        terminated_on=D(2011, 1, 1),
        auto_renews=True,
        renewal_period_months=12,
        notice_period_days=90,
        notice_given_on=D(2012, 1, 1),
        next_review_on=D(2027, 1, 1),
        review_interval_months=12,
        supersedes=other,
        parent=other,
        owner=registrar,
        office_email="desk@example.org",
        reminder_offsets={"expiry": [10]},
    )
    response = client_for(registrar).put(
        f"/api/v1/agreements/{agreement.pk}/",
        {"title": "Only a title", "type": "mou", "parties": [{"code": "USA"}]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    agreement.refresh_from_db()
    assert agreement.reference == "KEEP-ME"
    kept = {"reference", "title", "type"}
    for name in AGREEMENT_FIELDS:
        if name in kept:
            continue
        field = Agreement._meta.get_field(name)
        assert getattr(agreement, field.attname) == field.get_default(), name
