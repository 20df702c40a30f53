"""Reads shared by the API, the pages, the calendar feed and the reminders.

Every function takes the user and applies the clearance rule through ``visible_to``."""

from __future__ import annotations

import datetime
import functools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    prefetch_related_objects,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from accounts.choices import Classification
from accounts.groups import REGISTRY_ADMINS
from history.models import ChangeRecord
from partners.models import PointOfContact

from .choices import ReminderKind
from .models import DUE_DATE_RULES, Agreement, AgreementParty, PartyPeriod, Provision, Reminder
from .statements import Statement

# The permission to read agreements, and the backend that holds it (groups, users).
READ_PERMISSION = "agreements.view_agreement"
PERMISSION_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _classified_links(model) -> list[str]:
    """The foreign keys of ``model`` to a classified record, one whose queryset has
    ``visible_to`` (an agreement for a party, a review, a watcher row; an agreement or an
    engagement for a reminder)."""
    return [
        field.name
        for field in model._meta.concrete_fields
        if field.many_to_one and hasattr(field.related_model._default_manager.all(), "visible_to")
    ]


def has_clearance_rule(model) -> bool:
    """Whether some rows of ``model`` may be out of a user's reach."""
    return hasattr(model._default_manager.all(), "visible_to") or bool(_classified_links(model))


def rows_visible_to(queryset: QuerySet, user) -> QuerySet:
    """The rows of ``queryset``, of any model, that ``user`` may see: the model's own
    ``visible_to`` when it has one; for a record that belongs to an agreement (a party, a
    review, an event, a reminder, a watcher row) or to another classified record (a reminder
    about an engagement), that record's; any other row is visible."""
    if hasattr(queryset, "visible_to"):
        return queryset.visible_to(user)
    for name in _classified_links(queryset.model):
        related = queryset.model._meta.get_field(name).related_model
        within = Q(**{f"{name}__in": related._default_manager.visible_to(user)})
        if queryset.model._meta.get_field(name).null:
            # A row about something else (a reminder about a posting) keeps that one's rule.
            within |= Q(**{f"{name}__isnull": True})
        queryset = queryset.filter(within)
    return queryset


def users_with_read_permission() -> QuerySet:
    """Active users holding the read permission: through a group, directly, or as
    superusers."""
    return get_user_model().objects.with_perm(READ_PERMISSION, backend=PERMISSION_BACKEND)


def readers_among(users, classification: str, *, permitted: set[int] | None = None) -> list:
    """Those of ``users`` who may read an agreement of ``classification``: active, holding
    the read permission and cleared for it. The one rule for who is told about an agreement
    (reminders) and who may be named on it (owner, watchers, reviewer). ``permitted``: the
    ids of the users holding the permission, when already looked up (the reminder sweep
    does it once for all agreements)."""
    users = [user for user in users if user is not None]
    if permitted is None:
        ids = [user.pk for user in users]
        permitted = set(
            users_with_read_permission().filter(pk__in=ids).values_list("pk", flat=True)
        )
    return [user for user in users if user.pk in permitted and user.is_cleared_for(classification)]


def not_readers_message(users, classification: str) -> str:
    names = ", ".join(sorted(user.get_username() for user in users))
    label = Classification(classification).label
    return (
        f"Not allowed to read this {label} agreement (a person named on it needs the read "
        f"permission and clearance for {label}): {names}."
    )


CONTACT_PERMISSION = "partners.view_pointofcontact"


def changes_for(user, records: QuerySet[ChangeRecord] | None = None) -> QuerySet[ChangeRecord]:
    """The change records (``records``: all) that ``user`` may read, ready to show: within
    clearance, and a point of contact's only for those who may view contacts (the search
    and the API leave contacts out for the others)."""
    records = (ChangeRecord.objects.all() if records is None else records).visible_to(user)
    if not user.has_perm(CONTACT_PERMISSION):
        contact = ContentType.objects.get_for_model(PointOfContact)
        records = records.exclude(changed_object_type=contact)
    return records.for_display()


def agreement_prefetches(user, *, provision_text: bool = False) -> list[Prefetch]:
    """What every agreement list and page shows besides the agreement: its parties and the
    provisions the user may see (``visible_provisions``). A list shows only the provisions'
    categories, so only those are read (not their text or search vector) unless
    ``provision_text`` (an agreement's own page and detail)."""
    provisions = Provision.objects.visible_to(user)
    if not provision_text:
        provisions = provisions.only("id", "agreement_id", "category")
    return [
        Prefetch(
            "parties",
            queryset=AgreementParty.objects.select_related("nation", "organization"),
        ),
        Prefetch("provisions", queryset=provisions, to_attr="visible_provisions"),
    ]


