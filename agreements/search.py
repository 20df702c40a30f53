"""Full-text search with one meaning on PostgreSQL and SQLite.

What is searched: the whole of what the reader may see of an agreement, as ONE document
(its reference and title, its summary, the provisions within their clearance): ``college
threat`` finds an agreement whose two words are in two provisions, and ``-philippines``
leaves out an agreement that names the Philippines anywhere the reader may see. A word that
only a provision above the reader's clearance holds neither matches nor excludes.

The documents (``AgreementSearchDocument``: one row per agreement and run of clearance
levels that see the same text) are rewritten by ``refresh_documents`` when a write closes
(``agreements.services.common._finish``), so every writer (admin, API, import, lifecycle)
keeps them in step.

The query language is PostgreSQL's ``websearch_to_tsquery``: words are ANDed, ``"quoted
phrases"`` match words in a row, ``or`` between terms is an OR (binding looser than the AND),
``-`` before a word or phrase excludes it; other punctuation is ignored, English stop words
("the", "or" alone) are dropped, and a query of nothing but stop words finds nothing.

* PostgreSQL: ``vector @@ websearch_to_tsquery('english', q)`` on the reader's level's
  document, which is joined (one row per agreement), so the GIN index answers a rare word
  and ``ts_rank`` ranks the same row (weights: reference and title A, summary B, provisions
  C). Words are stemmed by the ``english`` configuration.
* SQLite: FTS5 tables with the ``porter`` stemmer (``install_sqlite_fts``), queried with a
  translation of the same syntax (``parse`` then ``fts5_match``), ranked with ``bm25`` with
  the same weights in the same order. The index is joined once (``AgreementSearchIndexRow``)
  and ranked from that scan: bm25 re-reads its term statistics each time the index is opened,
  so a lookup per agreement would make a common word quadratic. FTS5 has no stand-alone NOT,
  so a group of only exclusions (``-nato``) becomes "not among the documents that match",
  asked per document.

The provision list's ``q`` (provisions alone) uses the same translation on SQLite, over the
FTS5 table of provisions; on PostgreSQL each provision's own ``search_vector``.
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connections
from django.db.models import (
    BooleanField,
    Expression,
    F,
    FilteredRelation,
    FloatField,
    Q,
    QuerySet,
    Value,
)

from accounts.choices import Classification
from accounts.clearance import level_of

from .models import SEARCH_CONFIG, Agreement, Provision
from .models.search import HIGHEST_LEVEL, AgreementSearchDocument

# PostgreSQL's ``english`` stop words (tsearch_data/english.stop; a test checks that
# PostgreSQL drops every one of them): a query word among them is dropped on SQLite too.
_STOP_WORDS = """
    a about above after again against all am an and any are as at be because been before
    being below between both but by can did do does doing don down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is
    it its itself just me more most my myself no nor not now of off on once only or other our
    ours ourselves out over own s same she should so some such t than that the their theirs
    them themselves then there these they this those through to too under until up very was
    we were what when where which while who whom why will with you your yours yourself
    yourselves
