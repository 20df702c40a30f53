"""Sign-in: the login page with its throttles, and what a locked-out client is told."""

from __future__ import annotations

import math

from axes.helpers import get_cool_off
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render

from config.throttling import first_refusal, submitted_username


def _minutes(seconds: float) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def lockout_seconds(request=None) -> int:
    cool_off = get_cool_off(request)
    return int(cool_off.total_seconds()) if cool_off else 0


def lockout_message(request=None) -> str:
    seconds = lockout_seconds(request)
    reason = (
        "Too many failed sign-in attempts for this username from your address, "
        "so signing in is locked."
    )
    if seconds:
        return f"{reason} Try again in {_minutes(seconds)}, or ask an administrator to unlock it."
    return f"{reason} Ask an administrator to unlock it."


def _login_page(request, message: str, wait: int) -> HttpResponse:
    form = AuthenticationForm(request, initial={"username": submitted_username(request)})
    response = render(
        request,
        "registration/login.html",
        {"form": form, "refusal": message, "next": request.POST.get("next", "")},
        status=429,
    )
    if wait:
        response["Retry-After"] = str(wait)
    return response


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """django-axes' answer to a locked-out username+address (``AXES_LOCKOUT_CALLABLE``):
    the login page with the reason, or JSON under /api/; 429 with ``Retry-After``."""
    message, wait = lockout_message(request), lockout_seconds(request)
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=429)
        if wait:
            response["Retry-After"] = str(wait)
        return response
    return _login_page(request, message, wait)


class SignInView(auth_views.LoginView):
    """Django's login view, with sign-in POSTs throttled per address and per username."""

    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        refused = first_refusal(request, self)
        if refused is not None:
            wait = math.ceil(refused.wait() or 0)
            return _login_page(request, f"{refused.message} Try again in {_minutes(wait)}.", wait)
        return super().post(request, *args, **kwargs)
