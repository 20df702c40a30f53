import datetime

import factory
from django.contrib.auth.models import Group, Permission

from accounts.choices import Classification
from accounts.models import User
from agreements.choices import AgreementStatus, AgreementType, ProvisionCategory
from agreements.models import Agreement, AgreementParty, Provision
from agreements.search import refresh_documents
from agreements.services.acts import rebuild_periods
from partners.choices import OrganizationKind
from partners.models import Membership, Nation, Organization


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    clearance = Classification.UNCLASSIFIED
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @factory.post_generation
    def group(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))
        if create:
            self.save()

    @factory.post_generation
    def permissions(self, create, extracted, **kwargs):
        """``permissions=["agreements.view_agreement"]``: given to the user directly (where
        the groups of the data migration are not there, as after a transactional test)."""
        for label in extracted or ():
            app_label, codename = label.split(".")
            self.user_permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def _unused_iso3(n: int) -> str:
    """A user-assigned code (XAA to XZZ) that no nation has yet, from the ``n``-th on. The
    sequence wraps after 676 codes, and ``django_get_or_create`` would then hand a plain
    ``NationFactory()`` a nation the test made with its own X code (``XSU``): which codes
    collided depended on how many nations the tests before had made."""
    for step in range(676):
        m = n + step
        code = "X" + chr(65 + m // 26 % 26) + chr(65 + m % 26)
        if not Nation.objects.filter(iso3=code).exists():
            return code
    raise RuntimeError("Every code from XAA to XZZ is taken.")


class NationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Nation
        django_get_or_create = ("iso3",)

    iso3 = factory.Sequence(_unused_iso3)
    name = factory.LazyAttribute(lambda o: f"Nation {o.iso3}")
    region = "Europe"
    subregion = "Western Europe"


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ("acronym",)

    acronym = factory.Sequence(lambda n: f"ORG{n}")
    name = factory.LazyAttribute(lambda o: f"Organization {o.acronym}")
    kind = OrganizationKind.ALLIANCE


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    nation = factory.SubFactory(NationFactory)
    organization = factory.SubFactory(OrganizationFactory)
    joined_on = datetime.date(1990, 1, 1)


class AgreementFactory(factory.django.DjangoModelFactory):
    """An agreement in force with consistent dates. Parties are added with ``parties=[...]``
    (nations or organizations); without them it gets two new nations. Like the write path,
    it writes the agreement's search documents (so does ``ProvisionFactory``); a test that
    changes rows directly must go through the services for search to follow."""

    class Meta:
        model = Agreement
        skip_postgeneration_save = True

    reference = factory.Sequence(lambda n: f"TEST-{n:05d}")
    title = factory.Sequence(lambda n: f"Test cooperation agreement {n}")
    type = AgreementType.DCA
    status = AgreementStatus.IN_FORCE
    classification = Classification.UNCLASSIFIED
    signed_on = datetime.date(2015, 3, 1)
    entered_into_force_on = datetime.date(2015, 6, 1)
    source_url = "https://example.org/treaty"

    @factory.post_generation
    def parties(self, create, extracted, **kwargs):
        if not create:
            return
        partners = extracted if extracted is not None else [NationFactory(), NationFactory()]
        for partner in partners:
            if isinstance(partner, Nation):
                AgreementParty.objects.create(agreement=self, nation=partner)
            else:
                AgreementParty.objects.create(agreement=self, organization=partner)
        rebuild_periods(self)

    @factory.post_generation
    def search_documents(self, create, extracted, **kwargs):
        if create:
            refresh_documents(self)


class PartyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgreementParty

    agreement = factory.SubFactory(AgreementFactory, parties=[])
    nation = factory.SubFactory(NationFactory)

    @factory.post_generation
    def periods(self, create, extracted, **kwargs):
        if create:
            rebuild_periods(self.agreement)


class ProvisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provision
        skip_postgeneration_save = True

    agreement = factory.SubFactory(AgreementFactory)
    category = ProvisionCategory.TRAINING
    title = factory.Sequence(lambda n: f"Provision {n}")
    article = factory.Sequence(lambda n: f"Art. {n}")
    text = "The parties shall cooperate."
    classification = factory.LazyAttribute(lambda p: p.agreement.classification)

    @factory.post_generation
    def search_documents(self, create, extracted, **kwargs):
        if create:
            refresh_documents(self.agreement)


# Engagements --------------------------------------------------------------------------------

from engagements.choices import (  # noqa: E402
    EngagementKind,
    EngagementStatus,
    ParticipationRole,
)
from engagements.models import Engagement, Participation  # noqa: E402


class EngagementFactory(factory.django.DjangoModelFactory):
    """A planned exercise with consistent dates. Participants are added with
    ``participants=[partner, ...]`` (nations or organizations; the first one hosts, the
    others take part); without them it gets none. Written directly, not through the service:
    a test of history or versions goes through ``engagement_save``."""

    class Meta:
        model = Engagement
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Test exercise {n}")
    kind = EngagementKind.EXERCISE
    status = EngagementStatus.PLANNED
    classification = Classification.UNCLASSIFIED
    starts_on = datetime.date(2026, 9, 1)
    ends_on = datetime.date(2026, 9, 14)
    location = "Somewhere"

    @factory.post_generation
    def participants(self, create, extracted, **kwargs):
        if not create or not extracted:
            return
        for index, partner in enumerate(extracted):
            role = ParticipationRole.HOST if index == 0 else ParticipationRole.PARTICIPANT
            side = {"nation": partner} if isinstance(partner, Nation) else {"organization": partner}
            Participation.objects.create(engagement=self, role=role, **side)


class ParticipationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Participation

    engagement = factory.SubFactory(EngagementFactory)
    nation = factory.SubFactory(NationFactory)
    role = ParticipationRole.PARTICIPANT
