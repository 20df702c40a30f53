import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from accounts.groups import ANALYSTS, EDITORS, POLICY_STAFF, REGISTRY_ADMINS

ROOT = Path(__file__).resolve().parent.parent
STRONG_KEY = "k3J9-vQ2zX8_mN5pL7rT1wY4uH6gF0dS2aZ9cV3bN8mK1jH5gF7dS4aQ2wE6rT9y"


def _load_production(env, show="settings.DEBUG"):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    clean.update(env, DJANGO_SETTINGS_MODULE="config.settings.production")
    return subprocess.run(
        [
            sys.executable,
            "-c",
            f"import django; django.setup(); from django.conf import settings; print({show})",
        ],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "env, missing",
    [
        ({}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": STRONG_KEY}, "DJANGO_ALLOWED_HOSTS"),
    ],
)
def test_production_refuses_to_start_without_secrets(env, missing):
    result = _load_production(env)
    assert result.returncode != 0
    assert f"{missing} must be set in production" in result.stderr


def test_production_starts_with_secrets_and_debug_off():
    result = _load_production(
        {
            "DJANGO_SECRET_KEY": STRONG_KEY,
            "DJANGO_ALLOWED_HOSTS": "registry.example.org",
            "DATABASE_URL": "postgres://registry@db.example.org:5432/registry",
        }
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_production_keeps_connections_checked_and_turns_jit_off():
    db = "settings.DATABASES['default']"
    result = _load_production(
        {
            "DJANGO_SECRET_KEY": STRONG_KEY,
            "DJANGO_ALLOWED_HOSTS": "registry.example.org",
            "DATABASE_URL": "postgres://registry@db.example.org:5432/registry",
        },
        show=f"{db}['CONN_MAX_AGE'], {db}['CONN_HEALTH_CHECKS'], {db}['OPTIONS']['options']",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["60", "True", "-c", "jit=off"]


def test_postgresql_sessions_run_without_jit(db):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL setting")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)


def _codenames(name):
    return set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))


def test_groups_created_by_migration_with_their_permissions(db):
    policy, analysts = _codenames(POLICY_STAFF), _codenames(ANALYSTS)
    editors, admins = _codenames(EDITORS), _codenames(REGISTRY_ADMINS)
    assert {"view_agreement", "view_provision", "view_nation"} <= policy
    assert not any(c.startswith(("add_", "change_", "delete_")) for c in policy)
    assert "export_agreement" not in policy and "view_statistics" not in policy
    assert {"export_agreement", "view_statistics", "view_agreement"} <= analysts
    assert {"add_agreement", "change_agreement", "add_provision", "view_user"} <= editors
    assert "delete_agreement" not in editors and "add_user" not in editors
    assert {"delete_agreement", "add_user", "change_user", "change_group"} <= admins


def test_health_check_is_open_and_reports_database_and_broker(client, db):
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_health_check_fails_when_the_broker_is_down(client, db, monkeypatch):
    from config.celery import app

    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:9/0")
    response = client.get("/health/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error" and body["database"] == "ok"
    assert body["broker"].startswith("error")


def test_admin_requires_login(client, db):
    response = client.get("/admin/agreements/agreement/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_server_error_page_is_the_registrys_own(client, db):
    from django.template.loader import render_to_string

    html = render_to_string("500.html")
    assert "Something went wrong" in html
    assert "all or nothing" in html


def test_registry_admins_can_issue_api_and_calendar_tokens(db):
    admins = _codenames(REGISTRY_ADMINS)
    assert {"add_token", "view_token", "delete_token", "view_calendartoken"} <= admins
    assert "add_token" not in _codenames(EDITORS)
