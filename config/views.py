from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.contrib.contenttypes.views import shortcut
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404, JsonResponse
from django.views import defaults
from django.views.decorators.http import require_GET

from .celery import app as celery_app


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        return f"error: {exc.__class__.__name__}"
    return "ok"


def _broker() -> str:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # noqa: BLE001
        return f"error: {exc.__class__.__name__}"
    return "ok"


@require_GET
def health(request):
    """Reports whether the database and the broker answer. Open to anyone: it reveals no
    records. 200 when both answer, 503 otherwise."""
    checks = {"database": _database(), "broker": _broker()}
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503
    )


def server_error(request, template_name=defaults.ERROR_500_TEMPLATE_NAME):
    """A 500 under /api/ is JSON like every other API answer; elsewhere the registry's page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Server error."}, status=500)
    return defaults.server_error(request, template_name)


def view_on_site(request, content_type_id, object_id):
    """The admin's "view on site" link with the clearance rule: a record above the user's
    clearance is a 404, exactly like a missing one. (Django's own redirects to any record
    that exists, which tells whether a hidden id exists.)"""
    try:
        model = ContentType.objects.get_for_id(int(content_type_id)).model_class()
        queryset = model._default_manager.all() if model is not None else None
        hides = queryset is not None and hasattr(queryset, "visible_to")
        if hides and not queryset.visible_to(request.user).filter(pk=object_id).exists():
            raise Http404("No such record.")
    except (ContentType.DoesNotExist, ValueError, TypeError, OverflowError, ValidationError):
        raise Http404("No such record.") from None
    return shortcut(request, content_type_id, object_id)


def autocomplete(request):
    """The admin's autocomplete, with the NUL bytes taken out of the search term: PostgreSQL
    cannot compare text with one, and the lookup failed (a 500)."""
    term = request.GET.get("term", "")
    if "\x00" in term:
        request.GET = request.GET.copy()
        request.GET["term"] = term.replace("\x00", "")
    return admin.site.autocomplete_view(request)
