"""Helpers for the API tests: a token-authenticated client per persona, a small world."""

import datetime

from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.choices import Classification
from agreements.choices import AgreementType, ProvisionCategory
from agreements.services import provision_save

from .factories import AgreementFactory

D = datetime.date


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def build_world(p):
    """Public US–Philippines treaty with a training provision and a secret annex; a secret
    UK–France agreement; a public US–Colombia DCA expiring soon."""
    public = AgreementFactory(
        reference="US-PH-MDT",
        title="Mutual Defense Treaty",
        summary="Mutual defense between the United States and the Philippines.",
        parties=[p["USA"], p["PHL"]],
        type=AgreementType.ALLIANCE,
        signed_on=D(1951, 8, 30),
        entered_into_force_on=D(1952, 8, 27),
        next_review_on=D(2026, 7, 1),
    )
    provision_save(
        agreement=public,
        category=ProvisionCategory.TRAINING,
        title="Combined training",
        text="Joint instruction of officers.",
    )
    annex = provision_save(
        agreement=public,
        category=ProvisionCategory.INTELLIGENCE_SHARING,
        title="Zanzibar signals annex",
        text="Exchange of intercepted traffic.",
        classification=Classification.SECRET,
    )
    secret = AgreementFactory(
        reference="UK-FR-SECRET",
        title="Hidden basing arrangement",
        parties=[p["GBR"], p["FRA"]],
        classification=Classification.SECRET,
        type=AgreementType.SOFA,
        signed_on=D(2012, 1, 1),
        entered_into_force_on=D(2012, 1, 1),
        expires_on=D(2026, 7, 15),
    )
    provision_save(agreement=secret, category=ProvisionCategory.BASING, title="Basing")
    colombia = AgreementFactory(
        reference="US-CO-DCA",
        title="Supplemental Agreement for Cooperation",
        parties=[p["USA"], p["COL"]],
        type=AgreementType.DCA,
        signed_on=D(2009, 10, 30),
        entered_into_force_on=D(2009, 10, 30),
        expires_on=D(2026, 9, 1),
    )
    return {"public": public, "annex": annex, "secret": secret, "colombia": colombia}
