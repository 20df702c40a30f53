"""The agreement admin for editors: a quick add form, change-list filters within clearance,
the CSV export and "Record a review" actions, the owner by default and a warning when the
reminders would reach nobody. Every write still goes through the services."""

from __future__ import annotations

import csv
import datetime
import io
import re

import pytest
from django.contrib.admin import helpers
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.choices import Classification
from accounts.groups import EDITORS
from agreements.choices import AgreementStatus
from agreements.export import EXPORT_COLUMNS
from agreements.models import Agreement, AgreementEvent, Review
from history.models import ChangeRecord

from .factories import AgreementFactory, NationFactory, ProvisionFactory, UserFactory
from .formscrape import form_data

ADD = "/admin/agreements/agreement/add/"
LIST = "/admin/agreements/agreement/"


def change_url(agreement) -> str:
    return f"/admin/agreements/agreement/{agreement.pk}/change/"


def _messages(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def _add_form(client) -> dict:
    page = client.get(ADD)
    assert page.status_code == 200
    return form_data(page.content.decode(), "agreement_form")


def _hidden_value(html: str, name: str) -> str:
    match = re.search(rf'name="{re.escape(name)}"[^>]*value="([^"]*)"', html)
    assert match, name
    return match.group(1)


# 1. The add form ------------------------------------------------------------------------------


def test_the_add_form_starts_with_two_party_rows_and_one_provision_row(client, editor):
    client.force_login(editor)
    html = client.get(ADD).content.decode()
    assert _hidden_value(html, "parties-TOTAL_FORMS") == "2"
    assert _hidden_value(html, "parties-INITIAL_FORMS") == "0"
    assert _hidden_value(html, "provisions-TOTAL_FORMS") == "1"
    # The rows are real forms, ready to type in, not just the hidden templates.
    assert 'name="parties-0-nation"' in html and 'name="parties-1-nation"' in html
    assert 'name="provisions-0-title"' in html


def test_the_title_is_a_wide_input_and_the_summary_a_roomy_textarea(client, editor):
    client.force_login(editor)
    html = client.get(ADD).content.decode()
    title = re.search(r"<input[^>]*name=\"title\"[^>]*>", html).group(0)
    assert "vLargeTextField" in title
    summary = re.search(r"<textarea[^>]*name=\"summary\"[^>]*>", html).group(0)
    assert "vLargeTextField" in summary and 'rows="6"' in summary


def test_untouched_extra_rows_become_neither_parties_nor_provisions(client, editor, partners):
    client.force_login(editor)
    data = _add_form(client)
    data.update({"title": "A draft with nothing yet", "type": "mou", "status": "draft"})
    response = client.post(ADD, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    agreement = Agreement.objects.get(title="A draft with nothing yet")
    assert agreement.parties.count() == 0
    assert agreement.provisions.count() == 0


def test_one_filled_party_row_and_one_left_empty_make_one_party(client, editor, partners):
    client.force_login(editor)
    data = _add_form(client)
    data.update(
        {
            "title": "Negotiating with one partner so far",
            "type": "mou",
            "status": "negotiating",
            "parties-0-nation": str(partners["JPN"].pk),
            "provisions-0-category": "training",
            "provisions-0-title": "Joint training",
        }
    )
    response = client.post(ADD, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    agreement = Agreement.objects.get(title="Negotiating with one partner so far")
    assert [p.code for p in agreement.parties.all()] == ["JPN"]
    assert [p.title for p in agreement.provisions.all()] == ["Joint training"]


def test_the_change_form_adds_no_empty_rows(client, editor, partners):
    agreement = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    ProvisionFactory(agreement=agreement)
    client.force_login(editor)
    html = client.get(change_url(agreement)).content.decode()
    assert _hidden_value(html, "parties-TOTAL_FORMS") == "2"
    assert _hidden_value(html, "parties-INITIAL_FORMS") == "2"
    assert _hidden_value(html, "provisions-TOTAL_FORMS") == "1"
    assert _hidden_value(html, "provisions-INITIAL_FORMS") == "1"


def test_a_party_rows_error_lands_on_that_row(client, editor, partners):
    """The service's ``parties[1].withdrawn_on`` error goes on the second row's field (the
    form notes which rows it sent), not in a line above the inline."""
    client.force_login(editor)
    data = _add_form(client)
    data.update(
        {
            "title": "Rows and their errors",
            "type": "dca",
            "status": "signed",
            "signed_on": "2014-04-28",
            "parties-0-nation": str(partners["USA"].pk),
            "parties-1-nation": str(partners["PHL"].pk),
            "parties-1-signed_on": "2014-04-28",
            "parties-1-withdrawn_on": "2010-01-01",
        }
    )
    response = client.post(ADD, data)
    assert response.status_code == 200
    parties = response.context["inline_admin_formsets"][0].formset
    assert "withdrawn_on" in parties.forms[1].errors
    assert not parties.forms[0].errors
    assert "Parties, row 2" not in response.content.decode()
    assert not Agreement.objects.filter(title="Rows and their errors").exists()


# 4. The owner, and a warning when nobody would be reminded ------------------------------------


def test_the_add_form_names_its_user_as_owner(client, editor):
    client.force_login(editor)
    html = client.get(ADD).content.decode()
    owner = re.search(r'<select[^>]*name="owner".*?</select>', html, re.S).group(0)
    assert f'<option value="{editor.pk}" selected>' in owner


def test_a_user_who_may_not_read_agreements_is_not_the_default_owner(client, db):
    staff = UserFactory(
        username="adder",
        is_staff=True,
        clearance=Classification.SECRET,
        permissions=["agreements.add_agreement"],
    )
    client.force_login(staff)
    html = client.get(ADD).content.decode()
    owner = re.search(r'<select[^>]*name="owner".*?</select>', html, re.S).group(0)
    assert "selected" not in owner


def test_saving_with_the_default_owner_makes_the_user_the_owner(client, editor):
    client.force_login(editor)
    data = _add_form(client)
    data.update({"title": "Owned by its editor", "type": "mou", "status": "draft"})
    response = client.post(ADD, data)
    assert response.status_code == 302
    assert Agreement.objects.get(title="Owned by its editor").owner == editor
    assert not [m for m in _messages(response) if m[0] == "warning"]


def test_the_service_still_refuses_an_owner_who_may_not_read_it(client, editor, viewer):
    client.force_login(editor)
    data = _add_form(client)
    data.update(
        {
            "title": "Too sensitive for its owner",
            "type": "mou",
            "status": "draft",
            "classification": "confidential",
            "owner": str(viewer.pk),
        }
    )
    response = client.post(ADD, data)
    assert response.status_code == 200
    assert "Not allowed to read this Confidential agreement" in response.content.decode()
    assert not Agreement.objects.filter(title="Too sensitive for its owner").exists()


def test_saving_an_agreement_nobody_would_be_reminded_of_warns_after_saving(client, editor):
    client.force_login(editor)
    data = _add_form(client)
    data.update({"title": "Nobody's agreement", "type": "mou", "status": "draft", "owner": ""})
    response = client.post(ADD, data)
    assert response.status_code == 302  # saved: a warning, not an error
    agreement = Agreement.objects.get(title="Nobody's agreement")
    assert agreement.owner is None
    levels = [level for level, _ in _messages(response)]
    assert levels == ["success", "warning"]
    warning = _messages(response)[1][1]
    assert "Nobody will get reminders" in warning
    assert "no owner, no watchers and no office mailbox" in warning


def test_an_owner_who_cannot_receive_reminders_also_warns(client, editor, partners):
    """The reminders' own rule (``recipients_for``): an owner without an e-mail address
    receives nothing."""
    no_mail = UserFactory(
        username="nomail", email="", group=EDITORS, clearance=Classification.CONFIDENTIAL
    )
    agreement = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    client.force_login(editor)
    data = form_data(client.get(change_url(agreement)).content.decode(), "agreement_form")
    data["owner"] = str(no_mail.pk)
    response = client.post(change_url(agreement), data)
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.owner == no_mail
    warnings = [text for level, text in _messages(response) if level == "warning"]
    assert len(warnings) == 1
    assert "none of its owner, watchers and office mailbox can receive them" in warnings[0]


def test_an_office_mailbox_is_enough_and_a_finished_agreement_is_not_warned_of(
    client, editor, partners
):
    live = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    finished = AgreementFactory(
        parties=[partners["USA"], partners["PHL"]],
        status=AgreementStatus.TERMINATED,
        terminated_on=datetime.date(2020, 1, 1),
    )
    client.force_login(editor)
    for agreement, changes in (
        (live, {"office_email": "desk@example.org"}),
        (finished, {"summary": "Ended in 2020."}),
    ):
        data = form_data(client.get(change_url(agreement)).content.decode(), "agreement_form")
        data.update(changes)
        response = client.post(change_url(agreement), data)
        assert response.status_code == 302, response.content.decode()[:2000]
        assert [level for level, _ in _messages(response)] == ["success"]


# 2. The change list: date hierarchy, filters, no counts ---------------------------------------


def test_the_change_list_has_a_date_hierarchy_and_the_filters(client, editor, partners):
    AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    client.force_login(editor)
    response = client.get(LIST)
    html = response.content.decode()
    assert "signed_on__year=2015" in html  # the date hierarchy
    assert 'id="nav-sidebar"' not in html  # the list has the page's whole width
    titles = re.findall(r"<summary>\s*By ([\w ]+?)\s*</summary>", html)
    assert titles[:4] == ["partner", "type", "status", "classification"]
    assert "expiry" in titles
    assert "Show counts" not in html


def test_no_filter_shows_counts_even_when_asked(client, editor, partners):
    AgreementFactory(parties=[partners["USA"], partners["PHL"]], type="dca")
    client.force_login(editor)
    html = client.get(LIST + "?_facets=True").content.decode()
    assert "Show counts" not in html and "Hide counts" not in html
    assert not re.search(r"Defense cooperation agreement \(\d+\)", html)


def test_the_partner_filter_offers_only_partners_of_agreements_in_reach(client, editor, partners):
    hidden_partner = NationFactory(iso3="ZZH", name="Hiddenland")
    AgreementFactory(parties=[partners["USA"], partners["NATO"]])
    AgreementFactory(
        parties=[partners["USA"], hidden_partner], classification=Classification.SECRET
    )
    client.force_login(editor)
    html = client.get(LIST).content.decode()
    datalist = re.search(r'<datalist id="partner-filter-choices">.*?</datalist>', html, re.S)
    options = re.findall(r'<option value="([^"]+)">', datalist.group(0))
    assert options == ["USA", "NATO"]  # nations by name, then organizations
    assert "Hiddenland" not in html and "ZZH" not in html
    assert "(1)" not in datalist.group(0)  # no counts


@pytest.mark.parametrize("value", ["PHL", "phl", " Philippines ", "nato"])
def test_the_partner_filter_finds_agreements_by_code_or_name(client, editor, partners, value):
    with_phl = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    with_nato = AgreementFactory(parties=[partners["USA"], partners["NATO"]])
    client.force_login(editor)
    response = client.get(LIST, {"partner": value})
    assert response.status_code == 200
    shown = set(response.context["cl"].result_list)
    assert shown == ({with_nato} if value == "nato" else {with_phl})


def test_the_partner_filter_keeps_the_other_filters(client, editor, partners):
    AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    client.force_login(editor)
    html = client.get(LIST, {"type__exact": "dca", "q": "Test"}).content.decode()
    form = re.search(r'<form method="get" class="partner-filter".*?</form>', html, re.S).group(0)
    assert '<input type="hidden" name="type__exact" value="dca">' in form
    assert '<input type="hidden" name="q" value="Test">' in form


def test_the_partner_filter_stays_within_clearance(client, editor, partners):
    AgreementFactory(
        parties=[partners["USA"], partners["PHL"]], classification=Classification.SECRET
    )
    client.force_login(editor)
    response = client.get(LIST, {"partner": "PHL"})
    assert list(response.context["cl"].result_list) == []
    assert response.context["cl"].full_result_count == 0


def test_expiring_soon_follows_the_deadlines_rule(client, editor, partners, frozen_today):
    pair = [partners["USA"], partners["PHL"]]
    soon = AgreementFactory(parties=pair, expires_on=frozen_today + datetime.timedelta(days=20))
    later = AgreementFactory(parties=pair, expires_on=frozen_today + datetime.timedelta(days=80))
    AgreementFactory(parties=pair, expires_on=frozen_today - datetime.timedelta(days=1))
    AgreementFactory(  # terminated: its expiry date is no longer due
        parties=pair,
        status=AgreementStatus.TERMINATED,
        terminated_on=frozen_today - datetime.timedelta(days=10),
        expires_on=frozen_today + datetime.timedelta(days=20),
    )
    client.force_login(editor)
    within = {}
    for days in ("30", "90", "180"):
        response = client.get(LIST, {"expiring": days})
        within[days] = set(response.context["cl"].result_list)
    assert within == {"30": {soon}, "90": {soon, later}, "180": {soon, later}}


def _list_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_filtered_change_list_query_count_is_flat(client, editor, partners):
    client.force_login(editor)
    url = LIST + "?partner=USA&expiring=180&all="
    pair = [partners["USA"], partners["NATO"]]
    AgreementFactory(parties=pair, expires_on=datetime.date.today() + datetime.timedelta(days=9))
    _list_queries(client, url)  # the first request fills per-process caches
    one = _list_queries(client, url)
    for _ in range(99):
        AgreementFactory(
            parties=[partners["USA"], NationFactory()],
            expires_on=datetime.date.today() + datetime.timedelta(days=10),
        )
    assert _list_queries(client, url) == one


# 3. Actions ---------------------------------------------------------------------------------


def _action(client, action, agreements, **extra):
    data = {"action": action, helpers.ACTION_CHECKBOX_NAME: [str(a.pk) for a in agreements]}
    data.update(extra)
    return client.post(LIST, data)


def _action_choices(client) -> list[str]:
    form = client.get(LIST).context["action_form"]  # None: no action at all
    return [value for value, _ in form.fields["action"].choices if value] if form else []


@pytest.fixture
def exporter(editor):
    """Editors may export what they select (their group holds the export permission)."""
    return editor


@pytest.fixture
def non_exporter(db):
    """Staff who may change agreements but not export them."""
    return UserFactory(
        username="changer",
        clearance=Classification.CONFIDENTIAL,
        is_staff=True,
        permissions=["agreements.view_agreement", "agreements.change_agreement"],
    )


def _csv(response) -> list[dict]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    assert tuple(header) == EXPORT_COLUMNS
    return [dict(zip(header, row, strict=True)) for row in reader]


def test_export_needs_the_export_permission(client, non_exporter, exporter, partners):
    agreement = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    client.force_login(non_exporter)
    assert "export_csv" not in _action_choices(client)
    response = _action(client, "export_csv", [agreement])
    assert response["Content-Type"].startswith("text/html")  # no CSV
    client.force_login(exporter)
    assert "export_csv" in _action_choices(client)


def test_export_selected_gives_the_api_exports_rows(client, exporter, partners):
    chosen = AgreementFactory(
        reference="EXP-1", parties=[partners["USA"], partners["PHL"]], title="=cmd()"
    )
    ProvisionFactory(agreement=chosen, category="training")
    # A provision above the user's clearance does not show in the categories.
    ProvisionFactory(agreement=chosen, category="cyber", classification=Classification.SECRET)
    AgreementFactory(reference="EXP-2", parties=[partners["USA"], partners["JPN"]])
    client.force_login(exporter)
    rows = _csv(_action(client, "export_csv", [chosen]))
    assert [row["reference"] for row in rows] == ["EXP-1"]
    assert rows[0]["parties"] == "USA;PHL" or rows[0]["parties"] == "PHL;USA"
    assert rows[0]["provision_categories"] == "training"
    assert rows[0]["title"] == "'=cmd()"  # the export's own cells: no formula
    assert rows[0]["auto_renews"] == "no"


def test_export_leaves_out_a_selected_agreement_above_clearance(client, exporter, partners):
    visible = AgreementFactory(reference="EXP-V", parties=[partners["USA"], partners["PHL"]])
    secret = AgreementFactory(
        reference="EXP-S",
        parties=[partners["USA"], partners["PHL"]],
        classification=Classification.SECRET,
    )
    client.force_login(exporter)
    rows = _csv(_action(client, "export_csv", [visible, secret]))
    assert [row["reference"] for row in rows] == ["EXP-V"]
    assert _csv(_action(client, "export_csv", [secret])) == []


def test_export_of_every_agreement_across_pages_keeps_the_lists_order(client, exporter, partners):
    for n in range(3):
        AgreementFactory(reference=f"ORD-{n}", parties=[partners["USA"], partners["PHL"]])
    client.force_login(exporter)
    first = Agreement.objects.order_by("reference").first()
    rows = _csv(
        client.post(
            LIST + "?o=1",  # by reference, ascending
            {
                "action": "export_csv",
                "select_across": "1",
                helpers.ACTION_CHECKBOX_NAME: [str(first.pk)],
            },
        )
    )
    assert [row["reference"] for row in rows] == ["ORD-0", "ORD-1", "ORD-2"]


def test_record_a_review_asks_first_then_records_one_per_agreement(client, editor, partners):
    pair = [partners["USA"], partners["PHL"]]
    first = AgreementFactory(reference="REV-1", parties=pair, review_interval_months=12)
    second = AgreementFactory(reference="REV-2", parties=pair)
    untouched = AgreementFactory(reference="REV-3", parties=pair)
    client.force_login(editor)
    assert "record_review" in _action_choices(client)

    page = _action(client, "record_review", [first, second])
    assert page.status_code == 200
    html = page.content.decode()
    assert "REV-1" in html and "REV-2" in html and "REV-3" not in html
    assert Review.objects.count() == 0  # nothing yet: the page asks

    data = form_data(html, "record_review_form")
    data.update({"reviewed_on": "2026-03-02", "outcome": "continue", "notes": "Still useful."})
    response = client.post(LIST, data)
    assert response.status_code == 302
    assert ("success", "Recorded a review of 2 agreements.") in _messages(response)
    reviews = Review.objects.order_by("agreement__reference")
    assert [(r.agreement, r.reviewed_on, r.outcome, r.notes, r.reviewer) for r in reviews] == [
        (first, datetime.date(2026, 3, 2), "continue", "Still useful.", editor),
        (second, datetime.date(2026, 3, 2), "continue", "Still useful.", editor),
    ]
    assert not untouched.reviews.exists()
    # Through review_record: the next review moved on, a "reviewed" event, the history.
    first.refresh_from_db()
    assert first.next_review_on == datetime.date(2027, 3, 2)
    assert AgreementEvent.objects.filter(agreement=first, kind="reviewed").count() == 1
    assert ChangeRecord.objects.about(first).filter(changed_object_type__model="review").exists()


def test_record_a_review_with_a_missing_outcome_asks_again(client, editor, partners):
    agreement = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    client.force_login(editor)
    data = form_data(
        _action(client, "record_review", [agreement]).content.decode(), "record_review_form"
    )
    data.update({"reviewed_on": "2026-03-02", "outcome": ""})
    response = client.post(LIST, data)
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert Review.objects.count() == 0


def test_record_a_review_is_all_or_nothing(client, editor, partners, monkeypatch):
    from agreements.admin import actions

    pair = [partners["USA"], partners["PHL"]]
    ok = AgreementFactory(reference="AON-1", parties=pair)
    refused = AgreementFactory(reference="AON-2", parties=pair)
    real = actions.review_record

    def review_record(*, agreement, **kwargs):
        if agreement.pk == refused.pk:
            raise ValidationError({"reviewed_on": ["Refused for this test."]})
        return real(agreement=agreement, **kwargs)

    monkeypatch.setattr(actions, "review_record", review_record)
    client.force_login(editor)
    data = form_data(
        _action(client, "record_review", [ok, refused]).content.decode(), "record_review_form"
    )
    data.update({"reviewed_on": "2026-03-02", "outcome": "amend"})
    response = client.post(LIST, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Nothing was recorded" in html and "AON-2: Refused for this test." in html
    assert Review.objects.count() == 0
    assert not AgreementEvent.objects.filter(kind="reviewed").exists()


def test_record_a_review_never_reaches_an_agreement_above_clearance(client, editor, partners):
    pair = [partners["USA"], partners["PHL"]]
    visible = AgreementFactory(reference="CLR-1", parties=pair)
    secret = AgreementFactory(reference="CLR-S", parties=pair, classification=Classification.SECRET)
    client.force_login(editor)
    page = _action(client, "record_review", [visible, secret])
    assert "CLR-S" not in page.content.decode()
    # Even when the confirmation is tampered with to name it again.
    data = form_data(page.content.decode(), "record_review_form")
    data.update(
        {
            "reviewed_on": "2026-03-02",
            "outcome": "continue",
            helpers.ACTION_CHECKBOX_NAME: [str(visible.pk), str(secret.pk)],
        }
    )
    assert client.post(LIST, data).status_code == 302
    assert list(Review.objects.values_list("agreement__reference", flat=True)) == ["CLR-1"]
    # Only the hidden one selected: answered like an empty selection.
    response = _action(client, "record_review", [secret])
    assert response.status_code == 302
    assert any("Items must be selected" in text for _, text in _messages(response))
    assert not secret.reviews.exists()


def test_record_a_review_needs_the_permission_to_add_reviews(client, partners):
    agreement = AgreementFactory(parties=[partners["USA"], partners["PHL"]])
    reader = UserFactory(
        username="reader",
        is_staff=True,
        clearance=Classification.SECRET,
        permissions=["agreements.view_agreement", "agreements.change_agreement"],
    )
    client.force_login(reader)
    assert "record_review" not in _action_choices(client)
    data = {
        "action": "record_review",
        helpers.ACTION_CHECKBOX_NAME: [str(agreement.pk)],
        "apply": "yes",
        "reviewed_on": "2026-03-02",
        "outcome": "continue",
    }
    response = client.post(LIST, data)
    # With no action to offer, the change list ignores the POST and shows itself.
    assert response.status_code == 200
    assert "record_review_form" not in response.content.decode()
    assert not agreement.reviews.exists()
