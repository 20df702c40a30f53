"""The one write path of the agreement aggregate: an agreement, its parties, provisions,
events, watchers and reviews change only through these functions.

The admin, the API, the import, the lifecycle and the commands hand them validated or raw
data; they check every rule (each error keyed by field, ``parties[1].withdrawn_on`` for a
nested row), write, bump the version once per write and record what changed, themselves,
in one insert (``history.recorder``). Nothing is written unless everything is valid.
"""

from history.versioning import StaleVersion, version_seen_by

from .agreements import AgreementBatch, agreement_delete, agreement_save
from .children import (
    event_record,
    party_acts_save,
    provision_delete,
    provision_save,
    review_delete,
    review_record,
    review_update,
)
from .common import (
    AGREEMENT_FIELDS,
    EVENT_FIELDS,
    LINKS,
    PARTY_FIELDS,
    PROVISION_FIELDS,
    REVIEW_FIELDS,
    check_clearance,
    coerce_fields,
)
from .plan import generate_reference, party_set_errors, resolve_links

__all__ = [
    "AGREEMENT_FIELDS",
    "AgreementBatch",
    "EVENT_FIELDS",
    "LINKS",
    "PARTY_FIELDS",
    "PROVISION_FIELDS",
    "REVIEW_FIELDS",
    "StaleVersion",
    "agreement_delete",
    "agreement_save",
    "check_clearance",
    "coerce_fields",
    "event_record",
    "generate_reference",
    "party_acts_save",
    "party_set_errors",
    "provision_delete",
    "provision_save",
    "resolve_links",
    "review_delete",
    "review_record",
    "review_update",
    "version_seen_by",
]
