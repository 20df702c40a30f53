"""Request throttles, counted in the shared cache (``CACHES["default"]``: the database cache
or Redis, never one process's memory), with the rates of ``REST_FRAMEWORK
["DEFAULT_THROTTLE_RATES"]`` read at each request (so settings can change them).

- ``anon`` / ``user``: every API request, per address or per signed-in user.
- ``sign_in``: POSTs to the login page and the token endpoint, per address.
- ``sign_in_username``: the same, per username tried, from any address (slows a guessing
  run spread over many addresses; django-axes locks a username+address pair outright).
"""

from __future__ import annotations

import hashlib

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

from .clientip import client_ip


class _Rates:
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_ident(self, request):
        return client_ip(request) or ""


class AnonThrottle(_Rates, AnonRateThrottle):
    pass


class UserThrottle(_Rates, UserRateThrottle):
    pass


class _SignInThrottle(_Rates, SimpleRateThrottle):
    """Counts POSTs only: reading the login page is free."""

    message = ""

    def allow_request(self, request, view):
        if request.method != "POST":
            return True
        return super().allow_request(request, view)


class SignInAddressThrottle(_SignInThrottle):
    scope = "sign_in"
    message = "Too many sign-in attempts from your address."

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def submitted_username(request) -> str:
    data = getattr(request, "data", None)
    if data is None:
        data = request.POST
    value = data.get("username") if hasattr(data, "get") else None
    return str(value).strip().lower() if value else ""


class SignInUsernameThrottle(_SignInThrottle):
    scope = "sign_in_username"
    message = "Too many sign-in attempts for this username."

    def get_cache_key(self, request, view):
        username = submitted_username(request)
        if not username:
            return None
        ident = hashlib.sha256(username.encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


SIGN_IN_THROTTLES = (SignInAddressThrottle, SignInUsernameThrottle)


def first_refusal(request, view=None):
    """The first sign-in throttle that refuses ``request``, or None. Each throttle counts the
    request when it lets it through."""
    for throttle_class in SIGN_IN_THROTTLES:
        throttle = throttle_class()
        if not throttle.allow_request(request, view):
            return throttle
    return None
