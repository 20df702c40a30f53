"""setup_demo: reference data, real demo agreements, demo users; idempotent.

The demo is loaded once for the module (``tests/module_data.py``): the tests read it, and
what one of them writes (a sign-in, a second load) is undone after it."""

import io

import pytest
from django.core.management import call_command
from django.test import Client

from accounts.models import User
from agreements.models import Agreement, Provision

from .module_data import module_transaction


@pytest.fixture(scope="module")
def demo_load(request, django_db_setup, django_db_blocker):
    """The demo set, loaded once for the module; its printed output."""
    with module_transaction(request, django_db_blocker):
        out = io.StringIO()
        with django_db_blocker.unblock():
            call_command("setup_demo", stdout=out)
        yield out.getvalue()


@pytest.fixture
def demo(demo_load, db):
    return demo_load


def test_demo_loads_real_agreements_with_sources(demo):
    real = Agreement.objects.exclude(title__startswith="EXERCISE")
    assert real.count() >= 40
    assert not real.filter(source_url="").exists()
    assert set(real.values_list("classification", flat=True)) == {"unclassified"}
    codes = {
        p.code
        for a in real.prefetch_related("parties__nation", "parties__organization")
        for p in a.parties.all()
    }
    assert {"USA", "PHL", "COL", "NATO", "AU"} <= codes
    statuses = set(real.values_list("status", flat=True))
    assert {"in_force", "expired", "terminated", "superseded", "signed", "suspended"} <= statuses
    assert real.filter(reference__startswith="US-PH").count() >= 3
    assert real.filter(reference__startswith="US-CO").exists()
    lateral = {a.lateral for a in real.prefetch_related("parties")}
    assert {"bilateral", "multilateral"} <= lateral


def test_demo_prints_logins_that_work(demo):
    for username in ("policy", "analyst", "editor", "registrar"):
        assert f"{username}-demo-2026" in demo
        # Through the login page: django-axes checks every sign-in against its request.
        response = Client().post(
            "/accounts/login/", {"username": username, "password": f"{username}-demo-2026"}
        )
        assert response.status_code == 302 and response.url == "/", username


def test_demo_clearance_shows(demo):
    policy, analyst = User.objects.get(username="policy"), User.objects.get(username="analyst")
    exercises = Agreement.objects.filter(title__startswith="EXERCISE")
    assert set(exercises.values_list("classification", flat=True)) >= {"confidential", "secret"}
    assert (
        not Agreement.objects.visible_to(policy)
        .filter(classification__in=["confidential", "secret"])
        .exists()
    )
    annex = Provision.objects.get(agreement__classification="unclassified", classification="secret")
    assert annex.category == "intelligence_sharing"
    assert not Provision.objects.visible_to(policy).filter(pk=annex.pk).exists()
    assert Provision.objects.visible_to(analyst).filter(pk=annex.pk).exists()


def test_demo_twice_changes_nothing(demo, capsys):
    versions = sorted(Agreement.objects.values_list("reference", "version"))
    call_command("setup_demo")
    out = capsys.readouterr().out
    assert "0 created, 0 updated" in out
    assert sorted(Agreement.objects.values_list("reference", "version")) == versions
