"""A plain ``NationFactory()`` never hands back a nation a test made with its own code, however
many nations were made before (the sequence of codes wraps after 676)."""

import pytest

from .factories import NationFactory

pytestmark = pytest.mark.django_db


def test_generated_codes_skip_codes_taken():
    taken = NationFactory(iso3="XSU")
    NationFactory.reset_sequence(18 * 26 + 20)  # the sequence is about to give XSU
    made = NationFactory()
    assert made.pk != taken.pk and made.iso3 != "XSU"
