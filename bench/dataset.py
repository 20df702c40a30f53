"""The data set of ``bench.compare``: a registry of realistic size, loaded with ``COPY``.

Agreement ``i`` always gets the same rows (its own ``random.Random(i)``), so a data set can be
grown in steps (10,000 agreements, then 100,000) and the rows of the first step stay as they
were. Per agreement: 3 parties (4 for one in twenty; an organization instead of a nation for
about one in seven), each with its signature act and the periods ``party_acts`` derives from
it; 9 to 11 provisions (about 10), some classified a level above their agreement; the search
documents of ``agreements.search`` (one per run of clearance levels); and the change records
the write path would have written when it was created (the agreement, each party, each
provision). Texts are real English words; ``COMMON_WORD`` is in a third of the agreements
(summary or a provision) and ``RARE_WORD`` in one agreement in 2,500 (40 at 100,000).

The reminder sweep is measured as if today were ``SWEEP_DAY``: exactly one agreement in a
hundred of the first 10,000 (100 in all) has a date due in its window, every other date
stays clear of it, so the sweep has the same work to do at 10,000 and at 100,000.

The load is PostgreSQL only (``COPY``); secondary indexes of the loaded tables are dropped
for the load and built again afterwards, then ``VACUUM ANALYZE``.
"""

from __future__ import annotations

import datetime
import json
import random
import time
from types import SimpleNamespace

COMMON_WORD = "maritime"
RARE_WORD = "zanzibar"
RARE_EVERY = 2500
SWEEP_DAY = datetime.date(2030, 6, 3)
SWEEP_DUE_EVERY = 100  # among the first SWEEP_SCALE agreements
SWEEP_SCALE = 10_000
# No date of an agreement that is not one of the due ones falls in here.
SWEEP_CLEAR = (SWEEP_DAY - datetime.timedelta(days=400), SWEEP_DAY + datetime.timedelta(days=400))
CREATED_AT = datetime.datetime(2026, 1, 5, 9, 30, tzinfo=datetime.UTC)
NATIONS = 200
ORGANIZATIONS = 8

# Everyday and treaty English (no stop words: they are not indexed).
WORDS = [
    "agreement",
    "article",
    "annex",
    "arrangement",
    "authority",
    "basis",
    "border",
    "budget",
    "capability",
    "cargo",
    "carrier",
    "certificate",
    "civilian",
    "claims",
    "coastal",
    "command",
    "commitment",
    "communication",
    "compensation",
    "competent",
    "component",
    "conduct",
    "conference",
    "consent",
    "consultation",
    "contract",
    "contribution",
    "coordination",
    "cost",
    "council",
    "court",
    "crew",
    "customs",
    "damage",
    "data",
    "defense",
    "delegation",
    "delivery",
    "deployment",
    "designated",
    "detachment",
    "development",
    "diplomatic",
    "dispute",
    "document",
    "duty",
    "education",
    "embassy",
    "emergency",
    "employment",
    "engineering",
    "entry",
    "environment",
    "equipment",
    "establishment",
    "evaluation",
    "exchange",
    "exemption",
    "exercise",
    "expenses",
    "export",
    "facility",
    "financial",
    "fleet",
    "flight",
    "forces",
    "framework",
    "fuel",
    "funding",
    "government",
    "guarantee",
    "harbour",
    "headquarters",
    "health",
    "host",
    "hospital",
    "immunity",
    "implementation",
    "import",
    "infrastructure",
    "inspection",
    "installation",
    "insurance",
    "jurisdiction",
    "labour",
    "land",
    "language",
    "liaison",
    "licence",
    "logistics",
    "maintenance",
    "management",
    "medical",
    "meeting",
    "military",
    "mission",
    "movement",
    "munitions",
    "national",
    "navigation",
    "notification",
    "observer",
    "officer",
    "operation",
    "organization",
    "patrol",
    "payment",
    "peace",
    "permission",
    "personnel",
    "planning",
    "police",
    "port",
    "premises",
    "procedure",
    "procurement",
    "programme",
    "project",
    "property",
    "protection",
    "protocol",
    "provision",
    "purpose",
    "quality",
    "radio",
    "rail",
    "rank",
    "recovery",
    "reimbursement",
    "relief",
    "repair",
    "request",
    "research",
    "rescue",
    "reserve",
    "resources",
    "responsibility",
    "review",
    "road",
    "safety",
    "satellite",
    "schedule",
    "school",
    "science",
    "search",
    "security",
    "service",
    "settlement",
    "ship",
    "signal",
    "site",
    "space",
    "staff",
    "standard",
    "station",
    "storage",
    "supplies",
    "supply",
    "support",
    "surveillance",
    "survey",
    "tax",
    "technical",
    "technology",
    "telecommunications",
    "territory",
    "terrorism",
    "training",
    "transfer",
    "transit",
    "transport",
    "travel",
    "treaty",
    "troops",
    "uniform",
    "unit",
    "vehicle",
    "vessel",
    "visit",
    "warehouse",
    "water",
    "weapons",
    "weather",
    "withdrawal",
]
TITLE_WORDS = [
    "status",
    "forces",
    "mutual",
    "logistics",
    "support",
    "defense",
    "cooperation",
    "training",
    "exchange",
    "access",
    "acquisition",
    "cross",
    "servicing",
    "security",
    "information",
    "intelligence",
    "research",
    "development",
]
CATEGORIES = None  # filled by _choices()


