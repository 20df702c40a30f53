"""Examples for the OpenAPI schema of the agreements API.

The agreement shown is the demo set's US-Philippines Enhanced Defense Cooperation Agreement
(agreements/data/demo_agreements.jsonl; its dates, parties and provisions as that file has
them, from https://elibrary.judiciary.gov.ph/thebookshelf/showdocs/35/91035); ids, times,
users and reminders are made up. The nations are as the reference data has them (ISO 3166
names, UN M49 regions). tests/test_api_conventions.py checks every example against the
schema.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample

BASE = "https://registry.example.org/api/v1"
EDCA_ID = 203
EDCA_URL = f"{BASE}/agreements/{EDCA_ID}/"
EDCA_TITLE = (
    "Agreement between the Government of the Republic of the Philippines and the Government "
    "of the United States of America on Enhanced Defense Cooperation"
)
EDCA_SOURCE = "https://elibrary.judiciary.gov.ph/thebookshelf/showdocs/35/91035"
EDCA_REF = {"id": EDCA_ID, "reference": "US-PH-2014-EDCA", "title": EDCA_TITLE, "url": EDCA_URL}

PROVISIONS = [
    {
        "id": 254,
        "category": "basing",
        "title": "Agreed locations",
        "article": "",
        "text": "US forces may access and use agreed locations owned by the Philippines, with "
        "no permanent US military presence or base established.",
        "classification": "unclassified",
    },
    {
        "id": 255,
        "category": "logistics",
        "title": "Prepositioned materiel",
        "article": "Art. IV",
        "text": "The United States may preposition defense and disaster-relief equipment and "
        "supplies at agreed locations.",
        "classification": "unclassified",
    },
    {
        "id": 256,
        "category": "training",
        "title": "Interoperability and capacity building",
        "article": "Art. I",
        "text": "Activities aim at joint training, maritime security and domain awareness, "
        "and humanitarian assistance and disaster relief capability.",
        "classification": "unclassified",
    },
]

LIST_ITEM = {
    "id": EDCA_ID,
    "reference": "US-PH-2014-EDCA",
    "title": EDCA_TITLE,
    "type": "dca",
    "status": "in_force",
    "classification": "unclassified",
    "signed_on": "2014-04-28",
    "entered_into_force_on": "2014-06-25",
    "expires_on": None,
    "notice_deadline": None,
    "next_review_on": None,
    "parties": [
        {"code": "PHL", "name": "Philippines", "kind": "nation"},
        {"code": "USA", "name": "United States", "kind": "nation"},
    ],
    "provision_categories": ["basing", "logistics", "training"],
    "url": EDCA_URL,
}


def _party(code: str, name: str) -> dict:
    return {
        "code": code,
        "name": name,
        "kind": "nation",
        "signed_on": "2014-04-28",
        "ratified_on": None,
        "entered_into_force_on": None,
        "withdrawn_on": None,
        "status": "bound",
        "acts": [
            {
                "kind": "signature",
                "date": "2014-04-28",
                "effective_on": None,
                "note": "",
                "source_url": "",
            }
        ],
    }


DETAIL = {
    **LIST_ITEM,
    "parties": [_party("PHL", "Philippines"), _party("USA", "United States")],
    "short_title": "US–Philippines EDCA",
    "summary": "Framework, in furtherance of the 1951 treaty and the Visiting Forces "
    "Agreement, for rotational US presence at agreed locations inside Philippine bases.",
    "source_url": EDCA_SOURCE,
    "terminated_on": None,
    "auto_renews": False,
    "renewal_period_months": None,
    "notice_period_days": None,
    "notice_given_on": None,
    "review_interval_months": 12,
    "supersedes": None,
    "parent": {
        "id": 198,
        "reference": "US-PH-1998-VFA",
        "title": "Agreement between the Government of the United States of America and the "
        "Government of the Republic of the Philippines regarding the Treatment of United "
        "States Armed Forces Visiting the Philippines",
        "url": f"{BASE}/agreements/198/",
    },
    "owner": "desk.officer",
    "watchers": ["analyst"],
    "contacts": [
        {
            "id": 5,
            "name": "Jane Doe",
            "rank": "Col.",
            "role": "desk_officer",
            "represents": "USA",
            "url": f"{BASE}/points-of-contact/5/",
        }
    ],
    "office_email": "asia-desk@example.org",
    "reminder_offsets": None,
    "lateral": "bilateral",
    "version": 3,
    "created_at": "2026-01-12T09:30:00Z",
    "updated_at": "2026-02-03T16:05:12Z",
    "provisions": PROVISIONS,
    "reviews": [
        {
            "id": 41,
            "reviewed_on": "2026-02-03",
            "reviewer": "desk.officer",
            "outcome": "continue",
            "notes": "Agreed locations unchanged.",
        }
    ],
    "events": [{"id": 77, "kind": "reviewed", "date": "2026-02-03", "note": ""}],
    "reminders": [
        {
            "id": 310,
            "kind": "review",
            "due_on": "2027-02-03",
            "days_before": 30,
            "recipient": "asia-desk@example.org",
            "status": "pending",
            "attempts": 0,
            "sent_at": None,
        }
    ],
    "engagements": [
        {
            "id": 12,
            "title": "Balikatan 2025",
            "kind": "exercise",
            "status": "completed",
            "starts_on": "2025-04-21",
            "ends_on": "2025-05-09",
            "url": "https://registry.example.org/api/v1/engagements/12/",
        }
    ],
}

WRITE = {
    "reference": "US-PH-2014-EDCA",
    "title": EDCA_TITLE,
    "type": "dca",
    "status": "in_force",
    "signed_on": "2014-04-28",
    "entered_into_force_on": "2014-06-25",
    "source_url": EDCA_SOURCE,
    "parties": [
        {"code": "PHL", "acts": [{"kind": "signature", "date": "2014-04-28"}]},
        {"code": "USA", "signed_on": "2014-04-28"},
    ],
    "provisions": [
        {
            "category": "training",
            "title": "Interoperability and capacity building",
            "article": "Art. I",
            "text": "Activities aim at joint training, maritime security and domain "
            "awareness, and humanitarian assistance and disaster relief capability.",
        }
    ],
}

AGREEMENT_LIST = OpenApiExample(
    "Agreements with the Philippines",
    summary="agreements/?party=PHL",
    value=LIST_ITEM,
    response_only=True,
)
AGREEMENT_DETAIL = OpenApiExample("An agreement", value=DETAIL, response_only=True)
AGREEMENT_CREATE = OpenApiExample(
    "A new agreement with its parties and a provision", value=WRITE, request_only=True
)
AGREEMENT_PATCH = OpenApiExample(
    "Record notice given",
    value={"notice_given_on": "2026-03-01"},
    request_only=True,
)
AGREEMENT_PUT = OpenApiExample("Replace the agreement", value=WRITE, request_only=True)
AGREEMENT_PROVISIONS = OpenApiExample(
    "The provisions of the EDCA", value=PROVISIONS[0], response_only=True
)
REVIEW = {
    "id": 41,
    "reviewed_on": "2026-02-03",
    "reviewer": "desk.officer",
    "outcome": "continue",
    "notes": "Agreed locations unchanged.",
}
REVIEW_LIST = OpenApiExample("Its reviews", value=REVIEW, response_only=True)
REVIEW_RECORDED = OpenApiExample(
    "The review recorded", value=REVIEW, response_only=True, status_codes=["201"]
)
REVIEW_INPUT = OpenApiExample(
    "Record a review",
    value={
        "reviewed_on": "2026-02-03",
        "outcome": "continue",
        "notes": "Agreed locations unchanged.",
    },
    request_only=True,
)
HISTORY = OpenApiExample(
    "A change",
    value={
        "id": 1213,
        "at": "2026-02-03T16:05:12Z",
        "actor": "desk.officer",
        "action": "update",
        "model": "agreement",
        "object_id": EDCA_ID,
        "object_repr": "US-PH-2014-EDCA",
        "changes": {"review_interval_months": [None, 12]},
    },
    response_only=True,
)
PROVISION_LIST = OpenApiExample(
    "What agreements in force with the Philippines commit to",
    summary="provisions/?party=PHL&in_force_on=2026-12-01",
    value={
        **PROVISIONS[2],
        "agreement": EDCA_REF,
        "last_activity_on": "2025-05-09",
        "dormant": False,
    },
    response_only=True,
)
REMINDER_LIST = OpenApiExample(
    "A reminder sent to you",
    value={
        "id": 310,
        "agreement": EDCA_REF,
        "posting": None,
        "engagement": None,
        "kind": "review",
        "due_on": "2027-02-03",
        "days_before": 30,
        "recipient": "analyst@example.org",
        "status": "sent",
        "attempts": 1,
        "sent_at": "2027-01-04T06:00:03Z",
    },
    response_only=True,
)
DEADLINES = OpenApiExample(
    "The next 90 days",
    value={
        "within": 90,
        "count": 1,
        "results": [
            {
                "kind": "review",
                "label": "Review",
                "due_on": "2027-02-03",
                "days_left": 64,
                "agreement": EDCA_REF,
            }
        ],
    },
    response_only=True,
)
STATISTICS = OpenApiExample(
    "Counts of the agreements with the Philippines",
    summary="stats/?party=PHL",
    value={
        "total": 15,
        "by_year_signed": [
            {"key": "1951", "label": "1951", "count": 1},
            {"key": "2014", "label": "2014", "count": 1},
            {"key": None, "label": "unsigned", "count": 1},
        ],
        "by_type": [{"key": "dca", "label": "Defense cooperation agreement", "count": 1}],
        "by_status": [{"key": "in_force", "label": "In force", "count": 13}],
        "by_provision_category": [{"key": "training", "label": "Training", "count": 1}],
        "by_partner": [
            {"key": "PHL", "label": "Philippines", "count": 15},
            {"key": "USA", "label": "United States", "count": 12},
        ],
    },
    response_only=True,
)
STATISTICS_GROUPED = OpenApiExample(
    "Agreements of each type signed per decade",
    summary="stats/?group_by=decade,type",
    value={
        "group_by": ["decade", "type"],
        "total": 46,
        "results": [
            {
                "decade": 2010,
                "type": "dca",
                "type_label": "Defense cooperation agreement",
                "count": 1,
            },
            {"decade": 2020, "type": "access", "type_label": "Access", "count": 3},
            {
                "decade": None,
                "type": "framework",
                "type_label": "Framework agreement",
                "count": 1,
            },
        ],
    },
    response_only=True,
)
STATISTICS_CSV = OpenApiExample(
    "As CSV",
    summary="stats/?group_by=decade,type&format=csv",
    value="decade,type,type_label,count\r\n2010,dca,Defense cooperation agreement,1\r\n"
    "2020,access,Access,3\r\n,framework,Framework agreement,1\r\n",
    media_type="text/csv",
    response_only=True,
)
EXPORT = OpenApiExample(
    "Agreements with NATO or its members at the time, with training provisions",
    summary="agreements/export/?organization=NATO&category=training",
    value="id,reference,title,short_title,type,status,classification,signed_on,"
    "entered_into_force_on,expires_on,terminated_on,notice_deadline,next_review_on,"
    "auto_renews,parties,provision_categories,source_url,renewal_period_months,"
    "notice_period_days,notice_given_on,review_interval_months\r\n"
    f"{EDCA_ID},US-PH-2014-EDCA,{EDCA_TITLE},US–Philippines EDCA,dca,in_force,"
    f"unclassified,2014-04-28,2014-06-25,,,,,no,PHL;USA,basing;logistics;training,"
    f"{EDCA_SOURCE},,,,\r\n",
    media_type="text/csv",
    response_only=True,
)


def _dyad_row(year: int) -> str:
    from ..dyad_years import CATEGORY_COLUMNS

    flags = [str(int(c in ("basing", "logistics", "training"))) for c in CATEGORY_COLUMNS]
    return ",".join([str(year), "PHL", "USA", "US-PH-2014-EDCA", "dca", *flags]) + "\r\n"


def _dyad_header() -> str:
    from ..dyad_years import DYAD_COLUMNS

    return ",".join(DYAD_COLUMNS) + "\r\n"


DYAD_YEARS = OpenApiExample(
    "The EDCA's dyad in its first years",
    summary="agreements/dyad-years/?from=2014&to=2015&party=PHL,USA&type=dca",
    value=_dyad_header() + _dyad_row(2014) + _dyad_row(2015),
    media_type="text/csv",
    response_only=True,
)
