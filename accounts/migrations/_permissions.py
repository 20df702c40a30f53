from django.contrib.auth.management import create_permissions


def create_all_permissions(apps) -> None:
    """Permissions are normally created after all migrations; create them now."""
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