def agreements_for(user) -> QuerySet[Agreement]:
    """Agreements the user may see, with parties and visible provisions fetched up front."""
    return Agreement.objects.visible_to(user).prefetch_related(*agreement_prefetches(user))


def _parties_of(ids, user, today):
    return (
        AgreementParty.objects.filter(agreement_id__in=ids)
        .order_by("agreement_id", "id")
        .values(
            "agreement_id",
            "nation_id",
            "nation__iso3",
            "nation__name",
            "organization__acronym",
            "organization__name",
        )
    )


def _categories_of(ids, user, today):
    return (
        Provision.objects.of_visible_agreements(user)
        .filter(agreement_id__in=ids)
        .order_by()
        .values("agreement_id", "category")
        .distinct()
    )


_PARTIES_OF = Statement(_parties_of, by_levels=False)
_CATEGORIES_OF = Statement(_categories_of)


def parties_by_agreement(ids) -> dict[int, list[tuple[str, str, str]]]:
    """{agreement id: its parties as (code, name, kind), in the parties' order} for the
    agreements ``ids``, in one flat query (no model instances; compiled once: ``Statement``):
    what a list row or an export line shows of them."""
    parties = defaultdict(list)
    for agreement_id, nation_id, iso3, nation_name, acronym, name in _PARTIES_OF.tuples_of(ids):
        if nation_id:
            parties[agreement_id].append((iso3, nation_name, "nation"))
        else:
            parties[agreement_id].append((acronym or "", name or "", "organization"))
    return parties


def visible_categories_by_agreement(ids, user) -> dict[int, set[str]]:
    """{agreement id: the categories of its provisions ``user`` may see}, one flat query
    (compiled once per level). ``ids``: agreements read through
    ``Agreement.objects.visible_to(user)``."""
    categories = defaultdict(set)
    for agreement_id, category in _CATEGORIES_OF.tuples_of(ids, user):
        categories[agreement_id].add(category)
    return categories


def _related_model(lookup: str):
    model = Agreement
    for name in lookup.split("__"):
        model = model._meta.get_field(name).related_model
    return model


@functools.cache
def has_rows_sql(lookup: str, vendor: str) -> str:
    """``EXISTS (…)``: whether the agreement of the outer query has a row at the end of
    ``lookup`` (``reviews``, ``watchers``, ``parties__acts``…): a join of the tables on the
    way, by their indexed foreign keys. Written once per lookup (compiling the same thing
    through the ORM on every request cost more than the round trips it saves)."""
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    model, tables, where = Agreement, [], ""
    previous = quote(Agreement._meta.db_table)
    for step, name in enumerate(lookup.split("__")):
        field = model._meta.get_field(name)
        alias = quote(f"has_{step}")
        if field.many_to_many and not field.auto_created and not step:  # watchers, contacts
            table, column = field.m2m_db_table(), field.m2m_column_name()
            target = Agreement._meta.pk.column
        elif field.many_to_many and not step:  # a reverse many-to-many: engagements
            table, column = field.field.m2m_db_table(), field.field.m2m_reverse_name()
            target = Agreement._meta.pk.column
        elif field.one_to_many:  # a reverse foreign key: Agreement.parties, Party.acts
            table, column = field.related_model._meta.db_table, field.field.column
            target = field.field.target_field.column
        else:  # a programming error, never a 404 (get_object turns ValueError into one)
            raise ImproperlyConfigured(f"{lookup}: {name} is not a relation to many rows")
        model = field.related_model
        condition = f"{alias}.{quote(column)} = {previous}.{quote(target)}"
        previous = alias
        if step:
            tables.append(f"JOIN {quote(table)} {alias} ON {condition}")
        else:
            tables.append(f"{quote(table)} {alias}")
            where = condition
    return f"EXISTS (SELECT 1 FROM {' '.join(tables)} WHERE {where})"


@dataclass(frozen=True)
class Later:
    """A ``Prefetch`` for ``one_with_related`` whose queryset (``make()``) is built only when
    the relation has rows: for a queryset that costs something to build (one with the
    clearance rule of its own rows)."""

    prefetch_through: str
    make: Callable[[], QuerySet]
    to_attr: str | None = None

    def prefetch(self) -> Prefetch:
        return Prefetch(self.prefetch_through, queryset=self.make(), to_attr=self.to_attr)


