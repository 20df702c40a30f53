"""What `make run` serves: config.settings.local in a process of its own, with only the
environment a user gives `make run` (HOST, PORT, SITE_URL, DJANGO_DEBUG, EMAIL_URL)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from io import StringIO

client = Client(headers={"host": settings.ALLOWED_HOSTS[-1]})
missing = client.get("/no-such-page/")
css = client.get("/static/css/registry.css")
info = StringIO()
call_command("serve_info", stdout=info)
print(json.dumps({
    "debug": settings.DEBUG,
    "site_url": settings.SITE_URL,
    "allowed_hosts": settings.ALLOWED_HOSTS,
    "missing": [missing.status_code, missing.content.decode()],
    "css": [css.status_code, css.get("Content-Type", ""), b"".join(css).decode()[:200]],
    "info": info.getvalue(),
}))
"""

CLEARED = ("HOST", "PORT", "SITE_URL", "DJANGO_DEBUG", "DJANGO_ALLOWED_HOSTS", "EMAIL_URL")


def probe(tmp_path, **environment) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL=f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        **environment,
    )
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def default(tmp_path_factory):
    return probe(tmp_path_factory.mktemp("run"))


def test_debug_is_off_by_default_and_on_when_asked(default, tmp_path):
    assert default["debug"] is False
    assert probe(tmp_path, DJANGO_DEBUG="true")["debug"] is True


def test_a_missing_page_is_the_registrys_own_404(default):
    status, html = default["missing"]
    assert status == 404
    assert "Page not found" in html and "DCA Registry" in html
    assert "URLconf" not in html  # Django's technical 404 lists the URL patterns


def test_the_stylesheet_is_served_with_debug_off(default):
    status, content_type, body = default["css"]
    assert status == 200
    assert content_type.startswith("text/css")
    assert body.strip()


def test_site_url_follows_host_and_port(default, tmp_path):
    assert default["site_url"] == "http://127.0.0.1:8000"
    moved = probe(tmp_path, PORT="8100", HOST="192.0.2.10")
    assert moved["site_url"] == "http://192.0.2.10:8100"
    assert {"127.0.0.1", "localhost", "192.0.2.10"} <= set(moved["allowed_hosts"])
    assert moved["missing"][0] == 404  # served to Host: 192.0.2.10, not refused (400)
    assert "http://192.0.2.10:8100" in moved["info"]
    explicit = probe(tmp_path, PORT="8100", SITE_URL="https://registry.example.org")
    assert explicit["site_url"] == "https://registry.example.org"


def test_serve_info_says_where_emails_go(default, tmp_path):
    assert (
        "E-mails: printed: the reminders by the Celery worker into var/celery.log"
        in (default["info"])
    )
    assert "Debug off" in default["info"]
    filed = probe(tmp_path, EMAIL_URL="filemail:///var/mail")
    assert "E-mails: written as files under var/mail/." in filed["info"]
