"""What the agreement search reads: one document per agreement and clearance level.

A reader searches the whole of what they may see of an agreement as one text: its
reference, title and summary and the provisions within their clearance. Those differ by
level only where a provision is classified above its agreement, so an agreement has one row
for each run of levels that see the same text (``level_from`` to ``level_to``, ranks of
``Classification``; an unclassified agreement without annexes has one row for all four
levels, one with a secret annex two). Levels below the agreement's own classification have
no row: they may not see the agreement at all.

The rows are written by ``agreements.search.refresh_documents`` only, which the write path
calls when it closes a write (``agreements.services.common._finish``).

PostgreSQL keeps the weighted ``vector`` (GIN index) and leaves the text columns empty.
SQLite keeps the text, which is the content of the FTS5 table ``agreements_search_fts``
(created by migration 0007 and kept in step by triggers on this table)."""

from __future__ import annotations

from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, Q

from accounts.choices import Classification
from config.constraints import PythonChecks

from .agreements import Agreement
from .common import SearchIndex

HIGHEST_LEVEL = len(Classification.values) - 1


class AgreementSearchDocument(PythonChecks, models.Model):
    agreement = models.ForeignKey(
        Agreement,
        on_delete=models.CASCADE,
        related_name="search_documents",
        verbose_name="agreement",
    )
    level_from = models.PositiveSmallIntegerField(
        "from level",
        validators=[MaxValueValidator(HIGHEST_LEVEL)],
        help_text="Lowest clearance (rank of Classification) that reads this text.",
    )
    level_to = models.PositiveSmallIntegerField(
        "to level",
        validators=[MaxValueValidator(HIGHEST_LEVEL)],
        help_text="Highest clearance (rank of Classification) that reads this text.",
    )
    heading = models.TextField("reference and title", blank=True)
    summary = models.TextField("summary", blank=True)
    body = models.TextField("visible provisions", blank=True)
    vector = SearchVectorField("search vector", null=True)

    class Meta:
        verbose_name = "agreement search document"
        ordering = ["agreement", "level_from"]
        indexes = [SearchIndex(fields=["vector"], name="agreement_document_search_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "level_from"], name="agreement_document_unique_level"
            ),
            models.CheckConstraint(
                condition=Q(level_from__lte=F("level_to"), level_to__lte=HIGHEST_LEVEL),
                name="agreement_document_levels_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agreement_id} levels {self.level_from}-{self.level_to}"


class AgreementSearchIndexRow(models.Model):
    """SQLite only: a row of the FTS5 table over the documents, so that a search can join
    the index once (``document__index_row``) instead of asking it once per agreement: bm25
    reads the statistics of every matched term each time the index is opened, so one
    correlated lookup per row made a common word quadratic. The table and its triggers are
    made by ``agreements.search.install_sqlite_fts``; nothing writes through this model."""

    document = models.OneToOneField(
        AgreementSearchDocument,
        on_delete=models.DO_NOTHING,
        primary_key=True,
        db_column="rowid",
        related_name="index_row",
        verbose_name="document",
    )

    class Meta:
        managed = False
        db_table = "agreements_search_fts"
        default_permissions = ()
        verbose_name = "agreement search index row"

    def __str__(self) -> str:
        return f"index row {self.pk}"
