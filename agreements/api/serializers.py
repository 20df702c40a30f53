"""Serializers of the agreements API. Fields are listed explicitly; nested records come in a
short form; writes go through ``agreements.services``. The input serializers are derived
from the models (``ModelInputSerializer``): types, lengths, choices and validators live on
the model fields, once."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import prefetch_related_objects
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api import MAX_ID
from config.serializers import ModelSerializer
from history.models import ChangeRecord

from .. import party_acts
from ..choices import PartyStatus, ProvisionCategory
from ..limits import MAX_ACTS, MAX_CONTACTS, MAX_PARTIES, MAX_PROVISIONS, MAX_WATCHERS
from ..models import (
    Agreement,
    AgreementEvent,
    AgreementParty,
    PartyAct,
    Provision,
    Reminder,
    Review,
)
from ..selectors import (
    agreement_prefetches,
    parties_by_agreement,
    visible_categories_by_agreement,
)
from ..services import AGREEMENT_FIELDS, PARTY_FIELDS, PROVISION_FIELDS, resolve_links
from .detail import DATE_COLUMNS, HEAD_COLUMNS, DetailUrls, iso


def _user_label(user) -> str | None:
    return user.get_username() if user is not None else None


# Reading --------------------------------------------------------------------------------


class PartyShortSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True)
    name = serializers.SerializerMethodField()
    kind = serializers.ChoiceField(choices=["nation", "organization"], read_only=True)

    def get_name(self, party) -> str:
        return party.partner.name


class PartyActSerializer(ModelSerializer):
    class Meta:
        model = PartyAct
        fields = ["kind", "date", "effective_on", "note", "source_url"]


class PartySerializer(PartyShortSerializer):
    """A party with its summary dates (read from its acts), its acts, and its status today
    by its own acts (whether the agreement itself is in force is the agreement's status)."""

    signed_on = serializers.DateField(read_only=True, allow_null=True)
    ratified_on = serializers.DateField(read_only=True, allow_null=True)
    entered_into_force_on = serializers.DateField(read_only=True, allow_null=True)
    withdrawn_on = serializers.DateField(read_only=True, allow_null=True)
    status = serializers.SerializerMethodField()
    acts = PartyActSerializer(many=True, read_only=True)

    @extend_schema_field(serializers.ChoiceField(choices=PartyStatus.choices, allow_null=True))
    def get_status(self, party) -> str | None:
        return party_acts.status_on(party.periods.all(), timezone.localdate())


class AgreementRefSerializer(ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:agreement-detail")

    class Meta:
        model = Agreement
        fields = ["id", "reference", "title", "url"]


class ContactShortSerializer(serializers.Serializer):
    """A responsible desk officer, in short (``points-of-contact/{id}/`` has the rest)."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    rank = serializers.CharField(read_only=True)
    role = serializers.CharField(read_only=True)
    represents = serializers.CharField(source="represents.iso3", read_only=True)
    url = serializers.HyperlinkedIdentityField(view_name="api:point-of-contact-detail")


class EngagementRefSerializer(serializers.Serializer):
    """An engagement in short: under an agreement (``engagements``), or what a reminder is
    about."""

    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    kind = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True)
    starts_on = serializers.DateField(read_only=True)
    ends_on = serializers.DateField(read_only=True, allow_null=True)
    url = serializers.HyperlinkedIdentityField(view_name="api:engagement-detail")


class AgreementListRows(serializers.ListSerializer):
    """A page of list items, built as dicts: what ``AgreementListSerializer`` gives field by
    field (the same keys in the same order, the same values: ``tests/test_api_list_rows.py``)
    from the page's agreements (only ``columns``) and, for the whole page, their parties and
    visible provision categories in one flat query each (no party, nation or provision
    objects), without a serializer field call per cell or a ``reverse()`` per row. With a
    format suffix in the URL, DRF's own path (the relations prefetched)."""

    # The agreement's columns a list item reads.
    columns = (*HEAD_COLUMNS, *DATE_COLUMNS)

    def to_representation(self, data):
        request = self.context.get("request")
        rows = list(data.all() if hasattr(data, "all") else data)
        if request is None or self.context.get("format"):
            if request is not None and rows and not hasattr(rows[0], "visible_provisions"):
                prefetch_related_objects(rows, *agreement_prefetches(request.user))
            return super().to_representation(rows)
        # The list view's page is rows of ``columns`` (``values``: no model instances).
        rows = [
            a if isinstance(a, dict) else {name: getattr(a, name) for name in self.columns}
            for a in rows
        ]
        ids = [a["id"] for a in rows]
        parties = parties_by_agreement(ids)
        categories = visible_categories_by_agreement(ids, request.user)
        url = DetailUrls(request)
        return [
            {
                "id": a["id"],
                "reference": a["reference"],
                "title": a["title"],
                "type": a["type"],
                "status": a["status"],
                "classification": a["classification"],
                **{name: iso(a[name]) for name in DATE_COLUMNS},
                "parties": [
                    {"code": code, "name": name, "kind": kind}
                    for code, name, kind in parties.get(a["id"], ())
                ],
                "provision_categories": sorted(categories.get(a["id"], ())),
                "url": url("api:agreement-detail", a["id"]),
            }
            for a in rows
        ]


class AgreementListSerializer(ModelSerializer):
    """The list item: expects ``agreements_for(user)`` (parties and visible provisions
    prefetched). A page of them is built by ``AgreementListRows``."""

    parties = PartyShortSerializer(many=True, read_only=True)
    provision_categories = serializers.SerializerMethodField()
    url = serializers.HyperlinkedIdentityField(view_name="api:agreement-detail")

    class Meta:
        model = Agreement
        fields = [
            "id",
            "reference",
            "title",
            "type",
            "status",
            "classification",
            "signed_on",
            "entered_into_force_on",
            "expires_on",
            "notice_deadline",
            "next_review_on",
            "parties",
            "provision_categories",
            "url",
        ]
        list_serializer_class = AgreementListRows

    @extend_schema_field(
        serializers.ListField(child=serializers.ChoiceField(choices=ProvisionCategory.choices))
    )
    def get_provision_categories(self, agreement) -> list[str]:
        return sorted({p.category for p in agreement.visible_provisions})


class ProvisionSerializer(ModelSerializer):
    class Meta:
        model = Provision
        fields = ["id", "category", "title", "article", "text", "classification"]


class ProvisionListSerializer(ProvisionSerializer):
    """A provision with its agreement and its activity (``engagements.activity``: the
    completed engagements under it that you may see)."""

    agreement = AgreementRefSerializer(read_only=True)
    last_activity_on = serializers.DateField(
        read_only=True,
        allow_null=True,
        help_text="The end of the latest completed engagement under it that you may see.",
    )
    dormant = serializers.BooleanField(
        read_only=True,
        help_text="No completed engagement under it (that you may see) ended in the last "
        "ENGAGEMENT_DORMANT_YEARS years (default 3).",
    )

    class Meta(ProvisionSerializer.Meta):
        fields = [*ProvisionSerializer.Meta.fields, "agreement", "last_activity_on", "dormant"]


class ReviewSerializer(ModelSerializer):
    reviewer = serializers.SerializerMethodField()

    class Meta:
        model = Review
        fields = ["id", "reviewed_on", "reviewer", "outcome", "notes"]

    def get_reviewer(self, review) -> str | None:
        return _user_label(review.reviewer)


class EventSerializer(ModelSerializer):
    class Meta:
        model = AgreementEvent
        fields = ["id", "kind", "date", "note"]


class PostingRefSerializer(serializers.Serializer):
    """The posting a reminder is about, in short."""

    id = serializers.IntegerField(read_only=True)
    contact = serializers.HyperlinkedRelatedField(
        view_name="api:point-of-contact-detail", read_only=True
    )
    code = serializers.CharField(read_only=True, help_text="ISO alpha-3 or an acronym.")
    active_from = serializers.DateField(read_only=True)
    active_to = serializers.DateField(read_only=True, allow_null=True)


class ReminderSerializer(ModelSerializer):
    """A reminder, about an agreement, a posting (kind ``posting_end``) or an engagement
    (kinds ``engagement_start`` and ``after_action``, whose ``days_before`` is negative when
    it went out after the report's due date): the other two are null."""

    agreement = AgreementRefSerializer(read_only=True, allow_null=True)
    posting = PostingRefSerializer(read_only=True, allow_null=True)
    engagement = EngagementRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Reminder
        fields = [
            "id",
            "agreement",
            "posting",
            "engagement",
            "kind",
            "due_on",
            "days_before",
            "recipient",
            "status",
            "attempts",
            "sent_at",
        ]


class AgreementReminderSerializer(ReminderSerializer):
    class Meta(ReminderSerializer.Meta):
        fields = [
            f
            for f in ReminderSerializer.Meta.fields
            if f not in ("agreement", "posting", "engagement")
        ]


class ChangeRecordSerializer(ModelSerializer):
    actor = serializers.CharField(source="actor_label", read_only=True)
    model = serializers.CharField(read_only=True, help_text="The kind of record changed.")
    object_id = serializers.IntegerField(source="changed_object_id", read_only=True)

    class Meta:
        model = ChangeRecord
        fields = ["id", "at", "actor", "action", "model", "object_id", "object_repr", "changes"]


class AgreementDetailSerializer(AgreementListSerializer):
    """Every field, parties with their dates, visible provisions, reviews, events and the
    reminders the user may see (``visible_reminders``)."""

    parties = PartySerializer(many=True, read_only=True)
    provisions = ProvisionSerializer(source="visible_provisions", many=True, read_only=True)
    reviews = ReviewSerializer(many=True, read_only=True)
    events = EventSerializer(many=True, read_only=True)
    reminders = AgreementReminderSerializer(source="visible_reminders", many=True, read_only=True)
    engagements = EngagementRefSerializer(
        source="visible_engagements",
        many=True,
        read_only=True,
        help_text="The engagements under it that you may see, the latest first (empty "
        "without the permission to read engagements).",
    )
    supersedes = serializers.SerializerMethodField()
    parent = serializers.SerializerMethodField()
    owner = serializers.SerializerMethodField()
    watchers = serializers.SerializerMethodField()
    contacts = ContactShortSerializer(many=True, read_only=True)
    lateral = serializers.CharField(read_only=True)
    version = serializers.SerializerMethodField(help_text="The ETag's number.")
    updated_at = serializers.SerializerMethodField()

    class Meta(AgreementListSerializer.Meta):
        list_serializer_class = serializers.ListSerializer
        fields = [
            *AgreementListSerializer.Meta.fields,
            "short_title",
            "summary",
            "source_url",
            "terminated_on",
            "auto_renews",
            "renewal_period_months",
            "notice_period_days",
            "notice_given_on",
            "review_interval_months",
            "supersedes",
            "parent",
            "owner",
            "watchers",
            "contacts",
            "office_email",
            "reminder_offsets",
            "lateral",
            "version",
            "created_at",
            "updated_at",
            "provisions",
            "reviews",
            "events",
            "reminders",
            "engagements",
        ]

    def _linked(self, target):
        """A linked agreement, only when the user may see it."""
        user = self.context["request"].user
        if target is None or not user.is_cleared_for(target.classification):
            return None
        return AgreementRefSerializer(target, context=self.context).data

    @extend_schema_field(AgreementRefSerializer(allow_null=True))
    def get_supersedes(self, agreement):
        return self._linked(agreement.supersedes)

    @extend_schema_field(AgreementRefSerializer(allow_null=True))
    def get_parent(self, agreement):
        return self._linked(agreement.parent)

    def get_version(self, agreement) -> int:
        """What the reader sees: a change they may not see does not move it."""
        return agreement.version_for(self.context["request"].user)

    def get_updated_at(self, agreement) -> datetime.datetime:
        value = agreement.updated_at_for(self.context["request"].user)
        return serializers.DateTimeField().to_representation(value)

    def get_owner(self, agreement) -> str | None:
        return _user_label(agreement.owner)

    def get_watchers(self, agreement) -> list[str]:
        return sorted(u.get_username() for u in agreement.watchers.all())


# Writing --------------------------------------------------------------------------------


class ModelInputSerializer(ModelSerializer):
    """An input serializer derived from its model's fields: each field's type, length,
    choices, nullability and validators (date bounds, period limits) come from the model
    field. A field that may be left out defaults to the model field's default, so a full
    write (create, PUT) resets what it leaves out, while a partial one (PATCH) skips defaults
    as DRF does. ``Meta.keep_when_omitted`` names the fields that stay absent instead, for
    the service to fill in. Nothing is saved through these: they validate for a service."""

    def build_standard_field(self, field_name, model_field):
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        keep_omitted = getattr(self.Meta, "keep_when_omitted", ())
        if kwargs.get("required") is False and field_name not in keep_omitted:
            del kwargs["required"]
            # A callable default (today's date) is called at each write, not once when the
            # fields are built (they are built once per class: config.serializers).
            if model_field.has_default() and callable(model_field.default):
                kwargs["default"] = model_field.default
            else:
                kwargs["default"] = model_field.get_default()
        return field_class, kwargs


class ReviewInputSerializer(ModelInputSerializer):
    """A review to record (the reviewer is the writer)."""

    class Meta:
        model = Review
        fields = ("reviewed_on", "outcome", "notes")


class PartyActInputSerializer(ModelInputSerializer):
    """One act of a party, as the depositary records it."""

    class Meta:
        model = PartyAct
        fields = ("kind", "date", "effective_on", "note", "source_url")


class PartyInputSerializer(ModelInputSerializer):
    """A party by its code, with its acts. The dates are shorthand for acts: given without
    ``acts`` they change the acts they stand for; given with ``acts`` they must agree with
    them; left out, the party's acts stay as they are."""

    code = serializers.CharField(max_length=20, help_text="ISO alpha-3 or an acronym.")
    acts = PartyActInputSerializer(
        many=True,
        required=False,
        max_length=MAX_ACTS,
        help_text=f"All of this party's acts (at most {MAX_ACTS}); left out, they stay.",
    )

    class Meta:
        model = AgreementParty
        fields = ("code", *PARTY_FIELDS, "acts")
        keep_when_omitted = PARTY_FIELDS


class ProvisionInputSerializer(ModelInputSerializer):
    """A provision; with an ``id``, that provision of the agreement changes."""

    id = serializers.IntegerField(
        required=False, min_value=1, help_text="An existing provision to change."
    )

    class Meta:
        model = Provision
        fields = ("id", *PROVISION_FIELDS)
        keep_when_omitted = ("classification",)  # the service gives it the agreement's
        extra_kwargs = {
            "classification": {"help_text": "Defaults to the agreement's classification."}
        }


class AgreementWriteSerializer(ModelInputSerializer):
    """What create, replace (PUT) and update (PATCH) take. ``parties`` and ``provisions``,
    when given, replace the current ones (provisions you may not see are left alone).
    A PUT resets every field it leaves out to its default (a blank or missing
    ``reference`` keeps the current one)."""

    class Meta:
        model = Agreement
        # Every field a writer may set, derived from the model's editable fields (a new one
        # is writable here without being listed), then the people and the nested rows.
        fields = (*AGREEMENT_FIELDS, "watchers", "contacts", "parties", "provisions")
        extra_kwargs = {
            # Unique, but checked by the service: a PUT that repeats it is no clash.
            "reference": {"validators": [], "help_text": "Blank: generated."},
        }

    # Where the API's shape differs from the model's: links by id, people by username.
    supersedes = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, default=None, help_text="An agreement id."
    )
    parent = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, default=None, help_text="An agreement id."
    )
    owner = serializers.CharField(
        required=False, allow_null=True, default=None, max_length=150, help_text="A username."
    )
    watchers = serializers.ListField(
        child=serializers.CharField(max_length=150),
        required=False,
        max_length=MAX_WATCHERS,
        help_text=f"Usernames, at most {MAX_WATCHERS}.",
    )
    contacts = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=MAX_CONTACTS,
        help_text=f"Ids of the responsible points of contact, at most {MAX_CONTACTS}.",
    )
    parties = PartyInputSerializer(
        many=True, required=False, max_length=MAX_PARTIES, help_text=f"At most {MAX_PARTIES}."
    )
    provisions = ProvisionInputSerializer(
        many=True,
        required=False,
        max_length=MAX_PROVISIONS,
        help_text=f"At most {MAX_PROVISIONS}.",
    )

    def validate(self, data):
        """Resolve links to records: agreements the user may see, users by name."""
        try:
            return resolve_links(data, self.context["request"].user)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
