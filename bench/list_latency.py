"""List endpoints: latency and SQL queries at 10,000 agreements.

Each case is requested through Django's WSGI test client, signed in as an analyst cleared to
secret: a few warm-up requests, then ``--repeat`` timed ones (median and 90th percentile),
plus the queries of one request. A case whose query count differs between a page of 50 and
a page of 500 would be an N+1.

Cases: /api/v1/agreements/ with page_size 50 and 500 (first and a deep page, sorted,
filtered), the browser list page /agreements/, and the full-text search ``q`` (one search
document per agreement and clearance level: tsvector with GIN on PostgreSQL, FTS5 on
SQLite).

Run: ``python -m bench.list_latency [--agreements 10000] [--repeat 15]``
(``DATABASE_URL=postgres://postgres@127.0.0.1:5432/dca_bench`` for PostgreSQL).
"""

from __future__ import annotations

import argparse
import json
import re
import time

from . import harness

API = "/api/v1/agreements/"
PAGE = "/agreements/"
AGREEMENT_LINK = re.compile(rb'href="/agreements/\d+/"')


def cases(party: str, agreements: int) -> list[tuple[str, str, dict]]:
    rare, common = harness.RARE_WORD, "maritime"
    deep = max(1, agreements // 50 * 3 // 4)  # three quarters of the way (150 of 200)
    filters = {"party": party, "category": "training", "in_force_on": "2000-01-01"}
    return [
        ("API page_size=50", API, {"page_size": 50}),
        ("API page_size=500", API, {"page_size": 500}),
        (f"API page_size=50, page {deep}", API, {"page_size": 50, "page": deep}),
        ("API ordering=-expires_on", API, {"ordering": "-expires_on"}),
        ("API party+category+in_force_on", API, filters),
        (f"API q={common} (common word)", API, {"q": common}),
        (f"API q={common} page_size=500", API, {"q": common, "page_size": 500}),
        (f"API q={common} logistics", API, {"q": f"{common} logistics"}),
        (f"API q={rare} (1 in 1,000)", API, {"q": rare}),
        (f"API q={rare} {common}", API, {"q": f"{rare} {common}"}),
        (f"API q={common} -{rare}", API, {"q": f"{common} -{rare}"}),
        (f'API q="{common} security"', API, {"q": f'"{common} security"'}),
        ("page /agreements/", PAGE, {}),
        ("page /agreements/?page_size=500", PAGE, {"page_size": 500}),
        (f"page /agreements/?q={common}", PAGE, {"q": common}),
    ]


def run_case(client, url, params, warmup: int, repeat: int) -> dict:
    def get():
        response = client.get(url, params)
        assert response.status_code == 200, (url, params, response.status_code)
        return response

    for _ in range(warmup):
        get()
    with harness.counting_queries() as queries:
        response = get()
    body = response.content
    if url == API:
        payload = json.loads(body)
        rows, total = len(payload["results"]), payload["count"]
    else:
        rows, total = len(AGREEMENT_LINK.findall(body)), None
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        get()
        times.append(time.perf_counter() - started)
    return {
        "queries": queries.count,
        "rows": rows,
        "total": total,
        "kb": len(body) / 1024,
        "median_ms": harness.median(times) * 1000,
        "p90_ms": harness.percentile(times, 0.9) * 1000,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agreements", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=15, help="timed requests per case")
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args(argv)

    harness.setup_django()
    from django.db import connection

    total_started = time.perf_counter()
    with harness.scratch_database():
        print("#", harness.machine())
        user, nations, _ = harness.world(args.agreements)
        client = harness.client_for(user)
        rows = []
        for label, url, params in cases(nations[0].iso3, args.agreements):
            result = run_case(client, url, params, args.warmup, args.repeat)
            print(f"# {label}: {result}")
            rows.append(
                [
                    label,
                    result["queries"],
                    result["rows"],
                    "—" if result["total"] is None else f"{result['total']:,}",
                    f"{result['kb']:,.0f}",
                    f"{result['median_ms']:.0f}",
                    f"{result['p90_ms']:.0f}",
                ]
            )
        print()
        print(
            f"List latency, {connection.vendor}, {args.agreements:,} agreements, "
            f"{args.repeat} timed requests per case"
        )
        print(
            harness.table(
                ["case", "SQL queries", "rows", "matches", "KiB", "median ms", "p90 ms"], rows
            )
        )
    print(f"# total {time.perf_counter() - total_started:.0f} s")


if __name__ == "__main__":
    main()
