"""The registry's admin site: every admin on it refuses tampered list parameters
(``SafeAdminSite``), and "Recent actions" is kept within clearance."""

from django.apps import apps
from django.contrib.admin import ModelAdmin
from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Q
from django.db.models.functions import Cast

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
