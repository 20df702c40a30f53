"""The registry on the frozen day: one small world that the page, API and filter tests share.

The ``world`` fixture (tests/conftest.py) builds it afresh for every test that asks for it,
with the clock frozen at ``TODAY`` (15 June 2026), so "due within N days" always means the
same records. The agreements are made up for the tests.

The agreements and their parties come from the factories, so, like every factory record,
they have no change history of their own: through ``agreement_save``, which validates each
check constraint with a query, a build takes about 90 ms instead of 35, in each of the two
hundred tests that build this world. What the tests read in the history is written through
the services: every provision through ``provision_save`` and the review through
``review_record`` (which also moves the next review and adds a "reviewed" event to the
timeline). A test that needs an agreement's own records writes it through ``agreement_save``.

Partners: the ``partners`` fixture's six nations (USA and COL in the Americas, PHL and JPN
in Asia, GBR and FRA in Europe) and two organizations (NATO, AU). The USA is a NATO member
since 24 August 1949; Col. Jane Doe is the US defense attaché posted to the Philippines
(one open-ended posting since 1 July 2025).

=============  ============  ============  ==================  =========  ==============  ======
key            reference     class.        type                status     parties         signed
=============  ============  ============  ==================  =========  ==============  ======
public         US-PH-TRG     unclassified  training            in force   USA, PHL, NATO  2015
colombia       US-CO-DCA     unclassified  dca                 in force   USA, COL        2009
confidential   UK-FR-BASING  confidential  sofa                in force   GBR, FRA        2012
secret         SEC-0001      secret        defense_industrial  suspended  USA, PHL, NATO  1977
=============  ============  ============  ==================  =========  ==============  ======

Due dates, in days after TODAY: ``secret`` notice deadline +10 (10 days' notice) and expiry
+20; ``public`` review +16 and expiry +30; ``confidential`` expiry +60; ``colombia`` expiry
+78. All are within the dashboard's and the deadlines page's 90 days; the only notice
deadline is the secret one's.

Provisions: ``public`` has "Combined training" (training, unclassified) and the secret annex
"Zanzibar signals annex" (intelligence sharing); ``colombia`` has only a secret training annex
(so, to an uncleared reader, it has no provision at all); ``confidential`` has "Basing";
``secret`` has "Covert technology transfer" (technology transfer).

``public`` also has what its page shows: a review recorded on 1 July 2025 (outcome continue,
"All good"; the 12-month interval puts the next review at +16) with its "reviewed" event, and
an expiry reminder sent to desk@example.org. The secret annex is written last, so its change
record is the newest (the dashboard lists the ten newest a reader may see).

What an uncleared viewer sees: ``public`` (one provision) and ``colombia`` (none). An editor
cleared to confidential adds ``confidential``; an analyst cleared to secret sees everything.
"""

import datetime

from accounts.choices import Classification
from agreements.choices import (
    AgreementStatus,
    AgreementType,
    ProvisionCategory,
    ReminderKind,
    ReminderStatus,
    ReviewOutcome,
)
from agreements.models import Reminder
from agreements.services import provision_save, review_record
from partners.choices import ContactRole
from partners.models import PointOfContact, Posting

from .factories import AgreementFactory, MembershipFactory

D = datetime.date
TODAY = D(2026, 6, 15)  # the frozen day (``frozen_today`` in tests/conftest.py)


def days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


SECRET_TITLE = "Zebra Covert Accord"  # distinctive: it must never show up for the uncleared


def build_world(partners: dict) -> dict:
    """Write the world (see the module's docstring) and return its records by key."""
    usa, phl, nato = partners["USA"], partners["PHL"], partners["NATO"]
    MembershipFactory(nation=usa, organization=nato, joined_on=D(1949, 8, 24))
    contact = PointOfContact.objects.create(
        name="Jane Doe",
        rank="Col.",
        role=ContactRole.DEFENSE_ATTACHE,
        represents=usa,
        posted_to=phl,
        email="jane.doe@example.org",
        active_from=D(2025, 7, 1),
    )
    Posting.objects.create(contact=contact, nation=phl, active_from=D(2025, 7, 1))

    secret = AgreementFactory(
        reference="SEC-0001",
        title=SECRET_TITLE,
        type=AgreementType.DEFENSE_INDUSTRIAL,
        status=AgreementStatus.SUSPENDED,
        classification=Classification.SECRET,
        signed_on=D(1977, 5, 1),
        entered_into_force_on=D(1977, 6, 1),
        expires_on=days(20),
        notice_period_days=10,
        parties=[usa, phl, nato],
    )
    provision_save(
        agreement=secret,
        category=ProvisionCategory.TECHNOLOGY_TRANSFER,
        title="Covert technology transfer",
    )
    confidential = AgreementFactory(
        reference="UK-FR-BASING",
        title="Hidden basing arrangement",
        type=AgreementType.SOFA,
        classification=Classification.CONFIDENTIAL,
        signed_on=D(2012, 1, 1),
        entered_into_force_on=D(2012, 1, 1),
        expires_on=days(60),
        parties=[partners["GBR"], partners["FRA"]],
    )
    provision_save(agreement=confidential, category=ProvisionCategory.BASING, title="Basing")
    colombia = AgreementFactory(
        reference="US-CO-DCA",
        title="Supplemental Agreement for Cooperation",
        type=AgreementType.DCA,
        signed_on=D(2009, 10, 30),
        entered_into_force_on=D(2009, 10, 30),
        expires_on=days(78),
        parties=[usa, partners["COL"]],
    )
    provision_save(
        agreement=colombia,
        category=ProvisionCategory.TRAINING,
        title="Riverine training annex",
        text="Instruction of riverine units.",
        classification=Classification.SECRET,
    )
    public = AgreementFactory(
        reference="US-PH-TRG",
        title="Combined Training Accord",
        summary="Training of United States and Philippine forces to NATO standards.",
        type=AgreementType.TRAINING,
        signed_on=D(2015, 3, 1),
        entered_into_force_on=D(2015, 6, 1),
        expires_on=days(30),
        review_interval_months=12,
        parties=[usa, phl, nato],
    )
    provision_save(
        agreement=public,
        category=ProvisionCategory.TRAINING,
        title="Combined training",
        text="Joint instruction of officers.",
    )
    review = review_record(
        agreement=public,
        reviewed_on=D(2025, 7, 1),
        outcome=ReviewOutcome.CONTINUE,
        notes="All good",
    )
    reminder = Reminder.objects.create(
        agreement=public,
        kind=ReminderKind.EXPIRY,
        due_on=public.expires_on,
        days_before=30,
        recipient="desk@example.org",
        status=ReminderStatus.SENT,
    )
    annex = provision_save(
        agreement=public,
        category=ProvisionCategory.INTELLIGENCE_SHARING,
        title="Zanzibar signals annex",
        text="Exchange of intercepted traffic.",
        classification=Classification.SECRET,
    )
    for agreement in (public, colombia, confidential, secret):
        agreement.refresh_from_db()  # the version, revisions and next review the services set
    return {
        "public": public,
        "annex": annex,
        "review": review,
        "reminder": reminder,
        "colombia": colombia,
        "confidential": confidential,
        "secret": secret,
        "usa": usa,
        "phl": phl,
        "nato": nato,
        "contact": contact,
    }