def one_with_related(queryset: QuerySet[Agreement], related, **lookup) -> Agreement:
    """The one agreement of ``queryset`` matching ``lookup`` (``Agreement.DoesNotExist``
    otherwise) with the ``related`` lookups (names or ``Prefetch``) fetched, in as few round
    trips as the data allows: the agreement's query also says, for each lookup, whether it
    has any row (an ``EXISTS`` each, on indexed foreign keys), and only those that have one
    are fetched, the others set to empty without a query. A page of one agreement with no
    reviews, events, reminders, watchers or contacts costs one query for each relation it
    does have instead of one for every relation it might have."""
    related = [r if isinstance(r, Prefetch | Later) else Prefetch(r) for r in related]
    vendor = connections[DEFAULT_DB_ALIAS].vendor
    flags = {
        f"_has_related_{i}": RawSQL(
            has_rows_sql(r.prefetch_through, vendor), (), output_field=BooleanField()
        )
        for i, r in enumerate(related)
    }
    agreement = queryset.prefetch_related(None).annotate(**flags).get(**lookup)
    fetch, empty = [], []
    for flag, r in zip(flags, related, strict=True):
        (fetch if getattr(agreement, flag) else empty).append(r)
    prefetch_related_objects(
        [agreement], *(r.prefetch() if isinstance(r, Later) else r for r in fetch)
    )
    for r in empty:  # in order: a relation's parents are set before it
        _set_empty([agreement], r)
    return agreement


@functools.cache
def _prefetch_cache_name(model, name: str) -> str:
    """Where Django's prefetch keeps the rows of ``model.name`` (its related manager reads
    them there): a forward many-to-many by the field's name, a reverse one by its query
    name, a reverse foreign key by its accessor."""
    field = model._meta.get_field(name)
    if field.many_to_many and not field.auto_created:
        return field.name
    if field.many_to_many:
        return field.field.related_query_name()
    return field.accessor_name


def _set_empty(instances, prefetch: Prefetch) -> None:
    """Record the relation of ``prefetch`` as fetched and empty on ``instances`` (or on
    their children on the way, already fetched), as ``prefetch_related_objects`` would
    after a query that found nothing, without building or compiling one: an empty
    queryset (any further filter on it stays empty) or an empty list for a ``to_attr``."""
    *path, last = prefetch.prefetch_through.split("__")
    for name in path:
        instances = [child for obj in instances for child in getattr(obj, name).all()]
    model = _related_model(prefetch.prefetch_through)
    for obj in instances:
        if prefetch.to_attr:
            setattr(obj, prefetch.to_attr, [])
            continue
        rows = model._default_manager.none()
        rows._result_cache, rows._prefetch_done = [], True
        cache = obj.__dict__.setdefault("_prefetched_objects_cache", {})
        cache[_prefetch_cache_name(type(obj), last)] = rows


# Agreements in force with a partner --------------------------------------------------------
#
# One rule for the nation and organization lists, the search page and the maps: an agreement
# counts for a partner on a day when the user may see it, it is in force that day
# (``in_force_on``) and the partner is a party bound by it that day (its own acts, stored as
# periods): the agreements the list shows for ``?party=CODE&in_force_on=DAY``.


def _bound_periods(user, day: datetime.date) -> QuerySet[PartyPeriod]:
    in_force = Agreement.objects.visible_to(user).in_force_on(day)
    return PartyPeriod.objects.bound_on(day).filter(agreement__in=in_force.values("pk"))


def in_force_count(user, kind: str, day: datetime.date | None = None):
    """An expression for ``annotate``: for each nation (``kind`` "nation") or organization
    of the outer query, the number of agreements in force with it on ``day`` (today) that
    ``user`` may see. One subquery, whatever the number of rows."""
    day = day or timezone.localdate()
    counts = (
        _bound_periods(user, day)
        .filter(**{f"party__{kind}": OuterRef("pk")})
        .order_by()
        .values(f"party__{kind}")
        .annotate(n=Count("agreement", distinct=True))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), 0)


