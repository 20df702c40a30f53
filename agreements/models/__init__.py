"""The agreements app's models, by sub-domain: ``agreements`` (an agreement, the due-date
rule), ``common`` (its queryset, search index helpers), ``parties``, ``provisions``,
``reviews`` (reviews and the timeline's events), ``reminders`` (delivered reminders) and
``search`` (what the full-text search reads). Import them from here."""

from .agreements import Agreement
from .common import (
    DATE_VALIDATORS,
    DUE_DATE_RULES,
    MAX_PERIOD_DAYS,
    MAX_PERIOD_MONTHS,
    SEARCH_CONFIG,
    AgreementQuerySet,
    DueDateRule,
    SearchIndex,
)
from .parties import AgreementParty, PartyAct, PartyPeriod
from .provisions import PROVISION_VECTOR, Provision, ProvisionQuerySet, provision_vector
from .reminders import Reminder
from .reviews import AgreementEvent, Review
from .search import AgreementSearchDocument, AgreementSearchIndexRow

__all__ = [
    "DATE_VALIDATORS",
    "DUE_DATE_RULES",
    "MAX_PERIOD_DAYS",
    "MAX_PERIOD_MONTHS",
    "SEARCH_CONFIG",
    "Agreement",
    "AgreementEvent",
    "AgreementParty",
    "AgreementQuerySet",
    "AgreementSearchDocument",
    "AgreementSearchIndexRow",
    "DueDateRule",
    "PartyAct",
    "PartyPeriod",
    "Provision",
    "ProvisionQuerySet",
    "Reminder",
    "Review",
    "PROVISION_VECTOR",
    "SearchIndex",
    "provision_vector",
]
