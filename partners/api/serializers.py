from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.serializers import ModelSerializer

from ..models import Membership, Nation, Organization, PointOfContact, Posting, postings_in_order
from ..services import MAX_POSTINGS, POINT_OF_CONTACT_FIELDS


class NationSerializer(ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:nation-detail", lookup_field="iso3")
    successors = serializers.SlugRelatedField(
        slug_field="iso3",
        many=True,
        read_only=True,
        help_text="ISO alpha-3 codes of the states that succeeded it.",
    )
    predecessors = serializers.SlugRelatedField(
        slug_field="iso3",
        many=True,
        read_only=True,
        help_text="ISO alpha-3 codes of the states it succeeded.",
    )

    class Meta:
        model = Nation
        fields = [
            "iso3",
            "iso2",
            "name",
            "official_name",
            "region",
            "subregion",
            "is_historical",
            "valid_from",
            "valid_to",
            "successors",
            "predecessors",
            "url",
        ]


class NationMembershipSerializer(ModelSerializer):
    organization = serializers.CharField(source="organization.acronym", read_only=True)

    class Meta:
        model = Membership
        fields = ["organization", "joined_on", "left_on"]


class NationDetailSerializer(NationSerializer):
    memberships = NationMembershipSerializer(many=True, read_only=True)

    class Meta(NationSerializer.Meta):
        fields = [*NationSerializer.Meta.fields, "memberships"]


class OrganizationSerializer(ModelSerializer):
    url = serializers.HyperlinkedIdentityField(
        view_name="api:organization-detail", lookup_field="acronym"
    )

    class Meta:
        model = Organization
        fields = ["acronym", "name", "kind", "url"]


class MemberSerializer(ModelSerializer):
    iso3 = serializers.CharField(source="nation.iso3", read_only=True)
    name = serializers.CharField(source="nation.name", read_only=True)

    class Meta:
        model = Membership
        fields = ["iso3", "name", "joined_on", "left_on"]


class OrganizationDetailSerializer(OrganizationSerializer):
    members = MemberSerializer(source="memberships", many=True, read_only=True)

    class Meta(OrganizationSerializer.Meta):
        fields = [*OrganizationSerializer.Meta.fields, "members"]


class PostingSerializer(ModelSerializer):
    """A posting: the place by its code (ISO alpha-3 or acronym), kind and name, and
    whether it is active today."""

    code = serializers.CharField(read_only=True, help_text="ISO alpha-3 or an acronym.")
    kind = serializers.ChoiceField(choices=["nation", "organization"], read_only=True)
    name = serializers.SerializerMethodField()
    current = serializers.SerializerMethodField(help_text="Active today.")

    class Meta:
        model = Posting
        fields = ["id", "code", "kind", "name", "title", "active_from", "active_to", "current"]

    def get_name(self, posting) -> str:
        return posting.partner.name

    def get_current(self, posting) -> bool:
        return posting.active_on(timezone.localdate())


def ordered_postings(contact) -> list[dict]:
    """The contact's (prefetched) postings, current first (``postings_in_order``)."""
    rows = postings_in_order(contact.postings.all(), timezone.localdate())
    return PostingSerializer(rows, many=True).data


class PointOfContactSerializer(ModelSerializer):
    """A contact; ``posted_to`` is the nation of its latest posting, ``active_from`` and
    ``active_to`` its whole service span, ``postings`` every posting, the current first."""

    represents = serializers.CharField(source="represents.iso3", read_only=True)
    posted_to = serializers.CharField(
        source="posted_to.iso3",
        read_only=True,
        allow_null=True,
        help_text="The nation of the latest posting (empty when it is to an organization).",
    )
    postings = serializers.SerializerMethodField()

    class Meta:
        model = PointOfContact
        fields = [
            "id",
            "name",
            "rank",
            "role",
            "represents",
            "posted_to",
            "email",
            "phone",
            "active_from",
            "active_to",
            "postings",
        ]

    @extend_schema_field(PostingSerializer(many=True))
    def get_postings(self, contact) -> list[dict]:
        return ordered_postings(contact)


class ContactAgreementSerializer(serializers.Serializer):
    """An agreement the contact is responsible for, in short (only those the reader may
    see: ``visible_agreements``)."""

    id = serializers.IntegerField(read_only=True)
    reference = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)
    url = serializers.SerializerMethodField()

    def get_url(self, agreement) -> str:
        path = reverse("api:agreement-detail", args=[agreement.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class PointOfContactDetailSerializer(PointOfContactSerializer):
    agreements = ContactAgreementSerializer(source="visible_agreements", many=True, read_only=True)

    class Meta(PointOfContactSerializer.Meta):
        fields = [*PointOfContactSerializer.Meta.fields, "agreements"]


# Writing ------------------------------------------------------------------------------------


class PostingInputSerializer(serializers.Serializer):
    """A posting; with an ``id``, that posting of the contact changes (without one, a
    posting to the same place from the same day does)."""

    id = serializers.IntegerField(required=False, min_value=1, help_text="A posting to change.")
    code = serializers.CharField(max_length=20, help_text="ISO alpha-3 or an acronym.")
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    active_from = serializers.DateField(help_text="The first day.")
    active_to = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="The last day; empty: open."
    )


class PointOfContactWriteSerializer(ModelSerializer):
    """What create, replace (PUT) and update (PATCH) take. ``postings``, when given,
    replace the contact's postings; left out, they stay."""

    represents = serializers.CharField(max_length=3, help_text="ISO alpha-3.")
    postings = PostingInputSerializer(
        many=True, required=False, max_length=MAX_POSTINGS, help_text=f"At most {MAX_POSTINGS}."
    )

    class Meta:
        model = PointOfContact
        fields = (*POINT_OF_CONTACT_FIELDS, "postings")
