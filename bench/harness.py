"""What the benchmarks share: Django set up on a scratch database, a synthetic registry
built with ``bulk_create``, a signed-in client, a query counter, memory probes and a table.

The scratch database follows ``DATABASE_URL``:

* SQLite (the default): a file in a temporary folder, deleted afterwards.
* PostgreSQL: the database named in the URL when its name contains ``bench`` (for example
  ``postgres://postgres@127.0.0.1:5432/dca_bench``), created at the start and dropped at the
  end, replaced without asking if it is left over from an interrupted run; any other name gets
  Django's usual ``test_<name>``, so a real database is never touched.
"""

from __future__ import annotations

import datetime
import gc
import os
import random
import shutil
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

VOCABULARY = [
    *("maritime", "security", "training", "logistics", "exchange", "cyber", "intelligence"),
    *("peacekeeping", "aviation", "naval", "research", "industrial", "basing", "access"),
    *("consultation", "mutual", "defense", "cooperation", "status", "forces", "crisis"),
    *("response", "exercise", "medical", "border", "counterterrorism", "space", "munitions"),
    *("procurement", "interoperability"),
]
RARE_WORD = "zanzibar"  # in the summary of one agreement in a thousand

REGIONS = {
    "Africa": "Eastern Africa",
    "Americas": "South America",
    "Asia": "South-eastern Asia",
    "Europe": "Western Europe",
    "Oceania": "Melanesia",
}
NATIONS = 200
ORGANIZATIONS = 8
BATCH = 2000


