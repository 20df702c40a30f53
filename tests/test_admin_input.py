"""Bad input in the admin: a form error that says what is wrong, never a 500."""

import pytest

from .factories import AgreementFactory


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("notice_period_days", "99999999999"),
        ("notice_period_days", "1000000000"),
        ("renewal_period_months", "99999999999"),
        ("review_interval_months", "99999999999"),
        ("next_review_on", "9999-12-31"),
        ("expires_on", "9999-12-31"),
    ],
)
def test_admin_refuses_absurd_numbers_and_dates_instead_of_a_500(
    client, partners, registrar, field, value
):
    """The API bounds these (dates 1700–2300, periods at most 1200 months or 36500 days);
    the admin (and the services under it) must too, not crash computing a deadline."""
    from .formscrape import form_data

    agreement = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    client.force_login(registrar)
    url = f"/admin/agreements/agreement/{agreement.pk}/change/"
    data = form_data(client.get(url).content.decode(), "agreement_form")
    data.update({"expires_on": "2030-01-01", "notice_period_days": "90"})
    data[field] = value
    response = client.post(url, data)
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("supersedes", "abc"),
        ("parent", "99999999999999999999"),
        ("owner", "x"),
        ("watchers", "abc"),
        ("parties-0-nation", "ZZZ"),
    ],
)
def test_admin_tampered_autocomplete_value_is_a_form_error(
    client, partners, registrar, field, value
):
    from .formscrape import form_data

    agreement = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    client.force_login(registrar)
    url = f"/admin/agreements/agreement/{agreement.pk}/change/"
    data = form_data(client.get(url).content.decode(), "agreement_form")
    data[field] = value
    response = client.post(url, data)
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()


def test_admin_point_of_contact_tampered_nation_is_a_form_error(client, partners, registrar):
    client.force_login(registrar)
    response = client.post(
        "/admin/partners/pointofcontact/add/",
        {"name": "A. Attaché", "role": "defense_attache", "represents": "abc", "posted_to": "x"},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
