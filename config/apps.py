from django.contrib.admin.apps import AdminConfig


class RegistryAdminConfig(AdminConfig):
    """Installed in place of ``django.contrib.admin`` so that ``admin.site`` is the
    registry's own site (``config.admin_site``)."""

    default_site = "config.admin_site.RegistryAdminSite"
