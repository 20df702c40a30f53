"""Serializers of the engagements API. Fields are listed explicitly; nested records come in
a short form; writes go through ``engagements.services``. The input serializers are derived
from the models (``ModelInputSerializer``): types, lengths, choices and validators live on
the model fields, once."""

from __future__ import annotations

import datetime

from rest_framework import serializers

from agreements.api.serializers import AgreementRefSerializer, ModelInputSerializer
from agreements.models import Provision
from config.serializers import ModelSerializer
from partners.models import PointOfContact

from ..models import Engagement, Participation
from ..services import (
    ENGAGEMENT_FIELDS,
    MAX_LINKS,
    MAX_PARTICIPANTS,
    MAX_WATCHERS,
    PARTICIPATION_FIELDS,
)

# Reading --------------------------------------------------------------------------------


class NationShortSerializer(serializers.Serializer):
    code = serializers.CharField(source="iso3", read_only=True)
    name = serializers.CharField(read_only=True)


class ParticipantSerializer(ModelSerializer):
    code = serializers.CharField(read_only=True)
    name = serializers.SerializerMethodField()
    kind = serializers.ChoiceField(choices=["nation", "organization"], read_only=True)

    class Meta:
        model = Participation
        fields = ["code", "name", "kind", "role", "personnel"]

    def get_name(self, participation) -> str:
        return participation.partner.name


class LinkedProvisionSerializer(ModelSerializer):
    agreement = AgreementRefSerializer(read_only=True)

    class Meta:
        model = Provision
        fields = ["id", "category", "title", "article", "agreement"]


class EngagementContactSerializer(ModelSerializer):
    """A point of contact involved, in short (its own schema component: the agreements API
    has a ContactShort of another shape)."""

    class Meta:
        model = PointOfContact
        fields = ["id", "name", "rank", "role"]


class EngagementListSerializer(ModelSerializer):
    """The list item: expects ``engagements_for(user)`` (participants and the visible links
    prefetched)."""

    location_nation = NationShortSerializer(read_only=True, allow_null=True)
    participants = ParticipantSerializer(many=True, read_only=True)
    agreements = AgreementRefSerializer(source="visible_agreements", many=True, read_only=True)
    url = serializers.HyperlinkedIdentityField(view_name="api:engagement-detail")

    class Meta:
        model = Engagement
        fields = [
            "id",
            "title",
            "kind",
            "status",
            "classification",
            "starts_on",
            "ends_on",
            "location",
            "location_nation",
            "domain",
            "participants",
            "agreements",
            "after_action_due_on",
            "outcome",
            "url",
        ]


class EngagementDetailSerializer(EngagementListSerializer):
    """Every field, the linked provisions and points of contact (links above the reader's
    clearance left out), the people, and the version the reader sees."""

    provisions = LinkedProvisionSerializer(source="visible_provisions", many=True, read_only=True)
    contacts = EngagementContactSerializer(many=True, read_only=True)
    owner = serializers.SerializerMethodField()
    watchers = serializers.SerializerMethodField()
    version = serializers.SerializerMethodField(help_text="The ETag's number.")
    updated_at = serializers.SerializerMethodField()

    class Meta(EngagementListSerializer.Meta):
        fields = [
            *EngagementListSerializer.Meta.fields,
            "latitude",
            "longitude",
            "summary",
            "objectives",
            "source_url",
            "outcome_notes",
            "lessons",
            "provisions",
            "contacts",
            "owner",
            "watchers",
            "version",
            "created_at",
            "updated_at",
        ]

    def get_owner(self, engagement) -> str | None:
        return engagement.owner.get_username() if engagement.owner_id else None

    def get_watchers(self, engagement) -> list[str]:
        return sorted(u.get_username() for u in engagement.watchers.all())

    def get_version(self, engagement) -> int:
        """What the reader sees: a change they may not see does not move it."""
        return engagement.version_for(self.context["request"].user)

    def get_updated_at(self, engagement) -> datetime.datetime:
        value = engagement.updated_at_for(self.context["request"].user)
        return serializers.DateTimeField().to_representation(value)


# Writing --------------------------------------------------------------------------------


class ParticipantInputSerializer(ModelInputSerializer):
    """A participant by its code (ISO alpha-3 or an organization's acronym)."""

    code = serializers.CharField(max_length=20, help_text="ISO alpha-3 or an acronym.")

    class Meta:
        model = Participation
        fields = ("code", *PARTICIPATION_FIELDS)


def _ids(noun: str) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        max_length=MAX_LINKS,
        help_text=f"Ids of the {noun} you may see (at most {MAX_LINKS}); they replace the "
        f"links you may see, and the {noun} above your clearance stay linked.",
    )


class EngagementWriteSerializer(ModelInputSerializer):
    """What create, replace (PUT) and update (PATCH) take. ``participants`` and the links,
    when given, replace the current ones (links above your clearance stay). A PUT resets
    every field it leaves out to its default."""

    class Meta:
        model = Engagement
        fields = (
            *ENGAGEMENT_FIELDS,
            "watchers",
            "participants",
            "agreements",
            "provisions",
            "contacts",
        )

    location_nation = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        default=None,
        max_length=3,
        help_text="The ISO alpha-3 code of the nation where it takes place.",
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
    participants = ParticipantInputSerializer(
        many=True,
        required=False,
        max_length=MAX_PARTICIPANTS,
        help_text=f"At most {MAX_PARTICIPANTS}; each nation or organization once.",
    )
    agreements = _ids("agreements")
    provisions = _ids("provisions")
    contacts = _ids("points of contact")

    def service_kwargs(self) -> dict:
        """The validated data as ``engagement_save`` takes it."""
        data = dict(self.validated_data)
        for name in ("agreements", "provisions", "contacts"):
            if name in data:
                data[f"{name.removesuffix('s')}_ids"] = data.pop(name)
        if "participants" in data:
            data["participants"] = [dict(row) for row in data["participants"]]
        if data.get("location_nation") == "":
            data["location_nation"] = None
        return data
