"""Writes for accounts: the personal calendar feed token."""

from __future__ import annotations

import secrets

from django.db import transaction

from .models import CalendarToken, User


@transaction.atomic
def calendar_token_regenerate(*, user: User) -> CalendarToken:
    """Give ``user`` a new feed token; any earlier feed URL stops working."""
    CalendarToken.objects.filter(user=user).delete()
    return CalendarToken.objects.create(user=user, key=secrets.token_urlsafe(32))


def calendar_token_revoke(*, user: User) -> None:
    """Remove ``user``'s feed token: the feed URL answers 404 from now on."""
    CalendarToken.objects.filter(user=user).delete()
