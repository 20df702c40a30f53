"""Links between the browser pages that more than one app draws."""

from __future__ import annotations

from django.urls import reverse
from django.utils.http import urlencode


def list_url(**params) -> str:
    """The agreement list filtered by ``params`` (the same names the API takes)."""
    return f"{reverse('agreements:list')}?{urlencode(params)}"


def engagement_list_url(**params) -> str:
    """The engagement list filtered by ``params`` (the same names the API takes)."""
    url = reverse("engagements:list")
    return f"{url}?{urlencode(params)}" if params else url
