"""Reference data from maintained packages: ISO 3166 countries (pycountry) with their
UN M49 regions (hdx-python-country's bundled data); the days the former states existed and
their successors, from ``partners/data/former_states.json``; and the organizations shipped
in ``partners/data/organizations.json``."""

from __future__ import annotations

import datetime
import json
from collections import Counter
from pathlib import Path

import pycountry
from django.db import transaction
from hdx.location.country import Country

from .services import membership_upsert, nation_upsert, organization_upsert

ORGANIZATIONS_FILE = Path(__file__).parent / "data" / "organizations.json"
FORMER_STATES_FILE = Path(__file__).parent / "data" / "former_states.json"

# How the loader's changes are named in history.
SOURCE = "seed_reference_data"

# Former states take the UN M49 region of the state that succeeded them.
SUCCESSORS = {
    "AFI": "DJI",
    "ANT": "CUW",
    "BUR": "MMR",
    "BYS": "BLR",
    "CSK": "CZE",
    "DDR": "DEU",
    "DHY": "BEN",
    "GEL": "KIR",
    "HVO": "BFA",
    "NHB": "VUT",
    "NTZ": "SAU",
    "PCZ": "PAN",
    "RHO": "ZWE",
    "SCG": "SRB",
    "SKM": "IND",
    "SUN": "RUS",
    "TMP": "TLS",
    "VDR": "VNM",
    "YMD": "YEM",
    "YUG": "SRB",
    "ZAR": "COD",
}


def _m49(iso3: str) -> tuple[str, str]:
    info = Country.get_country_info_from_iso3(iso3, use_live=False) or {}
    return info.get("Region Name") or "", info.get("Sub-region Name") or ""


def _date(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


def _former_states() -> dict[str, dict]:
    entries = json.loads(FORMER_STATES_FILE.read_text(encoding="utf-8"))
    return {entry["iso3"]: entry for entry in entries}


def nation_rows() -> list[dict]:
    """Every nation's values for ``nation_upsert``: the current countries first, then the
    former states, each after the former states that succeeded it (so a successor always
    exists before the state that names it)."""
    former = _former_states()
    rows = []
    current = set()
    for country in pycountry.countries:
        current.add(country.alpha_3)
        region, subregion = _m49(country.alpha_3)
        rows.append(
            {
                "iso3": country.alpha_3,
                "iso2": country.alpha_2,
                "name": getattr(country, "common_name", None) or country.name,
                "official_name": getattr(country, "official_name", "") or "",
                "region": region,
                "subregion": subregion,
                "is_historical": False,
            }
        )
    historic = []
    for country in pycountry.historic_countries:
        iso3 = getattr(country, "alpha_3", None)
        if not iso3 or iso3 in current:
            continue
        region, subregion = _m49(SUCCESSORS.get(iso3, iso3))
        entry = former.pop(iso3, {})
        row = {
            "iso3": iso3,
            "iso2": "",
            "name": entry.get("name") or country.name.split(",")[0].strip(),
            "official_name": country.name,
            "region": region,
            "subregion": subregion,
            "is_historical": True,
        }
        if entry:  # the others keep whatever an editor gave them
            row["valid_from"] = _date(entry.get("valid_from"))
            row["valid_to"] = _date(entry.get("valid_to"))
            row["successors"] = list(entry["successors"])
        historic.append(row)
    if former:
        raise ValueError(f"former_states.json: not former states of ISO 3166-3: {sorted(former)}")
    return rows + _successors_first(historic)


def _successors_first(rows: list[dict]) -> list[dict]:
    """``rows`` with each one after the rows of its successors (otherwise in order)."""
    by_code = {row["iso3"]: row for row in rows}
    ordered, placed, visiting = [], set(), set()

    def place(row):
        if row["iso3"] in placed:
            return
        if row["iso3"] in visiting:
            raise ValueError(f"former_states.json: {row['iso3']} succeeds itself")
        visiting.add(row["iso3"])
        for code in row.get("successors", ()):
            if code in by_code:
                place(by_code[code])
        placed.add(row["iso3"])
        ordered.append(row)

    for row in rows:
        place(row)
    return ordered


@transaction.atomic
def seed_reference_data() -> Counter:
    """Load or refresh every nation and organization through the partner services, so each
    change is recorded (source ``seed_reference_data``); a second run changes and records
    nothing."""
    from .models import Nation

    counts: Counter = Counter()
    for row in nation_rows():
        _, outcome = nation_upsert(source=SOURCE, **row)
        counts[f"nations {outcome}"] += 1
    nations = {n.iso3: n for n in Nation.objects.all()}
    organizations = json.loads(ORGANIZATIONS_FILE.read_text(encoding="utf-8"))
    for entry in organizations:
        org, outcome = organization_upsert(
            acronym=entry["acronym"], name=entry["name"], kind=entry["kind"], source=SOURCE
        )
        counts[f"organizations {outcome}"] += 1
        for member in entry["members"]:
            nation = nations.get(member["iso3"])
            if nation is None:
                raise ValueError(f"{entry['acronym']}: unknown member code {member['iso3']!r}")
            _, outcome = membership_upsert(
                organization=org,
                nation=nation,
                joined_on=_date(member.get("joined_on")),
                left_on=_date(member.get("left_on")),
                source=SOURCE,
            )
            counts[f"memberships {outcome}"] += 1
    return counts