def _choices():
    from accounts.choices import Classification
    from agreements.choices import AgreementStatus, AgreementType, ProvisionCategory

    return Classification, AgreementStatus, AgreementType, ProvisionCategory


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choices(WORDS, k=n))


def _clear_of_sweep(day: datetime.date | None) -> datetime.date | None:
    """Move a date out of the sweep's window (by three years)."""
    if day is not None and SWEEP_CLEAR[0] <= day <= SWEEP_CLEAR[1]:
        return day + datetime.timedelta(days=3 * 365)
    return day


# Loading with COPY --------------------------------------------------------------------------


class Table:
    """Rows for one model's table, as tuples in the order of its concrete fields; a field a
    row leaves out gets the model field's default (None when it has none)."""

    def __init__(self, model, *, stage_vector: str | None = None):
        self.model = model
        self.fields = model._meta.concrete_fields
        self.columns = [f.column for f in self.fields]
        self.defaults = []
        for f in self.fields:
            value = f.get_default()
            if isinstance(value, dict | list):
                value = json.dumps(value)
            self.defaults.append(value)
        self.stage_vector = stage_vector
        self.rows: list[tuple] = []
        self.next_id = 1

    def take_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def add(self, **values) -> None:
        if "id" not in values:
            values["id"] = self.take_id()
        row = []
        for f, default in zip(self.fields, self.defaults, strict=True):
            value = values.get(f.attname, default)
            if isinstance(value, dict | list):
                value = json.dumps(value)
            row.append(value)
        self.rows.append(tuple(row))

    @property
    def name(self) -> str:
        return self.model._meta.db_table

    def flush(self, cursor) -> int:
        """COPY the rows; with ``stage_vector`` (an SQL expression over the stage's columns
        for the ``search_vector``/``vector`` column), through a temporary stage table so the
        vector is computed by PostgreSQL in the same INSERT."""
        rows, self.rows = self.rows, []
        if not rows:
            return 0
        columns = ", ".join(f'"{c}"' for c in self.columns)
        target = self.name
        if self.stage_vector:
            target = f"stage_{self.name}"
            cursor.execute(
                f'CREATE TEMP TABLE IF NOT EXISTS "{target}" '
                f'(LIKE "{self.name}" INCLUDING DEFAULTS)'
            )
        with cursor.copy(f'COPY "{target}" ({columns}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
        if self.stage_vector:
            vector_column = next(c for c in self.columns if c in ("vector", "search_vector"))
            select = ", ".join(
                self.stage_vector if c == vector_column else f'"{c}"' for c in self.columns
            )
            cursor.execute(f'INSERT INTO "{self.name}" ({columns}) SELECT {select} FROM "{target}"')
            cursor.execute(f'TRUNCATE "{target}"')
        return len(rows)


def _secondary_indexes(cursor, tables: list[str]) -> list[tuple[str, str]]:
    cursor.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)
          AND i.indexname NOT IN (SELECT conname FROM pg_constraint)
        """,
        [tables],
    )
    return list(cursor.fetchall())


# The data -----------------------------------------------------------------------------------


def create_world():
    """Partners, the content types and the bench users (a low and a high clearance analyst, a
    secret-cleared editor for the writes), each with an API token. Returns a namespace."""
    from django.contrib.auth.models import Group
    from django.contrib.contenttypes.models import ContentType
    from rest_framework.authtoken.models import Token

    from accounts.choices import Classification
    from accounts.groups import ANALYSTS, EDITORS
    from accounts.models import User
    from agreements.models import Agreement, AgreementParty, Provision

    from . import harness

    nations, organizations = harness.create_partners()
    users = {}
    for username, clearance, group in (
        ("low", Classification.UNCLASSIFIED, ANALYSTS),
        ("high", Classification.SECRET, ANALYSTS),
        ("writer", Classification.SECRET, EDITORS),
    ):
        user = User.objects.create_user(
            username=username, email=f"{username}@example.org", clearance=clearance
        )
        user.groups.add(Group.objects.get(name=group))
        users[username] = user
    tokens = {name: Token.objects.create(user=user).key for name, user in users.items()}
    types = {
        model: ContentType.objects.get_for_model(model).pk
        for model in (Agreement, AgreementParty, Provision)
    }
    return SimpleNamespace(
        nations=nations, organizations=organizations, users=users, tokens=tokens, types=types
    )


def _agreement_values(i: int, rng: random.Random) -> dict:
    Classification, AgreementStatus, AgreementType, _ = _choices()
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
        if status != AgreementStatus.SIGNED:
            eif = signed + datetime.timedelta(days=rng.randrange(366))
        if status == AgreementStatus.EXPIRED or rng.random() < 0.5:
            expires = (eif or signed) + datetime.timedelta(days=365 * rng.randint(5, 30))
    expires = _clear_of_sweep(expires)
    notice_days = rng.choice([90, 180]) if expires and rng.random() < 0.5 else None
    auto_renews = bool(expires) and rng.random() < 0.3
    review = None
    if rng.random() < 0.5:
        review = _clear_of_sweep(
            datetime.date(2026, 1, 1) + datetime.timedelta(rng.randrange(1000))
        )
    office_email = ""
    if i < SWEEP_SCALE and i % SWEEP_DUE_EVERY == 50:  # one of the 100 the sweep finds due
        status, classification = AgreementStatus.IN_FORCE, Classification.UNCLASSIFIED
        signed = eif = datetime.date(2001, 3, 1)
        expires, notice_days, auto_renews = SWEEP_DAY + datetime.timedelta(days=25), None, False
        office_email = "office@example.org"
    summary = _words(rng, 25)
    if i % RARE_EVERY == 7:
        summary += f" {RARE_WORD} archipelago"
    if i % 3 == 0 and i % 2 == 0:
        summary += f" {COMMON_WORD} cooperation"
    deadline = expires - datetime.timedelta(days=notice_days) if expires and notice_days else None
    return {
        "id": i + 1,
        "reference": f"BENCH-{i:06d}",
        "title": f"{' '.join(rng.choices(TITLE_WORDS, k=2)).capitalize()} agreement {i}",
        "short_title": f"Bench {i}",
        "summary": summary,
        "source_url": f"https://example.org/treaties/{i}",
        "type": rng.choice(AgreementType.values),
        "status": status,
        "classification": classification,
        "signed_on": signed,
        "entered_into_force_on": eif,
        "expires_on": expires,
        "auto_renews": auto_renews,
        "renewal_period_months": 12 if auto_renews else None,
        "notice_period_days": notice_days,
        "notice_deadline": _clear_of_sweep(deadline) if not office_email else None,
        "next_review_on": review if not office_email else None,
        "review_interval_months": 12,
        "office_email": office_email,
        "created_at": CREATED_AT,
        "updated_at": CREATED_AT,
    }


def _history(tables, world, model, pk, repr_, values, classification, agreement=None) -> None:
    changes = {
        k: [None, v.isoformat() if isinstance(v, datetime.date) else v]
        for k, v in values.items()
        if v not in (None, "")
    }
    from agreements.models import Agreement

    tables["history"].add(
        changed_object_type_id=world.types[model],
        changed_object_id=pk,
        object_repr=repr_[:300],
        related_object_type_id=world.types[Agreement] if agreement is not None else None,
        related_object_id=agreement.id if agreement is not None else None,
        related_repr=agreement.reference if agreement is not None else "",
        action="create",
        changes=changes,
        classification=classification,
        actor_id=None,
        source="bench",
        at=CREATED_AT,
    )


HISTORY_AGREEMENT_FIELDS = (
    "reference",
    "title",
    "short_title",
    "summary",
    "type",
    "status",
    "classification",
    "signed_on",
    "entered_into_force_on",
    "expires_on",
    "notice_period_days",
    "next_review_on",
)


def _tables():
    from agreements.models import (
        Agreement,
        AgreementParty,
        AgreementSearchDocument,
        PartyAct,
        PartyPeriod,
        Provision,
    )
    from agreements.models.common import SEARCH_CONFIG
    from history.models import ChangeRecord

    config = f"'{SEARCH_CONFIG}'::regconfig"
    return {
        "agreement": Table(Agreement),
        "party": Table(AgreementParty),
        "act": Table(PartyAct),
        "period": Table(PartyPeriod),
        "provision": Table(
            Provision,
            stage_vector=(
                f"setweight(to_tsvector({config}, COALESCE(title, '') || ' ' || "
                "COALESCE(text, '')), 'C')"
            ),
        ),
        "document": Table(
            AgreementSearchDocument,
            stage_vector=(
                f"setweight(to_tsvector({config}, heading), 'A') || "
                f"setweight(to_tsvector({config}, summary), 'B') || "
                f"setweight(to_tsvector({config}, body), 'C')"
            ),
        ),
        "history": Table(ChangeRecord),
    }


def load(
    world, first: int, last: int, *, batch: int = 2000, log=print, vacuum: bool = True
) -> dict:
    """Add agreements ``first`` to ``last - 1`` with their rows; returns the row counts.
    ``vacuum``: indexes dropped and built again, then ``VACUUM ANALYZE`` (neither can run
    inside a test's transaction)."""
    from django.db import connection

    from agreements import party_acts
    from agreements.choices import PartyActKind
    from agreements.models import Agreement, AgreementParty, Provision
    from agreements.search import documents_of

    Classification, _, _, ProvisionCategory = _choices()
    categories = ProvisionCategory.values
    tables = _tables()
    counts = dict.fromkeys(tables, 0)
    names = [t.name for t in tables.values()]
    started = time.perf_counter()
    # Ids of the children: after what is there (the same agreement gets the same rows, not
    # necessarily the same child ids, when the data set grows).
    with connection.cursor() as django_cursor:
        cursor = django_cursor.cursor
        for table in tables.values():
            cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table.name}"')
            table.next_id = cursor.fetchone()[0] + 1
        # Outside a transaction only (``vacuum``): a test's transaction has pending
        # foreign-key checks that forbid building an index.
        indexes = _secondary_indexes(cursor, names) if vacuum else []
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')

        for start in range(first, last, batch):
            for i in range(start, min(start + batch, last)):
                rng = random.Random(i)
                values = _agreement_values(i, rng)
                tables["agreement"].add(**values)
                agreement = SimpleNamespace(**values)
                _history(
                    tables,
                    world,
                    Agreement,
                    agreement.id,
                    f"{agreement.reference}: {agreement.short_title}",
                    {k: values[k] for k in HISTORY_AGREEMENT_FIELDS},
                    agreement.classification,
                )
                partners = rng.sample(world.nations, 4 if rng.random() < 0.05 else 3)
                if rng.random() < 0.15:
                    partners[-1] = rng.choice(world.organizations)
                party_rows = []
                for partner in partners:
                    is_nation = not hasattr(partner, "acronym")
                    party = SimpleNamespace(
                        id=tables["party"].take_id(),
                        agreement_id=agreement.id,
                        nation_id=partner.pk if is_nation else None,
                        organization_id=None if is_nation else partner.pk,
                        signed_on=agreement.signed_on,
                    )
                    party_rows.append(party)
                    tables["party"].add(**vars(party))
                    _history(
                        tables,
                        world,
                        AgreementParty,
                        party.id,
                        partner.name,
                        {"code": partner.code, "signed_on": party.signed_on},
                        agreement.classification,
                        agreement,
                    )
                    acts = []
                    if agreement.signed_on:
                        act = SimpleNamespace(
                            kind=PartyActKind.SIGNATURE, date=agreement.signed_on, effective_on=None
                        )
                        acts.append(act)
                        tables["act"].add(party_id=party.id, kind=act.kind, date=act.date)
                    party.acts = acts
                binds = party_acts.signature_binds([p.acts for p in party_rows], len(party_rows))
                for party in party_rows:
                    periods = party_acts.party_periods(
                        party.acts,
                        agreement_in_force_on=agreement.entered_into_force_on,
                        signature_binds=binds,
                    )
                    for period in periods:
                        tables["period"].add(
                            agreement_id=agreement.id,
                            party_id=party.id,
                            status=period.status,
                            starts_on=period.starts_on,
                            ends_on=period.ends_on,
                        )
                level = Classification.rank(agreement.classification)
                provisions = []
                common_in_provision = i % 3 == 0 and i % 2 == 1
                for n in range(rng.randint(9, 11)):
                    higher = level + (1 if rng.random() < 0.05 and level < 3 else 0)
                    text = _words(rng, 30)
                    if common_in_provision and n == 4:
                        text += f" {COMMON_WORD} patrol"
                    row = {
                        "id": tables["provision"].take_id(),
                        "agreement_id": agreement.id,
                        "category": rng.choice(categories),
                        "title": _words(rng, 3).capitalize(),
                        "article": f"Art. {n + 1}",
                        "text": text,
                        "classification": Classification.values[higher],
                    }
                    provisions.append(row)
                    tables["provision"].add(**row)
                    _history(
                        tables,
                        world,
                        Provision,
                        row["id"],
                        f"{row['article']} {row['title']}",
                        {k: row[k] for k in ("category", "title", "article", "text")},
                        row["classification"],
                        agreement,
                    )
                provisions.sort(key=lambda p: (p["category"], p["article"], p["id"]))
                texts = [(p["classification"], p["title"], p["text"]) for p in provisions]
                for low, high, heading, summary, body in documents_of(agreement, texts):
                    tables["document"].add(
                        agreement_id=agreement.id,
                        level_from=low,
                        level_to=high,
                        heading=heading,
                        summary=summary,
                        body=body,
                    )
            for key, table in tables.items():
                counts[key] += table.flush(cursor)
            done = min(start + batch, last)
            if (done - first) % (batch * 10) == 0 or done == last:
                log(f"# loaded {done:,} agreements ({time.perf_counter() - started:.0f} s)")
        # The search documents keep no text on PostgreSQL.
        cursor.execute(
            "UPDATE agreements_agreementsearchdocument SET heading = '', summary = '', "
            "body = '' WHERE heading <> ''"
        )
        for name in names:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
                f'(SELECT COALESCE(MAX(id), 1) FROM "{name}"))'
            )
        index_started = time.perf_counter()
        for _, definition in indexes:
            cursor.execute(definition)
        log(f"# indexes rebuilt in {time.perf_counter() - index_started:.0f} s")
    if vacuum:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    log(f"# {last - first:,} agreements loaded in {time.perf_counter() - started:.0f} s: {counts}")
    return counts


def import_rows(n: int, world, *, prefix: str = "IMPORT") -> list[dict]:
    """``n`` agreements in the JSON Lines shape of the import (the API's create shape):
    3 parties, 10 provisions each."""
    _, AgreementStatus, AgreementType, ProvisionCategory = _choices()
    rows = []
    for k in range(n):
        rng = random.Random(10**9 + k)
        signed = datetime.date(1990, 1, 1) + datetime.timedelta(days=rng.randrange(9000))
        rows.append(
            {
                "reference": f"{prefix}-{k:06d}",
                "title": f"{_words(rng, 3).capitalize()} agreement",
                "summary": _words(rng, 25),
                "type": rng.choice(AgreementType.values),
                "status": AgreementStatus.IN_FORCE,
                "classification": "unclassified",
                "signed_on": signed.isoformat(),
                "entered_into_force_on": signed.isoformat(),
                "parties": [{"code": n.iso3} for n in rng.sample(world.nations, 3)],
                "provisions": [
                    {
                        "category": rng.choice(ProvisionCategory.values),
                        "title": _words(rng, 3).capitalize(),
                        "article": f"Art. {j + 1}",
                        "text": _words(rng, 30),
                    }
                    for j in range(10)
                ],
            }
        )
    return rows
