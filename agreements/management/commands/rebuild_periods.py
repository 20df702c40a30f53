"""Recompute the stored party periods from the acts (``agreements.party_acts``): after the
dates a former state existed change in the reference data, say. The write path keeps them
in step otherwise; a second run changes nothing."""

from django.core.management.base import BaseCommand
from django.db.models import Q

from agreements.models import Agreement
from agreements.services.acts import rebuild_periods_locked


class Command(BaseCommand):
    help = "Recompute every party's status periods from its acts."

    def add_arguments(self, parser):
        parser.add_argument(
            "--former-states",
            action="store_true",
            help="Only agreements with a party nation whose existence has dates.",
        )

    def handle(self, *args, former_states=False, **options):
        agreements = Agreement.objects.order_by("pk")
        if former_states:
            # Former states, and any nation with existence dates (or whose dates went: a
            # former state keeps its flag).
            dated = (
                Q(parties__nation__valid_to__isnull=False)
                | Q(parties__nation__valid_from__isnull=False)
                | Q(parties__nation__is_historical=True)
            )
            agreements = agreements.filter(dated).distinct()
        changed = total = 0
        for pk in agreements.values_list("pk", flat=True).iterator(chunk_size=500):
            changed += rebuild_periods_locked(pk)
            total += 1
        self.stdout.write(f"Party periods: {changed} of {total} agreements changed.")
