"""The agreements app's models, by sub-domain: ``agreements`` (an agreement, its parties and
provisions, querysets, search index helpers, the due-date rule), ``reviews`` (reviews and the
timeline's events) and ``reminders`` (delivered reminders). Import them from here."""

from .agreements import (
    DATE_VALIDATORS,
    DUE_DATE_RULES,
    MAX_PERIOD_DAYS,
    MAX_PERIOD_MONTHS,
    SEARCH_CONFIG,
    Agreement,
    AgreementParty,
    AgreementQuerySet,
    DueDateRule,
    Provision,
    ProvisionQuerySet,
    SearchIndex,
)
from .reminders import Reminder
from .reviews import AgreementEvent, Review

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
    "DueDateRule",
    "Provision",
    "ProvisionQuerySet",
    "Reminder",
    "Review",
    "SearchIndex",
]
