"""The change history of every aggregate: who changed what, when, field by field.

A record names the object it changed and, where there is one, the object that one belongs to
(a party or a provision belongs to its agreement, a membership to its organization), so any
aggregate is recorded the same way. It carries the most sensitive classification among the
values it reveals (before and after) and the records it names, so the clearance rule of
history is one filter: ``ChangeRecord.objects.visible_to(user)``. Records are written by the
services that make the changes (``history.recorder.Recorder``), never by signals.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.functional import cached_property

from accounts.choices import Classification
from accounts.clearance import ClassifiedQuerySet


class ChangeAction(models.TextChoices):
    CREATE = "create", "Created"
    UPDATE = "update", "Changed"
    DELETE = "delete", "Deleted"


class ChangeRecordQuerySet(ClassifiedQuerySet):
    def for_display(self) -> ChangeRecordQuerySet:
        return self.select_related("actor", "changed_object_type", "related_object_type")

    def about(self, obj) -> ChangeRecordQuerySet:
        """The records of ``obj`` itself and of the records that belong to it."""
        content_type = ContentType.objects.get_for_model(obj)
        return self.filter(
            Q(changed_object_type=content_type, changed_object_id=obj.pk)
            | Q(related_object_type=content_type, related_object_id=obj.pk)
        )


class ChangeRecord(models.Model):
    # No database constraint to the objects: history outlives what it describes.
    changed_object_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="+", verbose_name="record type"
    )
    changed_object_id = models.PositiveBigIntegerField("record id")
    changed_object = GenericForeignKey("changed_object_type", "changed_object_id")
    object_repr = models.CharField("record", max_length=300)
    related_object_type = models.ForeignKey(
        ContentType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="belongs to (type)",
    )
    related_object_id = models.PositiveBigIntegerField("belongs to (id)", null=True, blank=True)
    related_object = GenericForeignKey("related_object_type", "related_object_id")
    related_repr = models.CharField("belongs to", max_length=300, blank=True)
    action = models.CharField("action", max_length=8, choices=ChangeAction.choices)
    changes = models.JSONField(
        "changes", default=dict, blank=True, help_text="Field name: [before, after]."
    )
    classification = models.CharField(
        "classification",
        max_length=16,
        choices=Classification.choices,
        default=Classification.UNCLASSIFIED,
        help_text="The most sensitive classification this change reveals.",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="changed by",
    )
    source = models.CharField("source", max_length=100, blank=True)
    at = models.DateTimeField("at", db_index=True)

    objects = ChangeRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "change"
        indexes = [
            models.Index(
                fields=["changed_object_type", "changed_object_id"], name="change_changed_idx"
            ),
            models.Index(
                fields=["related_object_type", "related_object_id"], name="change_related_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=ChangeAction.values), name="change_action_valid"
            ),
            models.CheckConstraint(
                condition=Q(classification__in=Classification.values),
                name="change_classification_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.display.summary

    @cached_property
    def display(self):
        """How the change reads to people (``history.display``): a summary sentence and
        each field by its label, with choices' labels and dates as "20 Dec 2026"."""
        from .display import describe

        return describe(self)

    @property
    def record_type(self) -> str:
        model = self.changed_object_type.model_class()
        return model._meta.verbose_name if model else self.changed_object_type.model

    @property
    def model(self) -> str:
        return self.changed_object_type.model

    @property
    def root_model(self) -> str:
        """The model of the aggregate this change belongs to (the related object's, or the
        changed object's own)."""
        return (self.related_object_type or self.changed_object_type).model

    @property
    def root_id(self) -> int:
        return self.related_object_id if self.related_object_type_id else self.changed_object_id

    @property
    def actor_label(self) -> str:
        if self.actor_id:
            return self.actor.get_username()
        return self.source or "system"
