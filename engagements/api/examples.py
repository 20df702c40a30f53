"""Examples for the OpenAPI schema of the engagements API.

The engagement shown is Balikatan 2024, the annual Philippines–United States exercise, with
Australia taking part, from 22 April to 10 May 2024; linked to the US–Philippines Enhanced
Defense Cooperation Agreement as agreements/api/examples.py shows it. Ids, times, users,
the location and coordinates (illustrative), the provision link, the contact and the
after-action values are made up. tests/test_api_conventions.py
checks every example against the schema.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample

from agreements.api.examples import BASE, EDCA_REF, PROVISIONS

ENGAGEMENT_ID = 31
ENGAGEMENT_URL = f"{BASE}/engagements/{ENGAGEMENT_ID}/"

LIST_ITEM = {
    "id": ENGAGEMENT_ID,
    "title": "Balikatan 2024",
    "kind": "exercise",
    "status": "completed",
    "classification": "unclassified",
    "starts_on": "2024-04-22",
    "ends_on": "2024-05-10",
    "location": "Luzon and Palawan",
    "location_nation": {"code": "PHL", "name": "Philippines"},
    "domain": "joint",
    "participants": [
        {"code": "PHL", "name": "Philippines", "kind": "nation", "role": "host", "personnel": None},
        {
            "code": "USA",
            "name": "United States",
            "kind": "nation",
            "role": "lead",
            "personnel": None,
        },
        {
            "code": "AUS",
            "name": "Australia",
            "kind": "nation",
            "role": "participant",
            "personnel": None,
        },
    ],
    "agreements": [EDCA_REF],
    "after_action_due_on": "2024-06-10",
    "outcome": "met",
    "url": ENGAGEMENT_URL,
}
DETAIL = {
    **LIST_ITEM,
    "latitude": "15.18500",
    "longitude": "120.56000",
    "summary": "The annual bilateral exercise of the armed forces of the Philippines and the "
    "United States, with Australia.",
    "objectives": "Interoperability; maritime security; humanitarian assistance and disaster "
    "relief.",
    "source_url": "",
    "outcome_notes": "",
    "lessons": "",
    "provisions": [
        {
            "id": PROVISIONS[2]["id"],
            "category": PROVISIONS[2]["category"],
            "title": PROVISIONS[2]["title"],
            "article": PROVISIONS[2]["article"],
            "agreement": EDCA_REF,
        }
    ],
    "contacts": [{"id": 12, "name": "A. Example", "rank": "Colonel", "role": "defense_attache"}],
    "owner": "desk.officer",
    "watchers": ["analyst"],
    "version": 4,
    "created_at": "2024-01-15T09:30:00Z",
    "updated_at": "2024-06-03T14:10:00Z",
}
WRITE = {
    "title": "Balikatan 2024",
    "kind": "exercise",
    "status": "approved",
    "starts_on": "2024-04-22",
    "ends_on": "2024-05-10",
    "location": "Luzon and Palawan",
    "location_nation": "PHL",
    "domain": "joint",
    "after_action_due_on": "2024-06-10",
    "owner": "desk.officer",
    "participants": [
        {"code": "PHL", "role": "host"},
        {"code": "USA", "role": "lead"},
        {"code": "AUS", "role": "participant"},
    ],
    "agreements": [EDCA_REF["id"]],
    "provisions": [PROVISIONS[2]["id"]],
}

ENGAGEMENT_LIST = OpenApiExample(
    "Engagements with the Philippines",
    summary="engagements/?partner=PHL",
    value=LIST_ITEM,
    response_only=True,
)
ENGAGEMENT_DETAIL = OpenApiExample("Balikatan 2024", value=DETAIL, response_only=True)
ENGAGEMENT_CREATE = OpenApiExample(
    "Record an exercise with its participants and agreement", value=WRITE, request_only=True
)
ENGAGEMENT_PUT = OpenApiExample("Replace the engagement", value=WRITE, request_only=True)
ENGAGEMENT_PATCH = OpenApiExample(
    "Record the after-action outcome",
    value={
        "status": "completed",
        "outcome": "met",
        "outcome_notes": "Every objective met.",
        "lessons": "Plan the maritime phase earlier.",
    },
    request_only=True,
)
EXPORT = OpenApiExample(
    "Engagements with the Philippines in 2024",
    summary="engagements/export/?partner=PHL&starts_after=2024-01-01&starts_before=2024-12-31",
    value="id,title,kind,status,classification,starts_on,ends_on,location,location_nation,"
    "latitude,longitude,domain,participants,agreements,provision_categories,"
    "after_action_due_on,outcome,source_url\r\n"
    f"{ENGAGEMENT_ID},Balikatan 2024,exercise,completed,unclassified,2024-04-22,2024-05-10,"
    "Luzon and Palawan,PHL,15.18500,120.56000,joint,PHL:host;USA:lead;AUS:participant,"
    "US-PH-2014-EDCA,training,2024-06-10,met,\r\n",
    media_type="text/csv",
    response_only=True,
)
STATISTICS = OpenApiExample(
    "Counts of the engagements with the Philippines",
    summary="engagements/stats/?partner=PHL",
    value={
        "total": 3,
        "by_year": [
            {"key": "2024", "label": "2024", "count": 2},
            {"key": "2025", "label": "2025", "count": 1},
        ],
        "by_kind": [
            {"key": "exercise", "label": "Exercise", "count": 2},
            {"key": "port_visit", "label": "Port visit", "count": 1},
        ],
        "by_status": [{"key": "completed", "label": "Completed", "count": 3}],
        "by_partner": [
            {"key": "PHL", "label": "Philippines", "count": 3},
            {"key": "USA", "label": "United States", "count": 2},
        ],
    },
    response_only=True,
)
STATISTICS_GROUPED = OpenApiExample(
    "Engagements per partner per year since 2015",
    summary="engagements/stats/?group_by=partner,year&starts_after=2015-01-01",
    value={
        "group_by": ["partner", "year"],
        "total": 4,
        "results": [
            {"partner": "PHL", "partner_label": "Philippines", "year": 2024, "count": 2},
            {"partner": "PHL", "partner_label": "Philippines", "year": 2025, "count": 1},
            {"partner": "USA", "partner_label": "United States", "year": 2024, "count": 2},
        ],
    },
    response_only=True,
)
