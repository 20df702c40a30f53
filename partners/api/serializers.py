from rest_framework import serializers

from ..models import Membership, Nation, Organization, PointOfContact


class NationSerializer(serializers.ModelSerializer):
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


class NationMembershipSerializer(serializers.ModelSerializer):
    organization = serializers.CharField(source="organization.acronym", read_only=True)

    class Meta:
        model = Membership
        fields = ["organization", "joined_on", "left_on"]


class NationDetailSerializer(NationSerializer):
    memberships = NationMembershipSerializer(many=True, read_only=True)

    class Meta(NationSerializer.Meta):
        fields = [*NationSerializer.Meta.fields, "memberships"]


class OrganizationSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(
        view_name="api:organization-detail", lookup_field="acronym"
    )

    class Meta:
        model = Organization
        fields = ["acronym", "name", "kind", "url"]


class MemberSerializer(serializers.ModelSerializer):
    iso3 = serializers.CharField(source="nation.iso3", read_only=True)
    name = serializers.CharField(source="nation.name", read_only=True)

    class Meta:
        model = Membership
        fields = ["iso3", "name", "joined_on", "left_on"]


class OrganizationDetailSerializer(OrganizationSerializer):
    members = MemberSerializer(source="memberships", many=True, read_only=True)

    class Meta(OrganizationSerializer.Meta):
        fields = [*OrganizationSerializer.Meta.fields, "members"]


class PointOfContactSerializer(serializers.ModelSerializer):
    represents = serializers.CharField(source="represents.iso3", read_only=True)
    posted_to = serializers.CharField(source="posted_to.iso3", read_only=True, allow_null=True)

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
        ]
