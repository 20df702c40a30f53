"""Examples for the OpenAPI schema of the partners API: the Philippines and NATO as the
reference data has them (ISO 3166 names, UN M49 regions; NATO's members and accession dates
from partners/data/organizations.json, https://www.nato.int/cps/en/natohq/nato_countries.htm).
The point of contact and her postings are made up. tests/test_api_conventions.py checks
every example against the schema."""

from drf_spectacular.utils import OpenApiExample

BASE = "https://registry.example.org/api/v1"
PHILIPPINES = {
    "iso3": "PHL",
    "iso2": "PH",
    "name": "Philippines",
    "official_name": "Republic of the Philippines",
    "region": "Asia",
    "subregion": "South-eastern Asia",
    "is_historical": False,
    "valid_from": None,
    "valid_to": None,
    "successors": [],
    "predecessors": [],
    "url": f"{BASE}/nations/PHL/",
}
NATO = {
    "acronym": "NATO",
    "name": "North Atlantic Treaty Organization",
    "kind": "alliance",
    "url": f"{BASE}/organizations/NATO/",
}

NATION_LIST = OpenApiExample(
    "Nations of Asia", summary="nations/?region=Asia", value=PHILIPPINES, response_only=True
)
NATION_DETAIL = OpenApiExample(
    "A nation and its memberships",
    value={
        **PHILIPPINES,
        "memberships": [
            {"organization": "ASEAN", "joined_on": "1967-08-08", "left_on": None},
            {"organization": "UN", "joined_on": "1945-10-24", "left_on": None},
        ],
    },
    response_only=True,
)
ORGANIZATION_LIST = OpenApiExample(
    "Alliances", summary="organizations/?kind=alliance", value=NATO, response_only=True
)
ORGANIZATION_DETAIL = OpenApiExample(
    "An organization and its members",
    value={
        **NATO,
        "members": [
            {"iso3": "SWE", "name": "Sweden", "joined_on": "2024-03-07", "left_on": None},
            {"iso3": "USA", "name": "United States", "joined_on": "1949-08-24", "left_on": None},
        ],
    },
    response_only=True,
)
POSTINGS = [
    {
        "id": 12,
        "code": "PHL",
        "kind": "nation",
        "name": "Philippines",
        "title": "Defense attaché, Manila",
        "active_from": "2025-07-01",
        "active_to": "2028-06-30",
        "current": True,
    },
    {
        "id": 13,
        "code": "PLW",
        "kind": "nation",
        "name": "Palau",
        "title": "Defense attaché, also accredited to Palau",
        "active_from": "2025-09-01",
        "active_to": "2028-06-30",
        "current": True,
    },
    {
        "id": 7,
        "code": "NATO",
        "kind": "organization",
        "name": "North Atlantic Treaty Organization",
        "title": "Deputy defense advisor, US Mission to NATO",
        "active_from": "2021-08-01",
        "active_to": "2024-07-31",
        "current": False,
    },
]
CONTACT = {
    "id": 5,
    "name": "Jane Doe",
    "rank": "Col.",
    "role": "defense_attache",
    "represents": "USA",
    "posted_to": "PLW",
    "email": "jane.doe@example.org",
    "phone": "",
    "active_from": "2021-08-01",
    "active_to": None,
    "postings": POSTINGS,
}
CONTACT_LIST = OpenApiExample(
    "Attachés posted to the Philippines today",
    summary="points-of-contact/?posted_to=PHL&active_on=2026-06-15",
    value=CONTACT,
    response_only=True,
)
CONTACT_DETAIL = OpenApiExample(
    "A point of contact with postings and agreements",
    value={
        **CONTACT,
        "agreements": [
            {
                "id": 3,
                "reference": "US-PH-2014-EDCA",
                "title": "Enhanced Defense Cooperation Agreement",
                "url": f"{BASE}/agreements/3/",
            }
        ],
    },
    response_only=True,
)
CONTACT_WRITE = OpenApiExample(
    "A contact with two postings",
    value={
        "name": "Jane Doe",
        "rank": "Col.",
        "role": "defense_attache",
        "represents": "USA",
        "email": "jane.doe@example.org",
        "phone": "",
        "active_from": "2021-08-01",
        "active_to": None,
        "postings": [
            {
                "code": "PHL",
                "title": "Defense attaché, Manila",
                "active_from": "2025-07-01",
                "active_to": "2028-06-30",
            },
            {
                "code": "NATO",
                "title": "Deputy defense advisor, US Mission to NATO",
                "active_from": "2021-08-01",
                "active_to": "2024-07-31",
            },
        ],
    },
    request_only=True,
)
CONTACT_PATCH = OpenApiExample(
    "Extend the current posting",
    value={
        "postings": [
            {"id": 12, "code": "PHL", "active_from": "2025-07-01", "active_to": "2029-06-30"},
            {"id": 7, "code": "NATO", "active_from": "2021-08-01", "active_to": "2024-07-31"},
        ]
    },
    request_only=True,
)
# One item: the schema shows it inside the list.
CONTACT_POSTINGS = OpenApiExample("The current posting", value=POSTINGS[0], response_only=True)