def setup_django() -> None:
    """Django with the test settings (DEBUG off, fast hashing); DATABASE_URL picks the
    database, SQLite when unset."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from django.conf import settings

    # The test client's host; everything else stays as in production (no template
    # instrumentation, no captured queries, DEBUG off).
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]


@contextmanager
def scratch_database():
    """Create and migrate a throwaway database, yield its vendor, drop it at the end."""
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    db = settings.DATABASES["default"]
    folder = None
    if connection.vendor == "sqlite":
        folder = tempfile.mkdtemp(prefix="dca-bench-")
        db["TEST"] = {**db.get("TEST", {}), "NAME": str(Path(folder) / "bench.sqlite3")}
    elif "bench" in str(db["NAME"]):
        db["TEST"] = {**db.get("TEST", {}), "NAME": db["NAME"]}
    print(f"# scratch database: {connection.vendor} {db['TEST'].get('NAME') or 'test_…'}")
    started = time.perf_counter()
    old_config = setup_databases(verbosity=0, interactive=False, serialized_aliases=set())
    print(f"# created and migrated in {time.perf_counter() - started:.1f} s")
    try:
        yield connection.vendor
    finally:
        teardown_databases(old_config, verbosity=0)
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
        print("# scratch database dropped")


# Data ---------------------------------------------------------------------------------------


def _letters(n: int, width: int) -> str:
    out = ""
    for _ in range(width):
        n, rest = divmod(n, 26)
        out = chr(65 + rest) + out
    return out


def create_partners() -> tuple[list, list]:
    """Synthetic nations (codes ``QAA``, ``QAB``…) and organizations (``BORG0``…)."""
    from partners.choices import OrganizationKind
    from partners.models import Nation, Organization

    regions = list(REGIONS.items())
    nations = Nation.objects.bulk_create(
        Nation(
            iso3="Q" + _letters(i, 2),
            iso2=_letters(i, 2),
            name=f"Benchland {i}",
            official_name=f"Republic of Benchland {i}",
            region=regions[i % len(regions)][0],
            subregion=regions[i % len(regions)][1],
        )
        for i in range(NATIONS)
    )
    organizations = Organization.objects.bulk_create(
        Organization(
            acronym=f"BORG{i}", name=f"Bench Organization {i}", kind=OrganizationKind.ALLIANCE
        )
        for i in range(ORGANIZATIONS)
    )
    return nations, organizations


def create_user(username: str = "bench"):
    """An analyst (view, export, statistics) cleared to secret: every read applies the
    clearance rule, as it does for real users (a superuser would skip it)."""
    from django.contrib.auth.models import Group

    from accounts.choices import Classification
    from accounts.groups import ANALYSTS
    from accounts.models import User

    user = User.objects.create_user(
        username=username, email=f"{username}@example.org", clearance=Classification.SECRET
    )
    user.groups.add(Group.objects.get(name=ANALYSTS))
    return user


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(VOCABULARY) for _ in range(n))


def _agreement(i: int, rng: random.Random):
    from accounts.choices import Classification
    from agreements.choices import AgreementStatus, AgreementType
    from agreements.models import Agreement

    status = rng.choices(
        [
            AgreementStatus.IN_FORCE,
            AgreementStatus.SIGNED,
            AgreementStatus.EXPIRED,
            AgreementStatus.NEGOTIATING,
        ],
        weights=[60, 10, 15, 15],
    )[0]
    classification = rng.choices(Classification.values, weights=[85, 8, 5, 2])[0]
    signed = eif = expires = None
    if status != AgreementStatus.NEGOTIATING:
        signed = datetime.date(1950, 1, 1) + datetime.timedelta(days=rng.randrange(27000))
        eif = signed + datetime.timedelta(days=rng.randrange(366))
        if status == AgreementStatus.EXPIRED or rng.random() < 0.5:
            expires = eif + datetime.timedelta(days=365 * rng.randint(5, 30))
    notice_days = rng.choice([90, 180]) if expires and rng.random() < 0.5 else None
    auto_renews = bool(expires) and rng.random() < 0.3
    summary = _words(rng, 20)
    if i % 1000 == 0:
        summary += f" {RARE_WORD} annex"
    agreement = Agreement(
        reference=f"BENCH-{i:06d}",
        title=f"{_words(rng, 2).capitalize()} agreement {i}",
        short_title=f"Bench {i}",
        summary=summary,
        source_url=f"https://example.org/treaties/{i}",
        type=rng.choice(AgreementType.values),
        status=status,
        classification=classification,
        signed_on=signed,
        entered_into_force_on=eif if status != AgreementStatus.SIGNED else None,
        expires_on=expires,
        auto_renews=auto_renews,
        renewal_period_months=12 if auto_renews else None,
        notice_period_days=notice_days,
        next_review_on=(
            datetime.date(2026, 1, 1) + datetime.timedelta(days=rng.randrange(1000))
            if rng.random() < 0.5
            else None
        ),
        review_interval_months=12,
    )
    # Derived in save(), which bulk_create skips.
    agreement.notice_deadline = agreement.compute_notice_deadline()
    return agreement


def populate(total: int, nations, organizations) -> float:
    """Add agreements ``BENCH-000000``… until there are ``total``, each with 2–5 parties and
    2–4 provisions; the same agreement ``i`` always gets the same data. Returns seconds."""
    from accounts.choices import Classification
    from agreements.choices import ProvisionCategory
    from agreements.models import Agreement, AgreementParty, Provision

    started = time.perf_counter()
    start = Agreement.objects.count()
    for first in range(start, total, BATCH):
        rngs = [random.Random(i) for i in range(first, min(first + BATCH, total))]
        agreements = Agreement.objects.bulk_create(
            _agreement(first + k, rng) for k, rng in enumerate(rngs)
        )
        parties, provisions = [], []
        for agreement, rng in zip(agreements, rngs, strict=True):
            partners = rng.sample(nations, rng.randint(2, 5))
            if rng.random() < 0.15:  # an organization instead of one nation
                partners[-1] = rng.choice(organizations)
            for partner in partners:
                kind = "organization" if partner in organizations else "nation"
                parties.append(AgreementParty(agreement=agreement, **{kind: partner}))
            level = Classification.rank(agreement.classification)
            for n in range(rng.randint(2, 4)):
                higher = level + (1 if rng.random() < 0.1 and level < 3 else 0)
                provisions.append(
                    Provision(
                        agreement=agreement,
                        category=rng.choice(ProvisionCategory.values),
                        title=_words(rng, 3).capitalize(),
                        article=f"Art. {n + 1}",
                        text=_words(rng, 30),
                        classification=Classification.values[higher],
                    )
                )
        AgreementParty.objects.bulk_create(parties)
        Provision.objects.bulk_create(provisions)
    _index_search()
    return time.perf_counter() - started


def _index_search() -> None:
    """What the write path would have written: the agreements' search documents (both
    databases) and, on PostgreSQL, the provisions' own vectors; then the planner's
    statistics and the GIN pending lists merged (as autovacuum would after a bulk load)."""
    from django.db import connection

    from agreements.models import Agreement
    from agreements.search import write_documents

    missing = (
        Agreement.objects.filter(search_documents__isnull=True)
        .only("pk", "reference", "title", "summary", "classification")
        .order_by("pk")
    )
    while batch := list(missing[:BATCH]):
        write_documents(batch)
    if connection.vendor != "postgresql":
        return
    from django.contrib.postgres.search import SearchVector

    from agreements.models import SEARCH_CONFIG, Provision

    # The same vector as Provision.save().
    Provision.objects.filter(search_vector=None).update(
        search_vector=SearchVector("title", "text", weight="C", config=SEARCH_CONFIG)
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def world(total: int):
    """Partners, the bench user and ``total`` agreements; returns (user, nations, orgs)."""
    nations, organizations = create_partners()
    user = create_user()
    seconds = populate(total, nations, organizations)
    print(f"# {total} agreements generated in {seconds:.1f} s")
    return user, nations, organizations


def client_for(user):
    from django.test import Client

    client = Client(HTTP_ACCEPT="application/json")
    client.force_login(user)
    return client


# Measuring ----------------------------------------------------------------------------------


class QueryCounter:
    """Counts the SQL statements run on a connection without keeping them (unlike
    CaptureQueriesContext, whose log would itself use memory)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


@contextmanager
def counting_queries():
    from django.db import connection

    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        yield counter


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def reset_peak_rss() -> bool:
    """Linux: reset the process's resident high-water mark (VmHWM). False when impossible."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        return True
    except OSError:
        return False


def rss_kb() -> int:
    return _status_kb("VmRSS")


def peak_rss_kb() -> int:
    return _status_kb("VmHWM")


def settle() -> None:
    gc.collect()


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def table(headers: list[str], rows: list[list]) -> str:
    """A Markdown table (pastes into bench/README.md as it is)."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    lines = [
        "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |",
        "| " + " | ".join("-" * w for w in widths) + " |",
    ]
    for row in cells:
        lines.append("| " + " | ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) + " |")
    return "\n".join(lines)


def machine() -> str:
    import platform

    import django
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
        else:
            cursor.execute("SELECT sqlite_version()")
        version = cursor.fetchone()[0]
    return (
        f"Python {platform.python_version()}, Django {django.get_version()}, "
        f"{connection.vendor} {version}, {os.cpu_count()} CPUs"
    )
