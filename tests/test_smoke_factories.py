from agreements.models import Agreement

from .factories import AgreementFactory, ProvisionFactory


def test_factories_build_valid_records(db):
    agreement = AgreementFactory()
    ProvisionFactory(agreement=agreement)
    agreement.full_clean()
    assert Agreement.objects.get().parties.count() == 2
