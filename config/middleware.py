"""Middleware of the whole site."""

from __future__ import annotations

from urllib.parse import unquote_plus

from django.http import HttpResponseBadRequest, JsonResponse

NUL_MESSAGE = "The address contains a NUL byte (%00), which no address here can hold."


def refuse_nul_bytes(get_response):
    """A NUL byte in the path or the query string is a 400 before any view runs.

    No record's key or text holds one, and PostgreSQL refuses NUL in text outright, so a
    lookup with one would be a database error (a 500) rather than a 404. API addresses get
    the API's JSON error shape."""

    def middleware(request):
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or "\x00" in unquote_plus(query):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": NUL_MESSAGE}, status=400)
            return HttpResponseBadRequest(NUL_MESSAGE, content_type="text/plain; charset=utf-8")
        return get_response(request)

    return middleware
