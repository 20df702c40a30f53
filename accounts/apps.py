from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_groups(sender, app_config=None, using="default", apps=None, **kwargs):
    """After a migrate (or a test flush), once every app's permissions exist, bring the
    access groups in line with ``accounts.groups.GROUPS``."""
    from django.apps import apps as global_apps

    from .groups import sync_groups

    with_models = [a for a in global_apps.get_app_configs() if a.models_module is not None]
    if not with_models or sender.label != with_models[-1].label:
        return
    sync_groups(global_apps)


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        post_migrate.connect(_sync_groups, dispatch_uid="accounts-sync-groups")
