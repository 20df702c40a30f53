"""What other apps may need to know about a partner change, without partners knowing them
(partners never imports agreements). Sent by ``partners.services`` inside its transaction."""

from django.dispatch import Signal

# A nation's ``valid_from`` or ``valid_to`` changed (args: ``nation``). Agreements store
# derived periods that end with a state's existence (``agreements.party_acts.within``).
nation_existence_changed = Signal()
