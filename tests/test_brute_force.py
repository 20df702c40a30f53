"""Brute force: a username tried from one address is locked out after AXES_FAILURE_LIMIT
failures for the cool-off (django-axes, in the database); sign-in attempts are throttled per
address and per username, and API requests per user (DRF throttles, in the shared cache). Both
the login page and the token endpoint; a clear message on each."""

import datetime

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from .api_helpers import client_for

LIMIT = settings.AXES_FAILURE_LIMIT
LOCKED = "Too many failed sign-in attempts"


def _sign_in(client, username, password, address="192.0.2.10"):
    return client.post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address
    )


def _token(username, password, address="192.0.2.10"):
    return client_for().post(
        "/api/v1/auth/token/", {"username": username, "password": password}, REMOTE_ADDR=address
    )


def _signed_in(client) -> bool:
    return client.get("/").status_code == 200


def test_the_defaults(settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    assert datetime.timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert rates == {
        "anon": "60/minute",
        "user": "3600/hour",
        "sign_in": "30/minute",
        "sign_in_username": "60/hour",
    }


def test_fifty_wrong_passwords_then_the_right_one_does_not_sign_in(viewer):
    client = Client()
    statuses = [_sign_in(client, "viewer", f"guess{n}").status_code for n in range(50)]
    assert statuses[: LIMIT - 1] == [200] * (LIMIT - 1)
    assert set(statuses[LIMIT - 1 :]) == {429}
    response = _sign_in(client, "viewer", "pw")
    assert response.status_code == 429
    assert not _signed_in(client)


def test_the_login_page_says_why_and_for_how_long(viewer):
    client = Client()
    for n in range(LIMIT):
        response = _sign_in(client, "viewer", f"guess{n}")
    assert response.status_code == 429
    html = response.content.decode()
    assert LOCKED in html
    assert "15 minutes" in html
    assert 'for="id_username"' in html  # still the sign-in page, styled like it
    assert response["Retry-After"] == "900"


def test_the_lockout_ends_after_the_cool_off(viewer):
    client = Client()
    start = datetime.datetime(2026, 6, 15, 12, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        for n in range(LIMIT):
            _sign_in(client, "viewer", f"guess{n}")
        assert _sign_in(client, "viewer", "pw").status_code == 429
    with time_machine.travel(start + datetime.timedelta(minutes=14), tick=False):
        assert _sign_in(client, "viewer", "pw").status_code == 429
    with time_machine.travel(start + datetime.timedelta(minutes=16), tick=False):
        cache.clear()  # the address throttle's window too
        assert _sign_in(client, "viewer", "pw").status_code == 302
        assert _signed_in(client)


def test_the_lockout_is_per_username_and_address(viewer, analyst):
    for n in range(LIMIT):
        _sign_in(Client(), "viewer", f"guess{n}", address="192.0.2.10")
    elsewhere = Client()
    assert _sign_in(elsewhere, "viewer", "pw", address="198.51.100.7").status_code == 302
    other_user = Client()
    assert _sign_in(other_user, "analyst", "pw", address="192.0.2.10").status_code == 302


def test_the_lockout_lives_in_the_database_not_in_a_process(viewer):
    for n in range(LIMIT):
        _sign_in(Client(), "viewer", f"guess{n}")
    attempt = AccessAttempt.objects.get(username="viewer")
    assert attempt.failures_since_start == LIMIT
    cache.clear()  # nothing held in the cache or in memory matters for the lockout
    assert _sign_in(Client(), "viewer", "pw").status_code == 429


def test_a_success_before_the_limit_resets_the_count(viewer):
    client = Client()
    for n in range(LIMIT - 1):
        _sign_in(client, "viewer", f"guess{n}")
    assert _sign_in(client, "viewer", "pw").status_code == 302
    client.post("/accounts/logout/")
    for n in range(LIMIT - 1):
        assert _sign_in(client, "viewer", f"again{n}").status_code == 200
    assert _sign_in(client, "viewer", "pw").status_code == 302


def test_the_token_endpoint_locks_out_with_a_json_429(viewer):
    for n in range(LIMIT - 1):
        assert _token("viewer", f"guess{n}").status_code == 400
    response = _token("viewer", "guess-last")
    assert response.status_code == 429
    response = _token("viewer", "pw")
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert LOCKED in response.json()["detail"]
    assert "15 minutes" in response.json()["detail"]
    assert response["Retry-After"] == "900"
    assert "token" not in response.json()


def test_token_and_page_share_one_count(viewer):
    for n in range(LIMIT - 1):
        _token("viewer", f"guess{n}")
    assert _sign_in(Client(), "viewer", "guess-last").status_code == 429
    assert _token("viewer", "pw").status_code == 429


def test_the_admin_login_is_the_registry_login(viewer):
    response = Client().get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/admin/"
    assert (
        Client().post("/admin/login/", {"username": "viewer", "password": "x"}).status_code == 302
    )


# Throttles -----------------------------------------------------------------------------------


def test_sign_in_attempts_are_throttled_per_address(db):
    client = Client()
    statuses = [_sign_in(client, f"nobody{n}", "x").status_code for n in range(31)]
    assert statuses[:30] == [200] * 30
    assert statuses[30] == 429
    response = _sign_in(client, "nobody-else", "x")
    assert "Too many sign-in attempts from your address" in response.content.decode()
    assert int(response["Retry-After"]) > 0
    assert _sign_in(client, "nobody-else", "x", address="198.51.100.7").status_code == 200


def test_token_requests_are_throttled_per_address(db):
    statuses = [_token(f"nobody{n}", "x").status_code for n in range(31)]
    assert statuses[:30] == [400] * 30
    assert statuses[30] == 429
    assert "Retry-After" in _token("nobody-else", "x")


def test_sign_in_attempts_are_throttled_per_username_across_addresses(viewer):
    """A username tried from many addresses (a botnet) is slowed down, not locked for good."""
    statuses = [
        _sign_in(Client(), "viewer", "x", address=f"10.0.{n // 250}.{n % 250 + 1}").status_code
        for n in range(61)
    ]
    assert 429 not in statuses[:60]
    assert statuses[60] == 429
    response = _token("viewer", "pw", address="203.0.113.9")
    assert response.status_code == 429
    assert "this username" in response.json()["detail"]


def test_a_forged_forwarded_for_header_does_not_dodge_the_address_throttle(db):
    client = Client()
    statuses = [
        client.post(
            "/accounts/login/",
            {"username": f"nobody{n}", "password": "x"},
            REMOTE_ADDR="192.0.2.10",
            HTTP_X_FORWARDED_FOR=f"10.9.9.{n}",
        ).status_code
        for n in range(31)
    ]
    assert statuses[30] == 429


def test_api_requests_are_throttled_per_user(analyst, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "user": "3/minute",
        },
    }
    client = client_for(analyst)
    assert [client.get("/api/v1/nations/").status_code for _ in range(3)] == [200] * 3
    response = client.get("/api/v1/agreements/")
    assert response.status_code == 429
    assert "throttled" in response.json()["detail"]
    assert client_for().get("/api/v1/nations/").status_code == 401


@pytest.mark.parametrize("url", ["/accounts/login/", "/api/v1/auth/token/"])
def test_get_is_never_throttled(db, url):
    client = Client()
    for _ in range(40):
        client.get(url)
    assert client.get(url).status_code in (200, 405)


def test_api_throttle_counts_one_integer_per_window(analyst, settings):
    """The user throttle keeps a count per fixed window (not DRF's list of every request's
    time, written whole on each request); a new window starts the count again, and a 429
    says when the window ends (Retry-After)."""
    import datetime

    import time_machine
    from django.core.cache import cache

    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "user": "3/minute",
        },
    }
    cache.clear()
    client = client_for(analyst)
    start = datetime.datetime(2026, 3, 2, 10, 15, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start + datetime.timedelta(seconds=20), tick=False):
        assert [client.get("/api/v1/nations/").status_code for _ in range(4)] == [
            200,
            200,
            200,
            429,
        ]
        response = client.get("/api/v1/nations/")
        assert response.status_code == 429 and int(response["Retry-After"]) == 40
        key = f"throttle_user_{analyst.pk}:{int(start.timestamp())}"
        assert cache.get(key) == 5  # an integer, not a list of times
    with time_machine.travel(start + datetime.timedelta(seconds=61), tick=False):
        assert client.get("/api/v1/nations/").status_code == 200  # a new window
