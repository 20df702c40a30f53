"""The registry's admin site: every admin on it refuses tampered list parameters
(``SafeAdminSite``), "Recent actions" is kept within clearance, and registry admins have the
registry check (``/admin/check-registry/``)."""

from django.apps import apps
from django.contrib.admin import ModelAdmin
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import CharField, Q
from django.db.models.functions import Cast
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from agreements.registry_check import TITLES, registry_findings
from agreements.selectors import has_clearance_rule, rows_visible_to
from config.admin_access import RegistryAdminMixin
from config.admin_widgets import SafeAdminSite


class RegistryAdminSite(SafeAdminSite):
    def register(self, model_or_iterable, admin_class=None, **options):
        """Third-party admins (django-axes' logs) get the registry's rules too."""
        admin_class = admin_class or ModelAdmin
        if not issubclass(admin_class, RegistryAdminMixin):
            admin_class = type(
                admin_class.__name__,
                (RegistryAdminMixin, admin_class),
                {"__module__": admin_class.__module__},
            )
        return super().register(model_or_iterable, admin_class, **options)

    def get_log_entries(self, request):
        """The admin log (the index's "Recent actions") without the entries about records
        the user may not see now: a change made before the record was raised above their
        clearance, or since deleted, is not named."""
        entries = super().get_log_entries(request)
        if request.user.is_superuser:
            return entries
        for model in apps.get_models(include_auto_created=True):
            if not has_clearance_rule(model):
                continue
            content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
            visible = (
                rows_visible_to(model._default_manager.all(), request.user)
                .annotate(log_id=Cast("pk", CharField()))
                .values("log_id")
            )
            entries = entries.filter(~Q(content_type=content_type) | Q(object_id__in=visible))
        return entries

    # The registry check ---------------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "check-registry/",
                self.admin_view(require_GET(self.registry_check)),
                name="check_registry",
            ),
            *super().get_urls(),
        ]

    def registry_check(self, request):
        """The inconsistencies ``agreements.registry_check`` finds, grouped by check, each
        linking to the record to correct. Like every admin page: staff only (others go to the
        sign-in page), then the ``check_registry`` permission (registry admins; 403 without
        it). Only findings about agreements within the viewer's clearance are shown or
        counted (an organization's, when it is a party to one of them)."""
        if not request.user.has_perm("agreements.check_registry"):
            raise PermissionDenied
        today = timezone.localdate()
        findings = registry_findings(today, viewer=request.user)
        checks = [
            (code, title, [f for f in findings if f.code == code]) for code, title in TITLES.items()
        ]
        context = {
            **self.each_context(request),
            "title": "Registry check",
            "today": today,
            "checks": checks,
            "count": len(findings),
        }
        return TemplateResponse(request, "admin/check_registry.html", context)
