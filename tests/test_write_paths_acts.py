"""The write paths that carry party acts: the bound on acts in one write, and a party row
added anew on the agreement's admin page, whose errors name the dates it shows."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from agreements.limits import MAX_ACTS, MAX_ACTS_PER_WRITE
from agreements.models import Agreement
from agreements.services import agreement_save

from .api_helpers import client_for
from .factories import NationFactory
from .formscrape import form_data

D = datetime.date
IN_FORCE = {"type": "dca", "status": "in_force"}


def _many_acts(parties: int) -> list[dict]:
    start = D(2000, 1, 1)
    acts = [
        {"kind": "declaration", "date": (start + datetime.timedelta(days=n)).isoformat()}
        for n in range(MAX_ACTS)
    ]
    return [{"code": NationFactory().iso3, "acts": acts} for _ in range(parties)]


def test_one_write_carries_at_most_so_many_acts_in_all(db):
    parties = _many_acts(MAX_ACTS_PER_WRITE // MAX_ACTS + 1)
    with pytest.raises(ValidationError) as caught:
        agreement_save(reference="MANY", title="Many", type="dca", status="draft", parties=parties)
    (message,) = caught.value.message_dict["parties"]
    assert f"At most {MAX_ACTS_PER_WRITE} acts" in message
    assert not Agreement.objects.filter(reference="MANY").exists()


def test_the_api_answers_400_naming_the_bound_on_acts(editor):
    payload = {
        "type": "dca",
        "status": "draft",
        "title": "Many acts",
        "parties": _many_acts(MAX_ACTS_PER_WRITE // MAX_ACTS + 1),
    }
    response = client_for(editor).post("/api/v1/agreements/", payload, format="json")
    assert response.status_code == 400
    assert str(MAX_ACTS_PER_WRITE) in " ".join(response.json()["parties"])


def test_a_new_party_rows_error_is_shown_on_the_date_it_came_from(client, partners, registrar):
    """A new row goes to the service as acts made from its dates; an error about such an act
    is put on the row's date, not as "acts[0]" above the inline."""
    gone = NationFactory(iso3="XYZ", valid_to=D(1990, 1, 1))
    agreement = agreement_save(
        reference="GONE",
        title="Gone",
        **IN_FORCE,
        signed_on=D(2000, 1, 1),
        entered_into_force_on=D(2000, 1, 1),
        parties=["USA", "PHL"],
    )
    client.force_login(registrar)
    url = f"/admin/agreements/agreement/{agreement.pk}/change/"
    data = form_data(client.get(url).content.decode(), "agreement_form")
    new = int(data["parties-TOTAL_FORMS"])
    data["parties-TOTAL_FORMS"] = str(new + 1)
    data |= {
        f"parties-{new}-{name}": ""
        for name in ("id", "organization", "ratified_on", "entered_into_force_on", "withdrawn_on")
    }
    data |= {
        f"parties-{new}-agreement": str(agreement.pk),
        f"parties-{new}-nation": str(gone.pk),
        f"parties-{new}-signed_on": "2001-01-01",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    formset = next(
        f.formset
        for f in response.context["inline_admin_formsets"]
        if f.formset.prefix == "parties"
    )
    row = formset.forms[new]
    assert "signed_on" in row.errors, (row.errors, formset.non_form_errors())
    assert "No act of it can be dated 2001-01-01" in " ".join(row.errors["signed_on"])
