"""config.settings.production: `check --deploy` clean with good settings, refusal to start with
a weak secret key or without DATABASE_URL, static files served by WhiteNoise (hashed,
compressed), shared cache. Each runs Django in a subprocess, as gunicorn would."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOOD_KEY = "k3J9-vQ2zX8_mN5pL7rT1wY4uH6gF0dS2aZ9cV3bN8mK1jH5gF7dS4aQ2wE6rT9y"


def _env(tmp_path, **changes) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "CACHE_URL", "PYTEST"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=GOOD_KEY,
        DJANGO_ALLOWED_HOSTS="registry.example.org,testserver",
        DATABASE_URL=f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        DJANGO_STATIC_ROOT=str(tmp_path / "static"),
    )
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def _manage(env, *args, timeout=120):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _python(env, code, timeout=120):
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_check_deploy_is_clean_with_good_settings(tmp_path):
    result = _manage(_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("variable", "warning"),
    [("DJANGO_SECURE_SSL_REDIRECT", "security.W008"), ("DJANGO_SECURE_HSTS_SECONDS", "W004")],
)
def test_https_settings_can_be_switched_off_and_check_deploy_says_so(tmp_path, variable, warning):
    value = "false" if variable.endswith("REDIRECT") else "0"
    result = _manage(_env(tmp_path, **{variable: value}), "check", "--deploy")
    assert warning in result.stdout + result.stderr


@pytest.mark.parametrize(
    "key",
    ["short", "x" * 60, "abcd" * 20, "django-insecure-" + GOOD_KEY, ""],
    ids=["five-chars", "one-char-repeated", "four-distinct", "django-insecure", "empty"],
)
def test_a_weak_secret_key_stops_startup(tmp_path, key):
    result = _manage(_env(tmp_path, DJANGO_SECRET_KEY=key), "check")
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]  # what gunicorn's log ends with too
    assert last.startswith("django.core.exceptions.ImproperlyConfigured: DJANGO_SECRET_KEY")
    if key:
        assert "at least 50 characters" in last


def test_no_database_url_stops_startup(tmp_path):
    result = _manage(_env(tmp_path, DATABASE_URL=None), "check")
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.endswith("ImproperlyConfigured: DATABASE_URL must be set in production.")


def test_the_cache_is_shared_between_processes(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.CACHES['default']['BACKEND'])"
    )
    default = _python(_env(tmp_path), code)
    assert default.stdout.strip() == "config.cache.DatabaseCache", default.stderr
    redis = _python(_env(tmp_path, CACHE_URL="redis://127.0.0.1:6379/9"), code)
    assert "RedisCache" in redis.stdout


PAGE_AND_STYLESHEET = r"""
import re, django
django.setup()
from django.test import Client
client = Client(HTTP_HOST="registry.example.org")
page = client.get("/accounts/login/", secure=True)
assert page.status_code == 200, page.status_code
href = re.search(r'<link rel="stylesheet" href="([^"]+)"', page.content.decode()).group(1)
print("HREF", href)
css = client.get(href, secure=True, HTTP_ACCEPT_ENCODING="gzip")
print("STATUS", css.status_code)
print("TYPE", css["Content-Type"])
print("ENCODING", css.get("Content-Encoding", ""))
print("CACHE", css.get("Cache-Control", ""))
for name in ("Strict-Transport-Security", "Content-Security-Policy", "X-Frame-Options",
             "X-Content-Type-Options", "Referrer-Policy"):
    print("HEADER", name, "=", page.get(name, ""))
plain = client.get("/accounts/login/")
print("PLAIN", plain.status_code, plain.get("Location", ""))
"""


def test_the_stylesheet_of_a_rendered_page_is_served_in_production(tmp_path):
    env = _env(tmp_path)
    collected = _manage(env, "collectstatic", "--noinput")
    assert collected.returncode == 0, collected.stderr
    result = _python(env, PAGE_AND_STYLESHEET)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    href = re.search(r"HREF (\S+)", out).group(1)
    assert re.fullmatch(r"/static/css/registry\.[0-9a-f]{12}\.css", href), href  # hashed
    assert "STATUS 200" in out
    assert "TYPE text/css" in out
    assert "ENCODING gzip" in out  # compressed
    assert "max-age=315360000" in out  # hashed files cached for good
    headers = dict(re.findall(r"HEADER (\S+) = (.*)", out))
    assert "max-age=31536000" in headers["Strict-Transport-Security"]
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "PLAIN 301 https://registry.example.org/accounts/login/" in out  # SSL redirect


def test_the_health_check_answers_over_plain_http(tmp_path):
    """A load balancer's probe over HTTP is not redirected."""
    code = (
        "import django; django.setup(); from django.test import Client; "
        "print(Client(HTTP_HOST='registry.example.org').get('/health/').status_code)"
    )
    result = _python(_env(tmp_path), code)
    assert result.stdout.strip() in ("200", "503"), result.stderr
