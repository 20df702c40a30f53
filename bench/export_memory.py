"""CSV export: does streaming /api/v1/agreements/export/ keep memory flat as the rows grow?

For each size (default 1,000, 10,000 and 50,000 agreements, each with 2–5 parties and 2–4
provisions) the whole export is streamed through Django's WSGI test client twice:

1. timed, counting SQL statements and the growth of the resident set (Linux VmHWM, reset
   before the request, minus the RSS just before it);
2. under tracemalloc, for the peak of Python allocations during the request.

Run: ``python -m bench.export_memory [--sizes 1000,10000,50000] [--no-tracemalloc]``
(``DATABASE_URL=postgres://postgres@127.0.0.1:5432/dca_bench`` for PostgreSQL).
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

from . import harness

URL = "/api/v1/agreements/export/"


def stream(client, params=None) -> tuple[int, int, bool]:
    """Fetch the export and consume it chunk by chunk, keeping nothing.
    Returns (data rows, bytes, streamed)."""
    response = client.get(URL, params or {})
    assert response.status_code == 200, response.status_code
    chunks = size = 0
    for chunk in response.streaming_content:  # AttributeError if it is not streamed
        chunks += 1
        size += len(chunk)
    response.close()
    return chunks - 1, size, response.streaming


def measure(client, expected_rows: int, with_tracemalloc: bool) -> dict:
    # Warm up: imports, URL resolution, permission caches (a one-row export).
    stream(client, {"q": harness.RARE_WORD, "signed_before": "1950-12-31"})

    harness.settle()
    exact = harness.reset_peak_rss()
    rss_before = harness.rss_kb()
    started = time.perf_counter()
    with harness.counting_queries() as queries:
        rows, size, streamed = stream(client)
    seconds = time.perf_counter() - started
    rss_growth = harness.peak_rss_kb() - rss_before if exact else None
    assert rows == expected_rows, (rows, expected_rows)

    traced_peak = None
    if with_tracemalloc:
        harness.settle()
        tracemalloc.start()
        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]
        stream(client)
        traced_peak = tracemalloc.get_traced_memory()[1] - baseline
        tracemalloc.stop()
    return {
        "rows": rows,
        "bytes": size,
        "seconds": seconds,
        "queries": queries.count,
        "rss_growth_kb": rss_growth,
        "traced_peak": traced_peak,
        "streamed": streamed,
        "rss_kb": harness.rss_kb(),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000", help="comma list of row counts")
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the traced run")
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))

    harness.setup_django()
    from django.db import connection

    from agreements.export import EXPORT_CHUNK
    from agreements.models import Agreement

    total_started = time.perf_counter()
    with harness.scratch_database():
        print("#", harness.machine())
        nations, organizations = harness.create_partners()
        user = harness.create_user()
        client = harness.client_for(user)
        results = []
        for size in sizes:
            seconds = harness.populate(size, nations, organizations)
            visible = Agreement.objects.visible_to(user).count()
            print(f"# {size} agreements ({visible} visible to the bench user) in {seconds:.1f} s")
            result = measure(client, visible, not args.no_tracemalloc)
            results.append((size, result))
            print(f"# measured {size}: {result}")

        rows = []
        for size, r in results:
            rows.append(
                [
                    f"{size:,}",
                    f"{r['rows']:,}",
                    f"{r['bytes'] / 1e6:.1f}",
                    f"{r['seconds']:.1f}",
                    f"{r['rows'] / r['seconds']:,.0f}",
                    r["queries"],
                    "—" if r["traced_peak"] is None else f"{r['traced_peak'] / 2**20:.1f}",
                    "—" if r["rss_growth_kb"] is None else f"{r['rss_growth_kb'] / 1024:.1f}",
                    "yes" if r["streamed"] else "NO",
                ]
            )
        print()
        print(
            f"CSV export, {connection.vendor}, chunk size {EXPORT_CHUNK} "
            "(peaks are during the request, above what the process held before it)"
        )
        print(
            harness.table(
                [
                    "agreements",
                    "rows out",
                    "MB of CSV",
                    "seconds",
                    "rows/s",
                    "SQL queries",
                    "tracemalloc peak MiB",
                    "RSS growth MiB",
                    "streamed",
                ],
                rows,
            )
        )
        if len(results) > 1 and not args.no_tracemalloc:
            small, large = results[0][1]["traced_peak"], results[-1][1]["traced_peak"]
            print(
                f"\npeak at {results[-1][0]:,} / peak at {results[0][0]:,} agreements: "
                f"{large / small:.2f}x (flat is ~1x; {results[-1][0] / results[0][0]:.0f}x rows)"
            )
    print(f"# total {time.perf_counter() - total_started:.0f} s")


if __name__ == "__main__":
    main()
