"""Shared fixtures: fixed personas, a few partners, a frozen clock, the shared world."""

import datetime

import pytest
import time_machine

from accounts.choices import Classification
from accounts.groups import ANALYSTS, EDITORS, POLICY_STAFF, REGISTRY_ADMINS

from .factories import NationFactory, OrganizationFactory, UserFactory
from .world import TODAY, build_world


@pytest.fixture(autouse=True)
def _empty_cache():
    """Throttle counts start from nothing in every test."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def frozen_today():
    """Freeze the clock at TODAY (noon UTC) for anything that depends on the date."""
    with time_machine.travel(
        datetime.datetime(2026, 6, 15, 12, 0, tzinfo=datetime.UTC), tick=False
    ):
        yield TODAY


@pytest.fixture
def viewer(db):
    """Policy staff, uncleared: sees unclassified records only."""
    return UserFactory(username="viewer", group=POLICY_STAFF, clearance=Classification.UNCLASSIFIED)


@pytest.fixture
def analyst(db):
    """An analyst cleared to secret."""
    return UserFactory(username="analyst", group=ANALYSTS, clearance=Classification.SECRET)


@pytest.fixture
def editor(db):
    """An editor cleared to confidential, with access to the admin."""
    return UserFactory(
        username="editor", group=EDITORS, clearance=Classification.CONFIDENTIAL, is_staff=True
    )


@pytest.fixture
def registrar(db):
    """A registry admin cleared to secret."""
    return UserFactory(
        username="registrar", group=REGISTRY_ADMINS, clearance=Classification.SECRET, is_staff=True
    )


@pytest.fixture
def outsider(db):
    """Signed in, cleared to secret, but in no group: no permission to read anything."""
    return UserFactory(username="outsider", clearance=Classification.SECRET)


@pytest.fixture
def partners(db):
    """A few real partners by code."""
    nations = {
        code: NationFactory(iso3=code, name=name, region=region)
        for code, name, region in [
            ("USA", "United States", "Americas"),
            ("PHL", "Philippines", "Asia"),
            ("COL", "Colombia", "Americas"),
            ("GBR", "United Kingdom", "Europe"),
            ("FRA", "France", "Europe"),
            ("JPN", "Japan", "Asia"),
        ]
    }
    nations["NATO"] = OrganizationFactory(acronym="NATO", name="North Atlantic Treaty Organization")
    nations["AU"] = OrganizationFactory(acronym="AU", name="African Union")
    return nations


@pytest.fixture
def world(partners, frozen_today):
    """The shared world of tests/world.py (four agreements at three classifications, their
    provisions, a review and history), built for this test on the frozen day."""
    return build_world(partners)