"""
STOP_WORDS = frozenset(_STOP_WORDS.split())

# ts_rank's default weights for A, B and C: reference and title, summary, provisions.
WEIGHTS = (1.0, 0.4, 0.2)

TOKEN = re.compile(r"[^\W_]+")  # letters and digits: what FTS5's unicode61 keeps
# Between terms like a space (tsquery's operator characters, which websearch_to_tsquery
# skips): "x(-y)" is x AND NOT y, "a1:b1" is a1 AND b1.
SEPARATORS = frozenset("!&|()<:")


def uses_postgres(using: str = "default") -> bool:
    return connections[using].vendor == "postgresql"


# The query language ---------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Term:
    """A word, or a phrase (several words in a row); ``negated``: must not appear."""

    words: tuple[str, ...]
    negated: bool = False


# A query: any of its groups (OR); a group: all of its terms (AND).
Group = tuple[Term, ...]
Query = tuple[Group, ...]

_OR = object()


def _words(chunk: str) -> tuple[str, ...]:
    """The words of a chunk without the stop words at either end (a phrase keeps those in
    its middle, as PostgreSQL counts them in the distance between its words)."""
    words = [word.lower() for word in TOKEN.findall(chunk)]
    while words and words[0] in STOP_WORDS:
        words.pop(0)
    while words and words[-1] in STOP_WORDS:
        words.pop()
    return tuple(words)


def _ends_word(char: str) -> bool:
    return char.isspace() or char == '"' or char in SEPARATORS


def parse(text: str) -> Query:
    """``text`` in web search syntax, read as ``websearch_to_tsquery`` reads it."""
    items: list = []
    negations = 0
    position, end = 0, len(text)
    while position < end:
        char = text[position]
        if char.isspace() or char in SEPARATORS:
            position += 1
            continue
        if char == "-":
            negations += 1
            position += 1
            continue
        if char == '"':
            close = text.find('"', position + 1)
            close = end if close < 0 else close
            chunk, position, quoted = text[position + 1 : close], close + 1, True
        else:
            start = position
            while position < end and not _ends_word(text[position]):
                position += 1
            chunk, quoted = text[start:position], False
        if not quoted and not negations and chunk.lower() == "or":
            items.append(_OR)
            continue
        words = _words(chunk)
        if words:
            items.append(Term(words, negated=negations % 2 == 1))
        negations = 0
    groups, current = [], []
    for item in [*items, _OR]:
        if item is _OR:
            if current:
                groups.append(tuple(current))
            current = []
        else:
            current.append(item)
    return tuple(groups)


def _fts5_string(term: Term) -> str:
    # Every word is letters and digits only, inside double quotes: no FTS5 operator, column
    # filter or prefix mark can come from the query.
    return '"' + " ".join(term.words) + '"'


def fts5_match(query: Query) -> str:
    """The FTS5 MATCH expression of the groups that have a term that must appear ('' when
    none has): ``("a" AND "b c") NOT ("d")`` for ``a "b c" -d``, groups joined by OR."""
    parts = []
    for group in query:
        wanted = [_fts5_string(t) for t in group if not t.negated]
        if not wanted:
            continue
        expression = "(" + " AND ".join(wanted) + ")"
        unwanted = [_fts5_string(t) for t in group if t.negated]
        if unwanted:
            expression += " NOT (" + " OR ".join(unwanted) + ")"
        parts.append(expression)
    return " OR ".join(parts)


def fts5_exclusions(query: Query) -> list[str]:
    """For each group of exclusions only (``-a -b``), the MATCH expression of what it
    excludes (``"a" OR "b"``): such a group holds for every document that does not match."""
    return [
        " OR ".join(_fts5_string(t) for t in group)
        for group in query
        if all(t.negated for t in group)
    ]


# SQLite: the FTS5 tables -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FtsTable:
    name: str
    content: str  # the table whose rows it indexes (by id)
    columns: tuple[str, ...]


DOCUMENT_FTS = FtsTable(
    "agreements_search_fts", AgreementSearchDocument._meta.db_table, ("heading", "summary", "body")
)
PROVISION_FTS = FtsTable("agreements_provision_fts", Provision._meta.db_table, ("title", "text"))
FTS_TABLES = (DOCUMENT_FTS, PROVISION_FTS)


def _fts_statements(table: FtsTable) -> tuple[str, dict[str, str]]:
    """The CREATE VIRTUAL TABLE and the three triggers (by name) that keep it in step with
    its content table (FTS5 "external content": the text is stored once, in the content)."""
    columns = ", ".join(f'"{c}"' for c in table.columns)
    new = ", ".join(f'new."{c}"' for c in table.columns)
    old = ", ".join(f'old."{c}"' for c in table.columns)
    insert = f"INSERT INTO {table.name}(rowid, {columns}) VALUES (new.id, {new});"
    delete = (
        f"INSERT INTO {table.name}({table.name}, rowid, {columns}) "
        f"VALUES ('delete', old.id, {old});"
    )
    create = (
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {table.name} USING fts5({columns}, "
        f"content='{table.content}', content_rowid='id', tokenize='porter unicode61')"
    )
    triggers = {
        f"{table.name}_insert": f"AFTER INSERT ON {table.content} BEGIN {insert} END",
        f"{table.name}_delete": f"AFTER DELETE ON {table.content} BEGIN {delete} END",
        f"{table.name}_update": (
            f"AFTER UPDATE OF {columns} ON {table.content} BEGIN {delete} {insert} END"
        ),
    }
    return create, triggers


def install_sqlite_fts(connection, *, only_repair: bool = False) -> list[str]:
    """SQLite: create the FTS5 tables and their triggers that are missing, and re-index a
    table whose triggers had to be made again (Django rebuilds a SQLite table to alter it,
    which drops its triggers). With ``only_repair``, only tables that exist are looked at
    (after any ``migrate``). Returns what it created."""
    if connection.vendor != "sqlite":
        return []
    created = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")
        existing = {row[0] for row in cursor.fetchall()}
        for table in FTS_TABLES:
            if table.content not in existing or (only_repair and table.name not in existing):
                continue
            create, triggers = _fts_statements(table)
            missing = [name for name in (table.name, *triggers) if name not in existing]
            if not missing:
                continue
            cursor.execute(create)
            for name, body in triggers.items():
                cursor.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")
            cursor.execute(f"INSERT INTO {table.name}({table.name}) VALUES ('rebuild')")
            created.extend(missing)
    return created


def drop_sqlite_fts(connection) -> None:
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for table in FTS_TABLES:
            for name in _fts_statements(table)[1]:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            cursor.execute(f"DROP TABLE IF EXISTS {table.name}")


class FtsMatch(Expression):
    """SQLite: ``rowid`` (an expression: the id of a row of ``table.content``) is that of a
    row matching ``query``."""

    output_field = BooleanField()

    def __init__(self, rowid, table: FtsTable, query: Query):
        super().__init__()
        self.rowid, self.table, self.query = rowid, table, query

    def get_source_expressions(self):
        return [self.rowid]

    def set_source_expressions(self, exprs):
        (self.rowid,) = exprs

    def as_sql(self, compiler, connection):
        column, column_params = compiler.compile(self.rowid)
        name = self.table.name
        select = f"SELECT rowid FROM {name} WHERE {name} MATCH %s"
        parts, params = [], []
        match = fts5_match(self.query)
        if match:
            parts.append(f"{column} IN ({select})")
            params += [*column_params, match]
        for excluded in fts5_exclusions(self.query):
            parts.append(f"{column} NOT IN ({select})")
            params += [*column_params, excluded]
        if not parts:
            return "0 = 1", []
        return "(" + " OR ".join(parts) + ")", params


class FtsRank(Expression):
    """SQLite: the bm25 relevance (higher is better, like ``ts_rank``) of the row ``rowid``
    of ``table.content`` for ``query``; 0 when it matches only through exclusions."""

    output_field = FloatField()

    def __init__(self, rowid, table: FtsTable, query: Query, weights: Sequence[float]):
        super().__init__()
        self.rowid, self.table, self.query, self.weights = rowid, table, query, weights

    def get_source_expressions(self):
        return [self.rowid]

    def set_source_expressions(self, exprs):
        (self.rowid,) = exprs

    def as_sql(self, compiler, connection):
        match = fts5_match(self.query)
        if not match:
            return "0.0", []
        column, column_params = compiler.compile(self.rowid)
        name = self.table.name
        weights = ", ".join(repr(float(w)) for w in self.weights)
        sql = (
            f"COALESCE((SELECT -bm25({name}, {weights}) FROM {name} "
            f"WHERE {name} MATCH %s AND {name}.rowid = {column}), 0.0)"
        )
        return sql, [match, *column_params]


def _hidden_column(compiler, rowid) -> str:
    """The FTS5 table's hidden column (named as the table), qualified by the alias the
    query gave the joined table (``U2`` in a subquery)."""
    alias = compiler.quote_name_unless_alias(rowid.alias)
    return f"{alias}.{DOCUMENT_FTS.name}"


class FtsJoinMatch(Expression):
    """SQLite: the row of the FTS5 table joined as ``rowid`` (a column of
    ``AgreementSearchIndexRow``) matches ``match``: the index is opened once for the whole
    query, and bm25 (``FtsJoinRank``) is read from that same scan."""

    output_field = BooleanField()

    def __init__(self, rowid, match: str):
        super().__init__()
        self.rowid, self.match = rowid, match

    def get_source_expressions(self):
        return [self.rowid]

    def set_source_expressions(self, exprs):
        (self.rowid,) = exprs

    def as_sql(self, compiler, connection):
        return f"{_hidden_column(compiler, self.rowid)} MATCH %s", [self.match]


class FtsJoinRank(Expression):
    """SQLite: the bm25 relevance (higher is better) of the joined FTS5 row of
    ``FtsJoinMatch``."""

    output_field = FloatField()

    def __init__(self, rowid, weights: Sequence[float]):
        super().__init__()
        self.rowid, self.weights = rowid, weights

    def get_source_expressions(self):
        return [self.rowid]

    def set_source_expressions(self, exprs):
        (self.rowid,) = exprs

    def as_sql(self, compiler, connection):
        weights = ", ".join(repr(float(w)) for w in self.weights)
        return f"-bm25({_hidden_column(compiler, self.rowid)}, {weights})", []


# The documents ---------------------------------------------------------------------------


def _runs(agreement_level: int, provision_levels: Iterable[int]) -> list[tuple[int, int]]:
    """The runs of levels (from, to) that see the same provisions: from the agreement's own
    level, a new run starts at each level a provision is classified at above it."""
    starts = sorted({agreement_level, *(lv for lv in provision_levels if lv > agreement_level)})
    ends = [start - 1 for start in starts[1:]] + [HIGHEST_LEVEL]
    return list(zip(starts, ends, strict=True))


def documents_of(agreement, provisions: Sequence[tuple[str, str, str]]):
    """The texts of ``agreement``'s documents: (level_from, level_to, heading, summary, body)
    for each run of levels; ``provisions`` are (classification, title, text) in order."""
    level = Classification.rank(agreement.classification)
    ranked = [(Classification.rank(c), f"{title}\n{text}") for c, title, text in provisions]
    heading = f"{agreement.reference} {agreement.title}"
    return [
        (
            low,
            high,
            heading,
            agreement.summary,
            "\n".join(text for rank, text in ranked if rank <= low),
        )
        for low, high in _runs(level, (rank for rank, _ in ranked))
    ]


def _vector(heading: str, summary: str, body: str):
    return (
        SearchVector(Value(heading), weight="A", config=SEARCH_CONFIG)
        + SearchVector(Value(summary), weight="B", config=SEARCH_CONFIG)
        + SearchVector(Value(body), weight="C", config=SEARCH_CONFIG)
    )


def write_documents(
    agreements: Iterable,
    *,
    provisions: Mapping[int, Iterable] | None = None,
    replace: bool = True,
    document_model=AgreementSearchDocument,
    provision_model=Provision,
    using: str = "default",
    batch_size: int = 500,
) -> int:
    """Rewrite the search documents of ``agreements`` (saved rows, as they are now): three
    queries for the lot (their provisions, the delete, the insert), or a few more in
    batches. ``provisions``: each agreement's provisions (saved records) when the caller
    holds them all, so they are not read again; ``replace=False`` when the agreements have
    no documents yet (just created), so nothing is deleted. The models can be a migration's
    historical ones. Returns the rows written.

    A document lists provisions by category, article and id, compared in Python (not by
    the database's collation), so the text is the same whichever way it was built."""
    agreements = list(agreements)
    if not agreements:
        return 0
    postgres = uses_postgres(using)
    ids = [a.pk for a in agreements]
    if provisions is None:
        provisions = defaultdict(list)
        rows = (
            provision_model._default_manager.using(using)
            .filter(agreement_id__in=ids)
            .order_by()
            .values_list(
                "agreement_id", "category", "article", "id", "classification", "title", "text"
            )
        )
        for agreement_id, *provision in rows:
            provisions[agreement_id].append(tuple(provision))
    else:
        provisions = {
            pk: [(p.category, p.article, p.pk, p.classification, p.title, p.text) for p in rows]
            for pk, rows in provisions.items()
        }
    documents = []
    for agreement in agreements:
        ordered = sorted(provisions.get(agreement.pk, ()), key=lambda row: row[:3])
        texts = [row[3:] for row in ordered]
        for low, high, heading, summary, body in documents_of(agreement, texts):
            document = document_model(agreement_id=agreement.pk, level_from=low, level_to=high)
            if postgres:
                document.vector = _vector(heading, summary, body)
            else:
                document.heading, document.summary, document.body = heading, summary, body
            documents.append(document)
    manager = document_model._default_manager.using(using)
    if replace:
        manager.filter(agreement_id__in=ids).delete()
    manager.bulk_create(documents, batch_size=batch_size)
    return len(documents)


def refresh_documents(agreement: Agreement) -> None:
    """The write path's hook: ``agreement`` (in memory as just written) and its provisions
    changed, so its documents are written again."""
    write_documents([agreement])


def rebuild_all_documents(*, using: str = "default", chunk: int = 2000) -> int:
    """Write every agreement's documents again (after a bulk load that skipped the write
    path, as the benchmarks do). Returns the rows written."""
    fields = ("pk", "reference", "title", "summary", "classification")
    queryset = Agreement.objects.using(using).only(*fields).order_by("pk")
    written, last = 0, 0
    while batch := list(queryset.filter(pk__gt=last)[:chunk]):
        written += write_documents(batch, using=using)
        last = batch[-1].pk
    return written


# Searching ------------------------------------------------------------------------------


def reader_level(user) -> int | None:
    """The rank of the documents ``user`` reads (None: none at all)."""
    level = level_of(user)
    return Classification.rank(level) if level else None


def search_agreements(queryset: QuerySet, text: str, user) -> QuerySet:
    """The agreements of ``queryset`` whose document at ``user``'s level matches ``text``,
    annotated with ``search_rank`` (higher is more relevant)."""
    level = reader_level(user)
    postgres = uses_postgres(queryset.db)
    query = None if postgres else parse(text)
    if level is None or query == ():
        return queryset.annotate(search_rank=Value(0.0, output_field=FloatField())).none()
    queryset = queryset.annotate(
        search_document=FilteredRelation(
            "search_documents",
            condition=Q(
                search_documents__level_from__lte=level, search_documents__level_to__gte=level
            ),
        )
    )
    if postgres:
        tsquery = SearchQuery(text, search_type="websearch", config=SEARCH_CONFIG)
        return queryset.filter(search_document__vector=tsquery).annotate(
            search_rank=SearchRank(F("search_document__vector"), tsquery)
        )
    if not fts5_exclusions(query):
        # Every group has a word that must appear: join the index once (its rows are the
        # matches), and rank from the same scan. (IS NOT NULL makes the joins inner ones.)
        indexed = F("search_document__index_row__document")
        queryset = queryset.filter(
            FtsJoinMatch(indexed, fts5_match(query)),
            search_document__index_row__document__isnull=False,
        )
        return queryset.annotate(search_rank=FtsJoinRank(indexed, WEIGHTS))
    # A group of exclusions only ("-nato") holds for the documents that do NOT match, which
    # a join cannot express: ask the index per document.
    rowid = F("search_document__id")
    # (IS NOT NULL makes the join an inner one, as the vector's condition does on PostgreSQL)
    queryset = queryset.filter(
        FtsMatch(rowid, DOCUMENT_FTS, query), search_document__id__isnull=False
    )
    return queryset.annotate(search_rank=FtsRank(rowid, DOCUMENT_FTS, query, WEIGHTS))


def search_provisions(queryset: QuerySet, text: str) -> QuerySet:
    """The provisions of ``queryset`` (already limited to what the reader may see) whose
    title and text match ``text``."""
    if uses_postgres(queryset.db):
        query = SearchQuery(text, search_type="websearch", config=SEARCH_CONFIG)
        return queryset.filter(search_vector=query)
    query = parse(text)
    if not query:
        return queryset.none()
    return queryset.filter(FtsMatch(F("pk"), PROVISION_FTS, query))
