"""What an agreement commits its parties to, article by article; a provision may be
classified above its agreement (an intelligence annex)."""

from __future__ import annotations

from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models
from django.db.models import Q, Value

from accounts.choices import Classification
from accounts.clearance import levels_for
from config.constraints import PythonChecks

from ..choices import ProvisionCategory
from .agreements import Agreement
from .common import SEARCH_CONFIG, SearchIndex, _update_search_vector


class ProvisionQuerySet(models.QuerySet):
    def visible_to(self, user) -> ProvisionQuerySet:
        """A provision is visible when both it and its agreement are within clearance."""
        levels = levels_for(user)
        if levels is None:
            return self
        return self.of_visible_agreements(user).filter(agreement__classification__in=levels)

    def of_visible_agreements(self, user) -> ProvisionQuerySet:
        """``visible_to`` for provisions of agreements already read through
        ``Agreement.objects.visible_to(user)`` (filtered by their ids): the provision's own
        level only, since checking their agreements again would join every agreement."""
        levels = levels_for(user)
        return self if levels is None else self.filter(classification__in=levels)


# What a provision's search vector is made of (``Provision.save``; the write path's UPDATE of
# the provisions it inserted together).
PROVISION_VECTOR = SearchVector("title", "text", weight="C", config=SEARCH_CONFIG)


def provision_vector(provision) -> SearchVector:
    """``PROVISION_VECTOR`` of a provision's title and text as they are in memory: an
    expression an INSERT can hold."""
    return SearchVector(
        Value(provision.title), Value(provision.text), weight="C", config=SEARCH_CONFIG
    )


class Provision(PythonChecks, models.Model):
    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="provisions", verbose_name="agreement"
    )
    category = models.CharField("category", max_length=32, choices=ProvisionCategory.choices)
    title = models.CharField("title", max_length=300)
    article = models.CharField("article", max_length=50, blank=True)
    text = models.TextField("text", blank=True)
    classification = models.CharField(
        "classification",
        max_length=16,
        choices=Classification.choices,
        default=Classification.UNCLASSIFIED,
    )
    search_vector = SearchVectorField("search vector", null=True, editable=False)

    objects = ProvisionQuerySet.as_manager()

    class Meta:
        ordering = ["category", "article", "id"]
        indexes = [SearchIndex(fields=["search_vector"], name="provision_search_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(category__in=ProvisionCategory.values), name="provision_category_valid"
            ),
            models.CheckConstraint(
                condition=Q(classification__in=Classification.values),
                name="provision_classification_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.article} {self.title}".strip()

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        _update_search_vector(self, PROVISION_VECTOR)

    def clean(self):
        try:
            agreement = self.agreement
        except ObjectDoesNotExist:
            agreement = None
        if agreement is not None and Classification.is_level(self.classification):
            agreement_level = agreement.classification
            if Classification.rank(self.classification) < Classification.rank(agreement_level):
                raise ValidationError(
                    {
                        "classification": (
                            "A provision cannot be classified below its agreement "
                            f"({Classification(agreement_level).label})."
                        )
                    }
                )