def in_force_counts_by_nation(
    user, day: datetime.date | None = None, *, with_nation=None
) -> dict[str, int]:
    """{ISO alpha-3: number of agreements in force on ``day`` with that nation} for every
    nation with at least one, in one query. ``with_nation``: only the agreements that nation
    is also bound by, the nation itself left out (its partners)."""
    day = day or timezone.localdate()
    periods = _bound_periods(user, day).filter(party__nation__isnull=False)
    if with_nation is not None:
        shared = PartyPeriod.objects.bound_on(day).filter(party__nation=with_nation)
        periods = periods.filter(agreement__in=shared.values("agreement")).exclude(
            party__nation=with_nation
        )
    rows = (
        periods.order_by()
        .values_list("party__nation__iso3")
        .annotate(n=Count("agreement", distinct=True))
    )
    return dict(rows)


@dataclass(frozen=True)
class Deadline:
    kind: str  # a ReminderKind value
    due_on: datetime.date
    agreement: Agreement

    @property
    def days_left(self) -> int:
        return (self.due_on - timezone.localdate()).days

    @property
    def label(self) -> str:
        return ReminderKind(self.kind).label


# What a deadline shows of its agreement (reference, titles, its page) and what the due-date
# rule reads (status, the dates, what makes a date moot): every other column stays in the
# database, and nothing is prefetched.
DEADLINE_FIELDS = tuple(
    dict.fromkeys(
        ["id", "reference", "title", "short_title", "status"]
        + [rule.field for rule in DUE_DATE_RULES]
        + [rule.moot_once for rule in DUE_DATE_RULES if rule.moot_once]
    )
)


class DeadlineAgreement(NamedTuple):
    """What a deadline shows of its agreement, read as a tuple: no model instance per row.
    Its due dates are ``Agreement.due_dates()``'s, the one rule."""

    id: int
    reference: str
    title: str
    short_title: str
    status: str
    expires_on: datetime.date | None
    notice_deadline: datetime.date | None
    next_review_on: datetime.date | None
    notice_given_on: datetime.date | None

    @property
    def pk(self) -> int:
        return self.id

    def get_absolute_url(self) -> str:
        return reverse("agreements:detail", args=[self.id])

    def due_dates(self) -> dict[str, datetime.date]:
        return Agreement.due_dates(self)


def deadlines_for(
    user, *, within: int, today: datetime.date | None = None, with_parties: bool = False
) -> list[Deadline]:
    """The due dates (``Agreement.due_dates()``) from today up to ``within`` days ahead
    across the agreements ``user`` may see, soonest first, in one query whatever the number
    of agreements. Each deadline's agreement is a ``DeadlineAgreement`` (its
    ``DEADLINE_FIELDS``) or, with ``with_parties`` (the deadlines page shows them), an
    ``Agreement`` holding only those fields with its parties (one more query)."""
    today = today or timezone.localdate()
    end = today + datetime.timedelta(days=within)
    candidates = Agreement.objects.visible_to(user).due_between(today, end)
    if with_parties:
        candidates = candidates.only(*DEADLINE_FIELDS).prefetch_related(
            Prefetch(
                "parties",
                queryset=AgreementParty.objects.select_related("nation", "organization"),
            )
        )
    else:  # no model instances: rows as tuples
        candidates = map(DeadlineAgreement._make, candidates.values_list(*DEADLINE_FIELDS))
    deadlines = [
        Deadline(kind, due_on, agreement)
        for agreement in candidates
        for kind, due_on in agreement.due_dates().items()
        if today <= due_on <= end
    ]
    deadlines.sort(key=lambda d: (d.due_on, d.kind, d.agreement.reference))
    return deadlines


def sees_every_reminder(user) -> bool:
    """Registry admins (with the permission) and superusers see every reminder."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return (
        user.has_perm("agreements.view_reminder")
        and user.groups.filter(name=REGISTRY_ADMINS).exists()
    )


def reminders_for(user, *, every: bool | None = None) -> QuerySet[Reminder]:
    """The reminders sent to ``user`` (by account or email address), or every reminder for a
    registry admin; always only reminders of agreements and engagements the user may see (and
    those about postings, which carry no classification: ``rows_visible_to``). Whether the
    user is a registry admin (``sees_every_reminder``) is asked inside the reminders' own
    query, not in one of its own."""
    reminders = rows_visible_to(Reminder.objects.all(), user)
    if every is None and user.is_authenticated and user.is_superuser:
        every = True
    if every is None and not user.has_perm("agreements.view_reminder"):
        every = False
    if not every:
        own = Q(recipient_user=user)
        if user.email:
            own |= Q(recipient__iexact=user.email)
        if every is None:  # holds the permission: a registry admin sees every reminder
            own |= Q(Exists(user.groups.filter(name=REGISTRY_ADMINS)))
        reminders = reminders.filter(own)
    return reminders
