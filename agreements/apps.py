from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _repair_sqlite_fts(sender, using="default", **kwargs):
    """After every ``migrate``: a SQLite table that a later migration rebuilt has lost the
    triggers that keep its FTS5 table in step; make them again (and re-index)."""
    from django.db import connections

    from .search import install_sqlite_fts

    install_sqlite_fts(connections[using], only_repair=True)


class AgreementsConfig(AppConfig):
    name = "agreements"
    verbose_name = "Agreements"

    def ready(self):
        from partners.signals import nation_existence_changed

        from .services.acts import rebuild_periods_of_nation

        # Derived data only (history is written by the services themselves).
        nation_existence_changed.connect(
            rebuild_periods_of_nation, dispatch_uid="agreements.rebuild_periods_of_nation"
        )
        post_migrate.connect(_repair_sqlite_fts, sender=self)
