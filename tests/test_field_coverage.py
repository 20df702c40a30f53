"""Every editable field of Agreement reaches every surface that should carry it: the API's
write serializer, its detail serializer and the CSV export. A field left off a surface on
purpose is listed below with the reason; a new model field that is on neither fails here,
so adding a field means deciding, surface by surface, whether it shows."""

import pytest

from agreements.api.serializers import AgreementDetailSerializer, AgreementWriteSerializer
from agreements.export import EXPORT_COLUMNS
from agreements.models import Agreement

# Left off on purpose, per surface: field -> why.
WRITE_EXCLUDED: dict[str, str] = {
    # None: the write serializer is derived from the model's editable fields.
}
DETAIL_EXCLUDED: dict[str, str] = {
    # None: the detail shows every field.
}
EXPORT_EXCLUDED: dict[str, str] = {
    "summary": "free text, long and multi-line: read it in the API's detail, not a sheet",
    "supersedes": "names another agreement, which needs a clearance check per row; in the detail",
    "parent": "names another agreement, which needs a clearance check per row; in the detail",
    "owner": "people and mailboxes are contact data, not analysis data; in the detail",
    "watchers": "people and mailboxes are contact data, not analysis data; in the detail",
    "contacts": "people and mailboxes are contact data, not analysis data; in the detail",
    "office_email": "people and mailboxes are contact data, not analysis data; in the detail",
    "reminder_offsets": "reminder settings, not agreement data; in the detail",
}


def editable_fields() -> set[str]:
    """Agreement's own editable fields (many-to-many included, reverse relations not)."""
    return {
        f.name
        for f in Agreement._meta.get_fields()
        if not f.auto_created and getattr(f, "editable", False)
    }


SURFACES = {
    "write serializer": (lambda: set(AgreementWriteSerializer().fields), WRITE_EXCLUDED),
    "detail serializer": (lambda: set(AgreementDetailSerializer().fields), DETAIL_EXCLUDED),
    "CSV export": (lambda: set(EXPORT_COLUMNS), EXPORT_EXCLUDED),
}


def test_the_model_has_the_fields_this_test_knows():
    """A sanity check that the field list is not empty or reverse relations."""
    fields = editable_fields()
    assert {"title", "expires_on", "owner", "watchers", "reminder_offsets"} <= fields
    assert not fields & {"id", "parties", "provisions", "notice_deadline", "version"}


@pytest.mark.parametrize("surface", SURFACES)
def test_every_editable_field_is_on_the_surface_or_excluded_with_a_reason(surface):
    names, excluded = SURFACES[surface]
    missing = editable_fields() - names() - set(excluded)
    assert not missing, f"{surface} lacks {sorted(missing)}: add them, or exclude them here"


@pytest.mark.parametrize("surface", SURFACES)
def test_the_exclusions_are_current(surface):
    """An exclusion names a model field that the surface really leaves out."""
    names, excluded = SURFACES[surface]
    assert set(excluded) <= editable_fields(), surface
    assert not set(excluded) & names(), surface


@pytest.mark.django_db
def test_export_carries_the_renewal_notice_and_review_fields(partners, analyst):
    import csv
    import datetime
    import io

    from .api_helpers import client_for
    from .factories import AgreementFactory

    AgreementFactory(
        reference="RENEWS",
        parties=[partners["USA"], partners["PHL"]],
        expires_on=datetime.date(2030, 1, 1),
        auto_renews=True,
        renewal_period_months=24,
        notice_period_days=90,
        notice_given_on=datetime.date(2029, 6, 1),
        review_interval_months=12,
    )
    response = client_for(analyst).get("/api/v1/agreements/export/")
    (row,) = csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode()))
    assert {
        name: row[name]
        for name in (
            "renewal_period_months",
            "notice_period_days",
            "notice_given_on",
            "review_interval_months",
        )
    } == {
        "renewal_period_months": "24",
        "notice_period_days": "90",
        "notice_given_on": "2029-06-01",
        "review_interval_months": "12",
    }
