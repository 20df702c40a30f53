"""Request throttles, counted in the shared cache (``CACHES["default"]``: the database cache
or Redis, never one process's memory), with the rates of ``REST_FRAMEWORK
["DEFAULT_THROTTLE_RATES"]`` read at each request (so settings can change them).

- ``anon`` / ``user``: every API request, per address or per signed-in user, counted per
  fixed window (``_Counted``).
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


class _Counted:
    """A count of requests per fixed window of the rate's duration (the minute or the hour,
    from its multiple of the clock): one integer in the cache, read and written on each
    request. DRF's rate throttles keep the time of every request in a sliding window
    instead, a list read, unpickled, pickled and written whole on each request (up to 3,600
    floats at the default user rate). A fixed window lets a burst of twice the rate across
    a window's end, the usual trade for a counter."""

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        start = self.now - self.now % self.duration
        self.window_end = start + self.duration
        key = f"{self.key}:{int(start)}"
        count = self.cache.get(key, 0) + 1
        self.cache.set(key, count, self.duration)
        return count <= self.num_requests

    def wait(self):
        """Seconds until the window ends (the Retry-After of a 429)."""
        return max(self.window_end - self.now, 0)


class AnonThrottle(_Counted, _Rates, AnonRateThrottle):
    pass


class UserThrottle(_Counted, _Rates, UserRateThrottle):
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
