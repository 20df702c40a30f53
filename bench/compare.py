"""The project against the floor, through real HTTP, on PostgreSQL.

Builds the data set of ``bench.dataset`` on a scratch database (``--agreements``, default
100,000), serves the project under gunicorn with the production settings (2 workers, DEBUG
off) and the hand-written floor of ``bench.floor`` under gunicorn too (2 workers), then
requests every case from both in the same rounds (floor then project, the order swapped every
other round) over one persistent HTTP connection each, and prints a Markdown table: median
and 95th percentile of each, their ratios (project ÷ floor), and the SQL queries of one
request (the project's counted in-process through Django's test client, the floor's reported
by it). Then the writes and the sweep, in-process or over HTTP as said in each row.

Run: ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/dca_bench python -m bench.compare
[--agreements 100000] [--rounds 15]`` (``make bench``). PostgreSQL only: the floor is raw
psycopg. The database named must contain ``bench``: it is created and dropped (harness).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from . import dataset, harness

ROOT = harness.ROOT
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/dca_bench"
SECRET = secrets.token_urlsafe(50)
HOST = "127.0.0.1"


# Servers --------------------------------------------------------------------------------------


def server_env(extra: dict | None = None) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": SECRET,
        "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
        "DATABASE_URL": os.environ["DATABASE_URL"],
        # Behind a TLS proxy (X-Forwarded-Proto: https is sent): no redirect to https.
        "THROTTLE_RATE_USER": "100000000/hour",
        "THROTTLE_RATE_ANON": "100000000/hour",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DJANGO_DEBUG", None)
    env.update(extra or {})
    return env


def start(app: str, port: int, env: dict, log: Path) -> subprocess.Popen:
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "--workers", "2",
        "--bind", f"{HOST}:{port}",
        "--timeout", "600",
        app,
    ]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", "/nothing/")
            conn.getresponse().read()
            return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit(f"{app} did not start: see {log}")


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()


def worker_rss_kb(process: subprocess.Popen) -> int:
    """The largest resident size among the server's workers (children of its master)."""
    largest = 0
    for child in Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split():
        try:
            for line in Path(f"/proc/{child}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    largest = max(largest, int(line.split()[1]))
        except OSError:
            pass
    return largest


class Client:
    """One persistent HTTP/1.1 connection to a server."""

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection(HOST, port, timeout=600)

    def request(self, method, path, headers, body=None, *, stream=False):
        """(status, body bytes or (bytes, lines) when streaming, seconds, first byte s,
        X-Queries)."""
        headers = {"Host": "localhost", "X-Forwarded-Proto": "https", **headers}
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = http.client.HTTPConnection(HOST, self.port, timeout=600)
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        first = None
        if stream:
            size, lines = 0, 0
            while chunk := response.read1(1 << 16):
                if first is None:
                    first = time.perf_counter() - started
                size += len(chunk)
                lines += chunk.count(b"\n")
            data = (size, lines)
        else:
            data = response.read()
        seconds = time.perf_counter() - started
        return response.status, data, seconds, first, response.getheader("X-Queries")


# Cases ----------------------------------------------------------------------------------------


def cases(world, sample_id: int, high_session: str, low_session: str) -> list[dict]:
    api = "/api/v1/agreements/"
    token = {name: {"Authorization": f"Token {key}"} for name, key in world.tokens.items()}
    json_headers = {"Accept": "application/json"}

    def page(user, session):
        # The project reads the session; the floor, the token (both are sent to both).
        return {**token[user], "Cookie": f"sessionid={session}", "Accept": "text/html"}

    sessions = {"low": low_session, "high": high_session}

    def case(label, path, params=None, user="high", headers=None, same_json=True, target=""):
        query = f"?{urlencode(params)}" if params else ""
        return {
            "label": label,
            "path": path + query,
            "headers": headers or {**token[user], **json_headers},
            "same_json": same_json,
            "user": user,
            "target": target,
        }

    common, rare = dataset.COMMON_WORD, dataset.RARE_WORD
    out = [
        case("list page_size=50", api),
        case("list page_size=500", api, {"page_size": 500}, target="≤ 2×"),
        case("list page_size=50, unclassified user", api, user="low"),
        case("detail", f"{api}{sample_id}/", target="≤ 3×"),
        case(f"q={common} (common word)", api, {"q": common}, target="≤ 1.5×"),
        case(f"q={rare} (rare word)", api, {"q": rare}, target="≤ 3×"),
        case("stats/", "/api/v1/stats/", same_json=False, target="≤ 1.5×"),
        case("deadlines/", "/api/v1/deadlines/", target="≤ 3×"),
    ]
    for user, label in (("low", "unclassified"), ("high", "secret")):
        html = page(user, sessions[user])
        out += [
            case(f"page / ({label})", "/", user=user, headers=html, same_json=False,
                 target="≤ 2×"),
            case(f"page /agreements/ ({label})", "/agreements/", user=user, headers=html,
                 same_json=False, target="≤ 2×"),
            case(f"page /agreements/{sample_id}/ ({label})", f"/agreements/{sample_id}/",
                 user=user, headers=html, same_json=False, target="≤ 2×"),
        ]  # fmt: skip
    return out


def project_queries(case: dict, client) -> int:
    """The project's SQL statements for one request of ``case``, in-process."""
    headers = {
        f"HTTP_{k.upper().replace('-', '_')}": v
        for k, v in case["headers"].items()
        if k not in ("Cookie",)
    }
    with harness.counting_queries() as counter:
        response = client.get(case["path"], secure=True, **headers)
    assert response.status_code == 200, (case["path"], response.status_code)
    return counter.count


def rounds(all_cases, floor: Client, project: Client, n: int, log=print) -> None:
    for case in all_cases:
        case["times"] = {"floor": [], "project": []}
    for round_number in range(n + 1):  # round 0 warms up
        for case in all_cases:
            order = [("floor", floor), ("project", project)]
            if round_number % 2:
                order.reverse()
            for name, client in order:
                status, body, seconds, _, queries = client.request(
                    "GET", case["path"], case["headers"]
                )
                if status != 200:
                    raise SystemExit(f"{name} {case['path']}: {status} {body[:300]!r}")
                if round_number == 0:
                    case[f"{name}_body"] = body
                    if name == "floor":
                        case["floor_queries"] = queries
                else:
                    case["times"][name].append(seconds)
        log(f"# round {round_number} done")


def row_for(case: dict) -> list:
    floor, project = case["times"]["floor"], case["times"]["project"]
    fm, fp = harness.median(floor), harness.percentile(floor, 0.95)
    pm, pp = harness.median(project), harness.percentile(project, 0.95)
    same = "—"
    if case["same_json"]:
        same = "yes" if case["floor_body"] == case["project_body"] else "NO"
    return [
        case["label"],
        f"{fm * 1000:.1f} / {fp * 1000:.1f}",
        f"{pm * 1000:.1f} / {pp * 1000:.1f}",
        f"{pm / fm:.1f}×",
        f"{pp / fp:.1f}×",
        f"{case['floor_queries']} / {case['project_queries']}",
        same,
        case["target"],
    ]


HEADERS = [
    "case",
    "floor ms median / p95",
    "project ms median / p95",
    "ratio medians",
    "ratio p95",
    "queries floor / project",
    "same JSON",
    "target",
]


# Writes, export, sweep ------------------------------------------------------------------------


def measure_export(floor: Client, project: Client, world, floor_process, project_process, n):
    headers = {"Authorization": f"Token {world.tokens['high']}"}
    path = "/api/v1/agreements/export/"
    results = {}
    for name, client, process in (
        ("floor", floor, floor_process),
        ("project", project, project_process),
    ):
        times, firsts, rss_growth = [], [], []
        for _ in range(n):
            before = worker_rss_kb(process)
            status, (size, lines), seconds, first, _ = client.request(
                "GET", path, headers, stream=True
            )
            assert status == 200, (name, status)
            times.append(seconds)
            firsts.append(first)
            rss_growth.append(worker_rss_kb(process) - before)
        results[name] = {
            "rows": lines - 1,
            "mb": size / 1e6,
            "seconds": harness.median(times),
            "first": harness.median(firsts),
            "rss_growth_mb": max(rss_growth) / 1024,
            "rss_mb": worker_rss_kb(process) / 1024,
        }
    return results


def create_body(world, reference: str) -> bytes:
    row = dataset.import_rows(1, world, prefix=reference)[0]
    row["reference"] = reference
    return json.dumps(row).encode()


def measure_create(floor: Client, project: Client, world, n: int, django_client):
    headers = {
        "Authorization": f"Token {world.tokens['writer']}",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    times = {"floor": [], "project": []}
    for k in range(n + 1):
        for name, client in (("floor", floor), ("project", project)):
            status, body, seconds, _, queries = client.request(
                "POST", "/api/v1/agreements/", headers, create_body(world, f"CREATE-{name}-{k}")
            )
            assert status == 201, (name, status, body[:500])
            if k:
                times[name].append(seconds)
            elif name == "floor":
                floor_queries = queries
    with harness.counting_queries() as counter:
        response = django_client.post(
            "/api/v1/agreements/",
            data=create_body(world, "CREATE-counted"),
            content_type="application/json",
            secure=True,
            HTTP_AUTHORIZATION=headers["Authorization"],
        )
    assert response.status_code == 201, response.content[:500]
    return times, floor_queries, counter.count


def measure_import(world, n: int) -> tuple[float, int]:
    """Rows/s of ``import_agreements`` (the import service) on a JSON Lines file, and the
    SQL statements it ran."""
    from agreements.importers import import_file

    rows = dataset.import_rows(n, world)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        started = time.perf_counter()
        with harness.counting_queries() as counter:
            result = import_file(path, actor=world.users["writer"])
        seconds = time.perf_counter() - started
    assert result.counts["created"] == n, result.counts
    return n / seconds, counter.count


def measure_sweep(repeat: int = 9) -> tuple[float, int, int]:
    """Median seconds of the sweep's plan (``send_reminders --dry-run``: what is due as of
    ``SWEEP_DAY``), how many it found and its queries, after one untimed run (the first
    after a load pays for cold caches and the process's first queries of each kind)."""
    from agreements.reminders import reminders_plan

    reminders_plan(today=dataset.SWEEP_DAY)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        with harness.counting_queries() as counter:
            due = reminders_plan(today=dataset.SWEEP_DAY)
        times.append(time.perf_counter() - started)
    return harness.median(times), len(due), counter.count


# Main -----------------------------------------------------------------------------------------


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agreements", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds of the reads")
    parser.add_argument("--creates", type=int, default=10)
    parser.add_argument("--exports", type=int, default=3)
    parser.add_argument("--import-rows", type=int, default=200)
    parser.add_argument("--port", type=int, default=8711, help="the project's; the floor +1")
    parser.add_argument(
        "--cases",
        default="",
        help="comma-separated words: only the read cases whose label contains one of them "
        "(e.g. 'detail,deadlines'); 'export', 'create', 'import' and 'sweep' name the writes, "
        "export and sweep, which are skipped unless named. Default: everything",
    )
    parser.add_argument(
        "--cache-url",
        default="redis://127.0.0.1:6379/15",
        help="the project's cache, where the throttles count (CACHE_URL): Redis, as the "
        "production example in the README sets it; dbcache://registry_cache for the database",
    )
    args = parser.parse_args(argv)
    wanted = [word.strip() for word in args.cases.split(",") if word.strip()]

    def chosen(label: str) -> bool:
        return not wanted or any(word in label for word in wanted)

    os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    if not os.environ["DATABASE_URL"].startswith("postgres"):
        raise SystemExit("bench.compare needs PostgreSQL (DATABASE_URL=postgres://…/dca_bench)")

    harness.setup_django()
    from django.conf import settings
    from django.test import Client as DjangoClient

    from agreements.models import Agreement

    settings.SECRET_KEY = SECRET  # the sessions made here are the servers' sessions
    total_started = time.perf_counter()
    log_dir = Path(tempfile.mkdtemp(prefix="dca-compare-"))
    with harness.scratch_database():
        print("#", harness.machine())
        world = dataset.create_world()
        first = min(args.agreements, dataset.SWEEP_SCALE)
        dataset.load(world, 0, first)
        sweep_small = measure_sweep() if chosen("sweep") else None
        print(f"# sweep at {first:,}: {sweep_small}")
        if args.agreements > first:
            dataset.load(world, first, args.agreements)
        sweep_large = measure_sweep() if chosen("sweep") else None
        print(f"# sweep at {args.agreements:,}: {sweep_large}")

        sessions = {}
        for name in ("low", "high"):
            django_client = DjangoClient()
            django_client.force_login(world.users[name])
            sessions[name] = django_client.cookies["sessionid"].value
        sample = (
            Agreement.objects.filter(classification="unclassified", provisions__isnull=False)
            .order_by("pk")
            .values_list("pk", flat=True)[args.agreements // 2 // 2]
        )
        all_cases = [
            case
            for case in cases(world, sample, sessions["high"], sessions["low"])
            if chosen(case["label"])
        ]
        counting_client = DjangoClient()
        counting_client.force_login(world.users["high"])
        for case in all_cases:
            client = DjangoClient()
            if case["headers"].get("Accept") == "text/html":
                client.force_login(world.users[case["user"]])
            case["project_queries"] = project_queries(case, client)

        static_root = log_dir / "static"
        env = server_env({"DJANGO_STATIC_ROOT": str(static_root), "CACHE_URL": args.cache_url})
        for command in (["collectstatic", "--noinput"], ["createcachetable"]):
            subprocess.run(
                [sys.executable, "manage.py", *command, "-v0"], cwd=ROOT, env=env, check=True
            )
        project_process = start("config.wsgi:application", args.port, env, log_dir / "project.log")
        floor_process = start("bench.floor:app", args.port + 1, env, log_dir / "floor.log")
        try:
            floor, project = Client(args.port + 1), Client(args.port)
            rounds(all_cases, floor, project, args.rounds)
            for case in all_cases:
                case["project_body"] = case.pop("project_body")
            exports = None
            if chosen("export"):
                exports = measure_export(
                    floor, project, world, floor_process, project_process, args.exports
                )
            creates = None
            if chosen("create"):
                creates, create_floor_queries, create_queries = measure_create(
                    floor, project, world, args.creates, counting_client
                )
        finally:
            stop(project_process)
            stop(floor_process)
        if chosen("import"):
            import_rate, import_queries = measure_import(world, args.import_rows)

        table_rows = [row_for(case) for case in all_cases]
        print()
        print(
            f"Project ÷ floor, PostgreSQL, {args.agreements:,} agreements, "
            f"{args.rounds} rounds (times in ms)"
        )
        if creates is not None:
            table_rows.append(create_row(creates, create_floor_queries, create_queries))
        print(harness.table(HEADERS, table_rows))
        if exports is not None:
            print_exports(exports)
        if chosen("import"):
            print(
                f"import ({args.import_rows} JSON Lines rows, import service): "
                f"{import_rate:,.1f} rows/s, {import_queries} queries "
                f"({import_queries / args.import_rows:.0f} per row; target ≥ 100 rows/s)"
            )
        if sweep_small and sweep_large:
            print(
                f"reminder sweep (plan as of {dataset.SWEEP_DAY}): {sweep_small[1]} due at "
                f"{first:,} in {sweep_small[0] * 1000:.0f} ms ({sweep_small[2]} queries), "
                f"{sweep_large[1]} due at {args.agreements:,} in "
                f"{sweep_large[0] * 1000:.0f} ms ({sweep_large[2]} queries): ratio "
                f"{sweep_large[0] / sweep_small[0]:.2f} (target ≤ 1.3)"
            )
    print(f"# logs in {log_dir}; total {time.perf_counter() - total_started:.0f} s")


def create_row(creates, create_floor_queries, create_queries) -> list:
    fm, pm = harness.median(creates["floor"]), harness.median(creates["project"])
    fp, pp = (
        harness.percentile(creates["floor"], 0.95),
        harness.percentile(creates["project"], 0.95),
    )
    return [
        "create (POST, 3 parties, 10 provisions)",
        f"{fm * 1000:.1f} / {fp * 1000:.1f}",
        f"{pm * 1000:.1f} / {pp * 1000:.1f}",
        f"{pm / fm:.1f}×",
        f"{pp / fp:.1f}×",
        f"{create_floor_queries} / {create_queries}",
        "—",
        "≤ 3×, ≤ 20 queries",
    ]


def print_exports(exports) -> None:
    fe, pe = exports["floor"], exports["project"]
    print()
    print(
        harness.table(
            [
                "export",
                "rows",
                "MB",
                "seconds",
                "rows/s",
                "first byte s",
                "worker RSS MiB",
                "RSS growth MiB",
            ],
            [
                [
                    name,
                    f"{e['rows']:,}",
                    f"{e['mb']:.1f}",
                    f"{e['seconds']:.2f}",
                    f"{e['rows'] / e['seconds']:,.0f}",
                    f"{e['first']:.3f}",
                    f"{e['rss_mb']:.0f}",
                    f"{e['rss_growth_mb']:.1f}",
                ]
                for name, e in (("COPY floor", fe), ("project", pe))
            ],
        )  # fmt: skip
    )
    print(
        f"\nexport: project {pe['rows'] / pe['seconds']:,.0f} rows/s = "
        f"{(pe['rows'] / pe['seconds']) / (fe['rows'] / fe['seconds']):.2f} of COPY "
        "(target ≥ 0.5, first byte ≤ 1 s)"
    )


if __name__ == "__main__":
    main()
