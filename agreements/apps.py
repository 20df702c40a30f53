from django.apps import AppConfig


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
