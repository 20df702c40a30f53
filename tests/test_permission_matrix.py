"""The permission matrix: every route × every persona × records at every classification.

The routes are generated from the URL configuration (``get_resolver()``, the admin's and the
DRF routers' URLs included), so a new route is covered without anyone adding it here. Each
URL parameter is filled with the ids or codes of records planted once for the module, at
every classification, plus a missing id (and a NUL byte where the converter lets one
through). A route the generator cannot fill, or whose guard it does not know, fails naming
it: extend PARAMETER_KINDS, ADMIN_MODEL_KINDS or GUARDS below. Every change-list action of
every admin is probed with a selection of hidden and missing ids (with each of its pages'
answers: ACTION_FORMS); an action missing there fails test_every_admin_action_is_probed.

For every (route, persona, record) the test asserts:

- the status: anonymous and inactive users are sent to the login page (pages, admin) or get
  401 (API); a signed-in user without the permission gets 403, 404 or the admin's login,
  never content; a record above the persona's clearance is answered exactly like a missing
  id (same status, same body once the id is blanked out); otherwise the route's normal status;
- no sentinel word of a classification above the persona's clearance anywhere in the answer,
  headers included (HTML, JSON, CSV, iCalendar); a persona who may read nothing sees none;
- writes (POST/PUT/PATCH/DELETE) on, or naming, a record above the persona's clearance
  answer exactly like a missing id and change nothing (versions, rows and counts compared).

Each request runs in a savepoint that is rolled back, so a write that wrongly succeeds
cannot spoil the next request.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
import urllib.parse
from collections import Counter
from contextlib import nullcontext

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django.utils import timezone
from django.utils.regex_helper import normalize
from rest_framework.authtoken.models import Token

from accounts.choices import Classification
from accounts.groups import ANALYSTS, EDITORS, POLICY_STAFF, REGISTRY_ADMINS
from accounts.models import CalendarToken, User
from agreements.models import (
    Agreement,
    AgreementEvent,
    AgreementParty,
    Provision,
    Reminder,
    Review,
)
from agreements.services import agreement_save
from agreements.services.acts import rebuild_periods
from config.filters import ModelIdsFilter
from engagements.models import Engagement, Participation
from engagements.services import engagement_save
from history.models import ChangeRecord
from partners.models import Membership, Nation, Organization, PointOfContact, Posting

from .factories import AgreementFactory, NationFactory, OrganizationFactory, ProvisionFactory
from .formscrape import form_data

# Marks the tests as using the database, so that it is set up; each test then runs in a
# savepoint inside the module's transaction (see the ``world`` fixture).
pytestmark = pytest.mark.django_db

LEVELS = list(Classification.values)  # unclassified < restricted < confidential < secret
TODAY = datetime.date.today()

# Sentinels ----------------------------------------------------------------------------------
# Every text field of a record at level L carries "SNTL<L><FIELD>" (e.g. SNTLSECRETTITLE),
# and the searchable ones also the bare word "SNTL<L>" (what the search variants look for).
SENTINEL = re.compile(r"SNTL(UNCLASSIFIED|RESTRICTED|CONFIDENTIAL|SECRET)[A-Z0-9]*", re.I)


def word(level: str) -> str:
    return f"SNTL{level.upper()}"


def token(level: str, field: str) -> str:
    return f"{word(level)}{field}"


# Planted records have fixed ids, far from anything a sequence hands out, so that a body can
# be compared with the missing id's once the id is blanked out.
BASE = {
    "agreement": 7_100_000,
    "provision": 7_200_000,
    "review": 7_300_000,
    "event": 7_400_000,
    "reminder": 7_500_000,
    "changerecord": 7_600_000,
    "party": 7_700_000,
    "user": 7_800_000,
    "group": 7_900_000,
    "nation": 7_910_000,
    "organization": 7_920_000,
    "contact": 7_930_000,
    "engagement": 7_940_000,
}
MISSING_ID = 7_099_999  # no record of any kind has it
RANK = {level: n for n, level in enumerate(LEVELS, start=1)}


def pk(kind: str, n: int) -> int:
    return BASE[kind] + n


# Personas -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Persona:
    name: str
    group: str | None = None
    clearance: str | None = None
    staff: bool = False
    active: bool = True

    @property
    def anonymous(self) -> bool:
        return self.clearance is None

    @property
    def signed_in(self) -> bool:
        """Authenticated on a request (an inactive user's session and token do not count)."""
        return not self.anonymous and self.active

    @property
    def admin_user(self) -> bool:
        return self.signed_in and self.staff

    def sees(self, level: str | None) -> bool:
        """Within this persona's clearance (permissions aside)."""
        return (
            level is not None
            and self.signed_in
            and Classification.rank(level) <= Classification.rank(self.clearance)
        )


PERSONAS = [
    Persona("anonymous"),
    Persona("inactive_editor_secret", EDITORS, "secret", staff=True, active=False),
    Persona("no_group_secret", None, "secret"),
    Persona("staff_no_group_unclassified", None, "unclassified", staff=True),
    Persona("policy_unclassified", POLICY_STAFF, "unclassified"),
    Persona("policy_restricted", POLICY_STAFF, "restricted"),
    Persona("analyst_confidential", ANALYSTS, "confidential"),
    Persona("analyst_secret", ANALYSTS, "secret"),
    Persona("editor_restricted", EDITORS, "restricted", staff=True),
    Persona("editor_confidential", EDITORS, "confidential", staff=True),
    Persona("registrar_confidential", REGISTRY_ADMINS, "confidential", staff=True),
    Persona("registrar_secret", REGISTRY_ADMINS, "secret", staff=True),
]
PERSONA_IDS = [p.name for p in PERSONAS]
USER_PK = {p.name: pk("user", n) for n, p in enumerate(PERSONAS) if not p.anonymous}

# How URL parameters are filled ----------------------------------------------------------------
# A parameter is filled with the planted records of one kind (see World.variants): looked up
# by (URL name, parameter), then by the parameter alone. Admin object ids are filled by the
# admin's model (ADMIN_MODEL_KINDS). Extend these when a new route fails as "cannot fill".
PARAMETER_KINDS = {
    ("agreements:detail", "pk"): "agreement",
    ("api:agreement-detail", "pk"): "agreement",
    ("api:point-of-contact-detail", "pk"): "contact",
    ("api:point-of-contact-postings", "pk"): "contact",
    ("api:engagement-detail", "pk"): "engagement",
    ("admin:auth_user_password_change", "id"): "user",
    # The admin's "view on site" takes a content type and an object: one kind fills both.
    ("admin:view_on_site", "content_type_id"): "on_site",
    ("admin:view_on_site", "object_id"): "on_site",
    ("view_on_site", "content_type_id"): "on_site",  # the clearance-aware one (config/urls.py)
    ("view_on_site", "object_id"): "on_site",
    "agreement_pk": "agreement",
    "iso3": "nation",
    "acronym": "organization",
    "key": "calendar_key",  # the persona's own calendar feed key
    "app_label": "app_label",
    "url": "admin_path",  # the admin's catch-all
    "path": "api_path",  # the API's catch-all
}
ADMIN_MODEL_KINDS = {
    "agreements.agreement": "agreement",
    "agreements.provision": "provision",
    "agreements.review": "review",
    "agreements.reminder": "reminder",
    "agreements.agreementparty": "party",
    "history.changerecord": "changerecord",
    "accounts.user": "user",
    "auth.group": "group",
    "authtoken.tokenproxy": "token",  # the token admin's object id is its user's id
    "partners.nation": "nation_pk",
    "partners.organization": "organization_pk",
    "partners.pointofcontact": "contact",
    "engagements.engagement": "engagement",
    # django-axes' sign-in logs: no record planted, a missing one and a NUL byte only.
    "axes.accessattempt": "axes",
    "axes.accesslog": "axes",
    "axes.accessfailurelog": "axes",
}
# Kinds whose records carry a classification (their own or their agreement's).
CLASSIFIED_MODELS = {
    Agreement: "agreement",
    Provision: "provision",
    Review: "review",
    AgreementEvent: "event",
    Reminder: "reminder",
    ChangeRecord: "changerecord",
    AgreementParty: "party",
    Engagement: "engagement",
}
CLASSIFIED_KINDS = set(CLASSIFIED_MODELS.values()) | {"on_site"}

# Who may use a route ---------------------------------------------------------------------------
# Pages and API routes by URL name (or pattern, when unnamed). Admin routes are worked out
# from the admin's model and the persona's permissions (see expected_admin).
VIEW = "agreements.view_agreement"
GUARDS = {
    "health": ("open", 200),
    "login": ("login_page",),
    "logout": ("open", 405),  # POST only
    "agreements:dashboard": ("page", VIEW),
    "agreements:list": ("page", VIEW),
    "agreements:detail": ("page", VIEW),
    "agreements:deadlines": ("page", VIEW),
    "agreements:calendar_token": ("open", 405),  # POST only
    "agreements:calendar_feed": ("calendar",),
    "partners:nation": ("page", VIEW),
    "partners:organization": ("page", VIEW),
    "partners:nations": ("page", VIEW),
    "partners:organizations": ("page", VIEW),
    "agreements:search": ("page", VIEW),
    "api:agreement-list": ("api", VIEW),
    "api:agreement-detail": ("api", VIEW),
    "api:agreement-export": ("api", VIEW, "agreements.export_agreement"),
    "api:agreement-dyad-years": ("api", VIEW, "agreements.export_agreement"),
    "api:agreement-provisions": ("api", "agreements.view_provision"),
    "api:agreement-reviews": ("api", "agreements.view_review"),
    "api:agreement-history": ("api", "history.view_changerecord"),
    "api:provision-list": ("api", "agreements.view_provision"),
    "api:reminder-list": ("api", "agreements.view_reminder"),
    "api:deadline-list": ("api", VIEW),
    "api:root": ("api_signed_in",),
    "api:statistics": ("api", VIEW, "agreements.view_statistics"),
    "api:nation-list": ("api", "partners.view_nation"),
    "api:nation-detail": ("api", "partners.view_nation"),
    "api:organization-list": ("api", "partners.view_organization"),
    "api:organization-detail": ("api", "partners.view_organization"),
    "api:point-of-contact-list": ("api", "partners.view_pointofcontact"),
    "api:point-of-contact-detail": ("api", "partners.view_pointofcontact"),
    "api:point-of-contact-postings": ("api", "partners.view_pointofcontact"),
    "api:engagement-list": ("api", "engagements.view_engagement"),
    "api:engagement-detail": ("api", "engagements.view_engagement"),
    "api:engagement-export": (
        "api",
        "engagements.view_engagement",
        "engagements.export_engagement",
    ),
    "api:token": ("open", 405),  # POST only
    "api:schema": ("api_signed_in",),
    "api:docs": ("api_signed_in",),
    r"api/v1/^(?P<path>[\s\S]*)$": ("api_unknown",),  # the API catch-all: 401 like the rest
}
# The admin site's own routes (not a model's): the status a staff user with the permission
# gets, or how it is worked out (see expected_admin); ("permission", label): 200 with it, 403
# without.
ADMIN_SITE = {
    "admin:index": 200,
    "admin:password_change": 200,
    "admin:password_change_done": 200,
    "admin:jsi18n": 200,
    "admin:login": "login",
    "admin:logout": "logout",
    "admin:autocomplete": "autocomplete",
    "autocomplete": "autocomplete",  # the one that takes NUL bytes out (config/urls.py)
    "admin:view_on_site": "on_site",
    "view_on_site": "on_site",
    "admin:app_list": "app_list",
    "admin:check_registry": ("permission", "agreements.check_registry"),  # config/admin_site.py
    "admin/login/": 302,  # to the one sign-in page, with its throttles (config/urls.py)
    "admin/(?P<url>.*)$": 404,  # the catch-all
}
# Routes that an earlier one shadows: no URL reaches them (the test checks that it is so).
SHADOWED = {
    "admin:view_on_site": "the clearance-aware view_on_site in config/urls.py",
    "admin:autocomplete": "the autocomplete in config/urls.py",
    "admin:login": "the redirect to the sign-in page in config/urls.py",
}
# Admin models whose admin refuses some actions whatever the permissions.
ADMIN_REFUSES = {
    "agreements.reminder": {"add", "change"},
    "agreements.agreementparty": {"add", "delete"},  # on the agreement's page instead
    "history.changerecord": {"add", "change", "delete"},
}
# Admin history pages that send the reader elsewhere (the agreement's change history).
ADMIN_HISTORY_REDIRECTS = {"agreements.agreement"}
# The POST data each change-list action is probed with, beyond its name and the selection:
# one entry per page it shows (its first page, then the answer to an intermediate page).
ACTION_FORMS = {
    "delete_selected": [{"post": "yes"}],
    "export_csv": [{}],
    "record_review": [
        {},
        {"apply": "yes", "reviewed_on": TODAY.isoformat(), "outcome": "continue", "notes": "x"},
    ],
    # django-axes': it ignores the selection (it deletes every expired sign-in attempt,
    # records without a classification), so there is nothing to probe.
    "cleanup_expired_attempts": [],
}
# Query strings added to routes that take them (generated ones are added for admin
# changelists, add forms, autocomplete and API filter sets). "{}" takes a planted record.
EXTRA_QUERIES = {
    "agreements:list": [("q={}", "term")],
    "agreements:search": [("q={}", "term"), ("q={}&group=provisions", "term")],
    "agreements:deadlines": [("within=730", "")],
    "api:deadline-list": [("within=730", "")],
    # The parameters that shape an answer rather than filter it: groupings (category counts
    # only visible provisions) and CSV, which must hide what JSON hides.
    "api:statistics": [
        ("group_by=category,partner", ""),
        ("group_by=decade,category&format=csv", ""),
        ("group_by=region,organization", ""),
        ("format=csv", ""),
    ],
    # The agreement filters on provisions, and the agreement ids given as a repeated list.
    "api:provision-list": [
        (f"party=USA&in_force_on={TODAY.isoformat()}", ""),
        ("agreement={}&agreement={}", "agreement"),
    ],
    # An engagement filter naming an agreement (by id here), and the provision categories
    # (only of the linked provisions the persona may see).
    "api:engagement-list": [("agreement={}", "agreement"), ("provision_category=training", "")],
    "api:engagement-export": [("agreement={}", "agreement"), ("provision_category=cyber", "")],
}
# Query parameters a route needs on every request (without them it answers 400); added to the
# query string of each of its cases.
REQUIRED_QUERIES = {
    "api:agreement-dyad-years": f"from={TODAY.year - 30}&to={TODAY.year}",
}
# Minimal valid values for admin add forms (the probes then set one link to a hidden record).
ADD_FORM_VALUES = {
    "agreements.agreement": {
        "title": "Probe accord",
        "type": "dca",
        "status": "draft",
        "classification": "unclassified",
    },
    "agreements.provision": {
        "category": "training",
        "title": "Probe clause",
        "classification": "unclassified",
    },
    "agreements.review": {"reviewed_on": TODAY.isoformat(), "outcome": "continue"},
    "engagements.engagement": {
        "title": "Probe exercise",
        "kind": "exercise",
        "status": "proposed",
        "classification": "unclassified",
        "starts_on": TODAY.isoformat(),
    },
}
# The record each admin change-form probe edits (kind, variant label).
CHANGE_PROBE_TARGETS = {"agreements.agreement": ("probe_target", "unlinked")}
# API writes to a route with a record in its URL: (permission, body) by route and method.
# Under that permission the answer must be exactly 404; other methods are sent {}.
API_WRITE_BODIES = {
    ("api:agreement-detail", "PUT"): (
        "agreements.change_agreement",
        {"title": "Overwritten", "type": "dca"},
    ),
    ("api:agreement-detail", "PATCH"): ("agreements.change_agreement", {"title": "Overwritten"}),
    ("api:agreement-detail", "DELETE"): ("agreements.delete_agreement", None),
    ("api:engagement-detail", "PUT"): (
        "engagements.change_engagement",
        {"title": "Overwritten", "kind": "exercise", "starts_on": TODAY.isoformat()},
    ),
    ("api:engagement-detail", "PATCH"): (
        "engagements.change_engagement",
        {"title": "Overwritten"},
    ),
    ("api:engagement-detail", "DELETE"): ("engagements.delete_engagement", None),
    ("api:agreement-reviews", "POST"): (
        "agreements.add_review",
        {"reviewed_on": TODAY.isoformat(), "outcome": "terminate", "notes": "Overwritten"},
    ),
}
# API writes that name another agreement: (URL name, method, record in the URL, body).
API_REFERENCE_PROBES = [
    ("api:agreement-list", "POST", None, {"title": "Probe", "type": "dca", "supersedes": "{}"}),
    ("api:agreement-list", "POST", None, {"title": "Probe", "type": "dca", "parent": "{}"}),
    ("api:agreement-detail", "PATCH", "unlinked", {"supersedes": "{}"}),
    ("api:agreement-detail", "PATCH", "unlinked", {"parent": "{}"}),
    ("api:agreement-detail", "PUT", "unlinked", {"title": "Probe", "type": "dca", "parent": "{}"}),
]
# API writes of an engagement that name an agreement or a provision: (URL name, method, the
# engagement in the URL, body, the kind named, the permission). "[{}]": a list of one id.
ENGAGEMENT_PROBE_BODY = {"title": "Probe", "kind": "exercise", "starts_on": TODAY.isoformat()}
ENGAGEMENT_REFERENCE_PROBES = [
    (
        "api:engagement-list",
        "POST",
        None,
        {**ENGAGEMENT_PROBE_BODY, "agreements": ["{}"]},
        "agreement",
        "engagements.add_engagement",
    ),
    (
        "api:engagement-list",
        "POST",
        None,
        {**ENGAGEMENT_PROBE_BODY, "provisions": ["{}"]},
        "provision",
        "engagements.add_engagement",
    ),
    (
        "api:engagement-detail",
        "PATCH",
        "unclassified",
        {"agreements": ["{}"]},
        "agreement",
        "engagements.change_engagement",
    ),
    (
        "api:engagement-detail",
        "PATCH",
        "unclassified",
        {"provisions": ["{}"]},
        "provision",
        "engagements.change_engagement",
    ),
]


# Routes -------------------------------------------------------------------------------------


@dataclasses.dataclass(eq=False)
class Route:
    pattern: str  # e.g. "admin/agreements/agreement/<path:object_id>/change/"
    name: str  # the qualified URL name, "" when unnamed
    template: str  # "%(object_id)s"-style path
    params: tuple[str, ...]
    callback: object
    model_admin: object | None

    @property
    def key(self) -> str:
        return self.name or self.pattern

    @property
    def area(self) -> str:
        if self.pattern.startswith("admin/"):
            return "admin"
        if self.pattern.startswith("api/"):
            return "api"
        return "page"

    @property
    def admin_label(self) -> str:
        return self.model_admin.model._meta.label_lower if self.model_admin else ""

    @property
    def admin_action(self) -> str:
        """changelist, add, change, delete, history, password or redirect (admin models)."""
        if not self.model_admin:
            return ""
        if self.name.endswith("_password_change"):
            return "password"
        for action in ("changelist", "add", "history", "delete", "change"):
            if self.name.endswith(f"_{action}"):
                return action
        return "redirect"  # <object_id>/ sends on to <object_id>/change/


def _walk(patterns, pieces=(), namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry.url_patterns, (*pieces, entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            name = ""
            if entry.name:
                name = f"{namespace}:{entry.name}" if namespace else entry.name
            yield (*pieces, entry.pattern), name, entry.callback


def _model_admin_of(callback):
    found = getattr(callback, "model_admin", None)
    if found is None:  # admin_view(self.some_view): the bound method's instance
        found = getattr(getattr(callback, "__wrapped__", None), "__self__", None)
    return found if isinstance(found, admin.ModelAdmin) else None


def collect_routes() -> list[Route]:
    routes = []
    for pieces, name, callback in _walk(get_resolver().url_patterns):
        template, params = "", []
        for piece in pieces:
            fmt, names = normalize(piece.regex.pattern)[0]
            template += fmt
            params += names
        routes.append(
            Route(
                pattern="".join(str(p) for p in pieces),
                name=name,
                template=template,
                params=tuple(params),
                callback=callback,
                model_admin=_model_admin_of(callback),
            )
        )
    return routes


ROUTES = collect_routes()


def kind_of_param(route: Route, param: str) -> str | None:
    if (route.name, param) in PARAMETER_KINDS:
        return PARAMETER_KINDS[(route.name, param)]
    if route.model_admin and param == "object_id":
        return ADMIN_MODEL_KINDS.get(route.admin_label)
    return PARAMETER_KINDS.get(param)


@dataclasses.dataclass(eq=False)
class Case:
    """One route, possibly with a query string, whose record dimension is ``kind``."""

    route: Route
    kind: str = ""  # the kind of records the path parameters (or "{}" in the query) take
    query: str = ""
    extra: str = ""  # autocomplete: the remote model's label
    problem: str = ""  # why the generator cannot fill it: the case fails with this

    @property
    def id(self) -> str:
        text = self.route.key
        if self.query:
            text += "?" + self.query.replace("{}", f"<{self.kind}>")
        return text


def _route_case(route: Route) -> Case:
    kinds = {param: kind_of_param(route, param) for param in route.params}
    unknown = [param for param, kind in kinds.items() if kind is None]
    if unknown:
        return Case(
            route,
            problem=f"{route.key}: cannot fill parameter(s) {', '.join(unknown)}; "
            "add them to PARAMETER_KINDS (or ADMIN_MODEL_KINDS) in this file",
        )
    if len(set(kinds.values())) > 1:
        return Case(route, problem=f"{route.key}: parameters of several kinds {kinds}")
    if route.area != "admin" and route.key not in GUARDS:
        return Case(
            route, problem=f"{route.key}: no expected access in GUARDS; add it in this file"
        )
    if route.area == "admin" and not route.model_admin and route.key not in ADMIN_SITE:
        return Case(
            route, problem=f"{route.key}: no expected access in ADMIN_SITE; add it in this file"
        )
    return Case(route, kind=next(iter(kinds.values()), ""))


def _classified_relations(model, *, forward_only=False):
    """(query name, kind) of the model's relations to classified records."""
    for field in model._meta.get_fields():
        if not field.is_relation or field.related_model not in CLASSIFIED_MODELS:
            continue
        if forward_only and (field.auto_created or not getattr(field, "editable", False)):
            continue
        yield field.name, CLASSIFIED_MODELS[field.related_model]


def _autocomplete_cases(route: Route) -> list[Case]:
    cases = []
    for model_admin in admin.site._registry.values():
        owners = [(model_admin.model, model_admin)]
        owners += [(inline.model, inline) for inline in model_admin.inlines]
        for model, owner in owners:
            for name in owner.autocomplete_fields:
                remote = model._meta.get_field(name).related_model
                query = (
                    f"app_label={model._meta.app_label}&model_name={model._meta.model_name}"
                    f"&field_name={name}&term={{}}"
                )
                cases.append(Case(route, "term", query, extra=remote._meta.label_lower))
    return cases


def _filterset_of(route: Route):
    view_class = getattr(route.callback, "cls", None) or getattr(route.callback, "view_class", None)
    return getattr(view_class, "filterset_class", None)


def collect_cases() -> list[Case]:
    import django_filters

    cases = []
    for route in ROUTES:
        base = _route_case(route)
        cases.append(base)
        if base.problem or route.key in SHADOWED:
            continue
        action = route.admin_action
        if action == "changelist":
            model = route.model_admin.model
            if route.model_admin.get_search_fields(None):
                cases.append(Case(route, "term", "q={}"))
            for name, kind in _classified_relations(model):
                cases.append(Case(route, kind, f"{name}={{}}"))
        elif action == "add":
            for name, kind in _classified_relations(route.model_admin.model, forward_only=True):
                cases.append(Case(route, kind, f"{name}={{}}"))
        elif ADMIN_SITE.get(route.key) == "autocomplete":
            cases += _autocomplete_cases(route)
        filterset = _filterset_of(route) if route.area == "api" and not route.params else None
        if filterset is not None:
            for name, flt in filterset.base_filters.items():
                if name == "q":
                    cases.append(Case(route, "term", "q={}"))
                elif isinstance(flt, django_filters.ModelChoiceFilter | ModelIdsFilter):
                    # The filter's queryset may be a callable: the model comes from the field.
                    field = filterset._meta.model._meta.get_field(flt.field_name)
                    kind = CLASSIFIED_MODELS.get(field.related_model, "")
                    problem = "" if kind else f"{route.key}: no kind for the filter {name}"
                    cases.append(Case(route, kind, f"{name}={{}}", problem=problem))
        for query, kind in EXTRA_QUERIES.get(route.key, []):
            cases.append(Case(route, kind, query))
    return cases


CASES = collect_cases()


# The world: records planted once for the module ---------------------------------------------


@dataclasses.dataclass(frozen=True)
class Variant:
    label: str
    value: str  # what fills the parameter or the "{}"
    level: str | None  # who may see it; None: there is no such record
    extra: tuple = ()  # more parameters this variant fills: ((name, value), ...)

    @property
    def exists(self) -> bool:
        return self.level is not None

    @property
    def is_nul(self) -> bool:
        return self.label == "nul"


MISSING = Variant("missing", str(MISSING_ID), None)
NUL = Variant("nul", "%00", None)


class World:
    def __init__(self):
        self.sessions: dict[str, str] = {}
        self.tokens: dict[str, str] = {}
        self.perms: dict[str, set[str]] = {}
        self.fixed: dict[str, list[Variant]] = {}

    def variants(self, kind: str, persona: Persona) -> list[Variant]:
        if kind == "calendar_key":
            own = []
            if not persona.anonymous:
                own = [Variant("own", f"calendar-{persona.name}", "unclassified")]
            return [*own, Variant("missing", "no-such-key", None), NUL]
        return self.fixed[kind]


def _levels(kind: str, extras=()) -> list[Variant]:
    out = [Variant(level, str(pk(kind, RANK[level])), level) for level in LEVELS]
    out += [Variant(label, str(pk(kind, n)), level) for label, n, level in extras]
    return [*out, MISSING, NUL]


def _plant_agreement(n: int, level: str, owner, parties, **extra) -> Agreement:
    agreement = AgreementFactory(
        id=pk("agreement", n),
        reference=token(level, f"REF{n}"),
        title=f"{token(level, 'TITLE')} {word(level)} accord",
        short_title=token(level, "SHORT"),
        summary=f"{token(level, 'SUMMARY')} {word(level)}",
        source_url=f"https://example.org/{token(level, 'URL').lower()}",
        office_email=f"{token(level, 'OFFICE').lower()}@example.org",
        classification=level,
        signed_on=datetime.date(2015, 3, 1),
        entered_into_force_on=datetime.date(2015, 6, 1),
        expires_on=TODAY + datetime.timedelta(days=40 + n),
        notice_period_days=20,
        next_review_on=TODAY + datetime.timedelta(days=10 + n),
        review_interval_months=12,
        owner=owner,
        parties=[],
        **extra,
    )
    for j, partner in enumerate(parties, start=1):
        side = {"nation": partner} if isinstance(partner, Nation) else {"organization": partner}
        party_id = pk("party", n if j == 1 else n * 10 + j)  # the first one: the level's variant
        AgreementParty.objects.create(id=party_id, agreement=agreement, **side)
    rebuild_periods(agreement)  # the parties' bound periods (the dyad-years read them)
    return agreement


def build_world() -> World:
    world = World()
    users = {}
    for persona in PERSONAS:
        if persona.anonymous:
            continue
        user = User.objects.create_user(
            id=USER_PK[persona.name],
            username=persona.name,
            email=f"{persona.name}@example.org",
            password="pw",
            clearance=persona.clearance,
            is_staff=persona.staff,
            is_active=persona.active,
        )
        if persona.group:
            user.groups.add(Group.objects.get(name=persona.group))
        users[persona.name] = user
        world.tokens[persona.name] = Token.objects.create(user=user).key
        CalendarToken.objects.create(user=user, key=f"calendar-{persona.name}")
        client = Client()
        client.force_login(user)
        world.sessions[persona.name] = client.cookies[settings.SESSION_COOKIE_NAME].value
        world.perms[persona.name] = (
            User.objects.get(pk=user.pk).get_all_permissions() if persona.active else set()
        )
    registrar = users["registrar_secret"]
    group = Group.objects.create(id=pk("group", 1), name="Planted group")

    usa, phl, gbr, fra = (
        NationFactory(id=pk("nation", n), iso3=code, name=name, region=region)
        for n, (code, name, region) in enumerate(
            [
                ("USA", "United States", "Americas"),
                ("PHL", "Philippines", "Asia"),
                ("GBR", "United Kingdom", "Europe"),
                ("FRA", "France", "Europe"),
            ],
            start=1,
        )
    )
    nato = OrganizationFactory(
        id=pk("organization", 1), acronym="NATO", name="North Atlantic Treaty Organization"
    )
    for nation in (usa, gbr, fra):
        Membership.objects.create(nation=nation, organization=nato)
    contact = PointOfContact.objects.create(
        id=pk("contact", 1),
        name="Colonel Example",
        role="defense_attache",
        represents=usa,
        posted_to=phl,
    )
    Posting.objects.create(contact=contact, nation=phl, active_from=datetime.date(2025, 7, 1))

    # One agreement per level, each with a provision, a review, an event, reminders and a
    # change record of its own level.
    parties = {
        "unclassified": [usa, phl],
        "restricted": [usa, nato],
        "confidential": [gbr, nato],  # reaches the USA page through NATO membership
        "secret": [usa, gbr, nato],
    }
    agreements = {}
    for level in reversed(LEVELS):  # secret first: the unclassified one links to it
        n = RANK[level]
        agreements[level] = _plant_agreement(n, level, registrar, parties[level])
    framework = _plant_agreement(5, "secret", registrar, [gbr, fra], type="framework")
    # The links: a secret agreement that an unclassified one supersedes, another it sits
    # under; a confidential one that a restricted one supersedes.
    Agreement.objects.filter(pk=agreements["unclassified"].pk).update(
        supersedes=agreements["secret"], parent=framework
    )
    # And a secret agreement that sits under a restricted one (deleting that one is refused).
    Agreement.objects.filter(pk=agreements["restricted"].pk).update(
        supersedes=agreements["confidential"]
    )
    Agreement.objects.filter(pk=agreements["secret"].pk).update(parent=agreements["restricted"])
    agreements["secret"].watchers.add(users["editor_confidential"], users["policy_unclassified"])
    for level, agreement in agreements.items():
        n = RANK[level]
        ProvisionFactory(
            id=pk("provision", n),
            agreement=agreement,
            title=f"{token(level, 'PROVTITLE')} {word(level)}",
            article=f"Art. {token(level, 'ART')}",
            text=f"{token(level, 'PROVTEXT')} {word(level)}",
            classification=level,
        )
        Review.objects.create(
            id=pk("review", n),
            agreement=agreement,
            reviewed_on=TODAY - datetime.timedelta(days=30),
            reviewer=registrar,
            outcome="continue",
            notes=f"{token(level, 'REVIEWNOTES')} {word(level)}",
        )
        AgreementEvent.objects.create(
            id=pk("event", n),
            agreement=agreement,
            kind="amended",
            date=TODAY - datetime.timedelta(days=20),
            note=f"{token(level, 'EVENTNOTE')} {word(level)}",
            created_by=registrar,
        )
        Reminder.objects.create(
            id=pk("reminder", n),
            agreement=agreement,
            kind="expiry",
            due_on=agreement.expires_on,
            days_before=30,
            recipient=f"{token(level, 'RECIPIENT').lower()}@example.org",
            status="failed",
            error=f"{token(level, 'REMINDERERROR')} {word(level)}",
        )
        for user in users.values():  # what each one's reminder list holds
            Reminder.objects.create(
                agreement=agreement,
                kind="review",
                due_on=agreement.next_review_on,
                days_before=7,
                recipient=user.email,
                recipient_user=user,
                status="sent",
                sent_at=timezone.now(),
            )
    # Provisions more sensitive than their agreement.
    annex = ProvisionFactory(
        id=pk("provision", 5),
        agreement=agreements["unclassified"],
        category="intelligence_sharing",
        title=f"{token('secret', 'ANNEXTITLE')} {word('secret')}",
        article=f"Annex {token('secret', 'ANNEXART')}",
        text=f"{token('secret', 'ANNEXTEXT')} {word('secret')}",
        classification="secret",
    )
    ProvisionFactory(
        id=pk("provision", 6),
        agreement=agreements["restricted"],
        category="cyber",
        title=f"{token('confidential', 'ANNEXTITLE')} {word('confidential')}",
        article=f"Annex {token('confidential', 'ANNEXART')}",
        text=f"{token('confidential', 'ANNEXTEXT')} {word('confidential')}",
        classification="confidential",
    )
    ProvisionFactory(
        agreement=framework,
        title=f"{token('secret', 'FRAMEWORKPROV')} {word('secret')}",
        text=token("secret", "FRAMEWORKTEXT"),
        classification="secret",
    )
    # An agreement declassified from secret: its history must not show the old values.
    declassified = _plant_agreement(6, "secret", registrar, [usa, fra])
    Agreement.objects.filter(pk=declassified.pk).update(
        reference=token("secret", "OLDREF"),
        title=f"{token('secret', 'OLDTITLE')} {word('secret')}",
        summary=token("secret", "OLDSUMMARY"),
    )
    declassified.refresh_from_db()
    agreement_save(
        agreement=declassified,
        actor=registrar,
        classification="unclassified",
        reference=token("unclassified", "REF6"),
        title=f"{token('unclassified', 'DECLASSIFIEDTITLE')} {word('unclassified')}",
        summary=token("unclassified", "DECLASSIFIEDSUMMARY"),
        short_title="",
        source_url="",
        office_email="",
    )

    # One engagement per level, each linked to the agreement and provision of its level; the
    # unclassified one also to the secret agreement, its provision and the secret annex of
    # the unclassified agreement (links hidden from the uncleared, kept by their edits).
    engagements = {}
    for level in LEVELS:
        n = RANK[level]
        engagement = Engagement.objects.create(
            id=pk("engagement", n),
            title=f"{token(level, 'ENGTITLE')} {word(level)} exercise",
            kind="exercise",
            status="planned",
            classification=level,
            starts_on=TODAY + datetime.timedelta(days=30),
            ends_on=TODAY + datetime.timedelta(days=40),
            location=token(level, "ENGLOCATION"),
            summary=f"{token(level, 'ENGSUMMARY')} {word(level)}",
            objectives=token(level, "ENGOBJECTIVES"),
            source_url=f"https://example.org/{token(level, 'ENGURL').lower()}",
            owner=registrar,
        )
        Participation.objects.create(engagement=engagement, nation=usa, role="host")
        Participation.objects.create(engagement=engagement, nation=phl, personnel=10 + n)
        engagement.watchers.add(registrar)
        engagement.contacts.add(contact)
        engagements[level] = engagement
        engagement_save(
            engagement=engagement,
            actor=registrar,
            agreement_ids=[agreements[level].pk],
            provision_ids=[pk("provision", n)],
        )
    engagement_save(
        engagement=engagements["unclassified"],
        actor=registrar,
        agreement_ids=[agreements["unclassified"].pk, agreements["secret"].pk],
        provision_ids=[pk("provision", 1), pk("provision", 4), pk("provision", 5)],
    )

    # Change records of every level, planted last: on SQLite a row created after one with a
    # fixed id takes the next id, which would be the next fixed one.
    for level, agreement in agreements.items():
        n = RANK[level]
        ChangeRecord.objects.create(
            id=pk("changerecord", n),
            changed_object_type=ContentType.objects.get_for_model(Agreement),
            changed_object_id=agreement.pk,
            at=timezone.now(),
            object_repr=f"{token(level, 'CHANGEREPR')} {word(level)}",
            action="update",
            changes={"summary": [token(level, "CHANGEOLD"), token(level, "CHANGENEW")]},
            classification=level,
            actor=registrar,
        )
    ChangeRecord.objects.create(
        id=pk("changerecord", 5),
        changed_object_type=ContentType.objects.get_for_model(Provision),
        changed_object_id=annex.pk,
        related_object_type=ContentType.objects.get_for_model(Agreement),
        related_object_id=agreements["unclassified"].pk,
        related_repr=agreements["unclassified"].reference,
        at=timezone.now(),
        object_repr=token("secret", "ANNEXCHANGE"),
        action="update",
        changes={"text": [None, token("secret", "ANNEXCHANGETEXT")]},
        classification="secret",
        actor=registrar,
    )

    # An agreement with no links and nothing hidden, for the probes that edit one.
    unlinked = _plant_agreement(7, "unclassified", registrar, [usa, phl])

    agreement_type = ContentType.objects.get_for_model(Agreement).pk
    nation_type = ContentType.objects.get_for_model(Nation).pk
    plain = "unclassified"  # records without a classification: anyone permitted sees them
    world.fixed = {
        "agreement": _levels(
            "agreement",
            [
                ("secret-framework-of-unclassified", 5, "secret"),
                ("declassified-from-secret", 6, "unclassified"),
            ],
        ),
        "provision": _levels(
            "provision",
            [
                ("secret-annex-of-unclassified", 5, "secret"),
                ("confidential-annex-of-restricted", 6, "confidential"),
            ],
        ),
        "review": _levels("review"),
        "event": _levels("event"),
        "reminder": _levels("reminder"),
        "party": _levels("party"),
        "changerecord": _levels("changerecord", [("secret-change-of-unclassified", 5, "secret")]),
        "user": [Variant("user", str(USER_PK["policy_unclassified"]), plain), MISSING, NUL],
        "group": [Variant("group", str(group.pk), plain), MISSING, NUL],
        "token": [Variant("token", str(USER_PK["policy_unclassified"]), plain), MISSING, NUL],
        "nation_pk": [Variant("nation", str(usa.pk), plain), MISSING, NUL],
        "organization_pk": [Variant("organization", str(nato.pk), plain), MISSING, NUL],
        "contact": [Variant("contact", str(contact.pk), plain), MISSING, NUL],
        "engagement": _levels("engagement"),
        "axes": [MISSING, NUL],
        "nation": [Variant("nation", "USA", plain), Variant("missing", "ZZZ", None), NUL],
        "organization": [
            Variant("organization", "NATO", plain),
            Variant("missing", "NOSUCHORG", None),
            NUL,
        ],
        "app_label": [
            Variant(label, label, plain)
            for label in sorted({m._meta.app_label for m in admin.site._registry})
        ],
        "admin_path": [Variant("unknown", "no-such-page/", None)],
        "api_path": [Variant("unknown", "no-such-endpoint/", None)],
        "on_site": [
            *(
                Variant(v.label, v.value, v.level, (("content_type_id", str(agreement_type)),))
                for v in _levels("agreement")
                if not v.is_nul
            ),
            Variant("nation", str(usa.pk), plain, (("content_type_id", str(nation_type)),)),
        ],
        "term": [
            *(Variant(level, word(level), level) for level in LEVELS),
            Variant("missing", "SNTLNOSUCHTERM", None),
            NUL,
        ],
        "": [Variant("none", "", plain)],
        "probe_target": [Variant("unlinked", str(unlinked.pk), plain)],
    }
    return world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The planted records, in a transaction rolled back after the module's last test."""
    with django_db_blocker.unblock(), transaction.atomic():
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)


# Requests -----------------------------------------------------------------------------------


@dataclasses.dataclass
class Answer:
    method: str
    path: str
    variant: Variant
    status: int
    location: str
    body: str
    headers: str
    error: str = ""  # the exception behind a 500
    changed: str = ""  # what a write changed

    def __str__(self):
        return f"{self.method} {self.path} [{self.variant.label}]"


# What a write could change: the row count of every table, and the agreements' versions and
# last change. One query, so that it can be taken around every write.
STATE_TABLES = [
    Agreement,
    Agreement.watchers.through,
    AgreementParty,
    Provision,
    Review,
    AgreementEvent,
    Reminder,
    ChangeRecord,
    User,
    Group,
    Token,
    CalendarToken,
    Nation,
    Organization,
    Membership,
    PointOfContact,
    Posting,
    Engagement,
    Participation,
    Engagement.agreements.through,
    Engagement.provisions.through,
    Engagement.contacts.through,
    Engagement.watchers.through,
]
WRITE_SQL = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.I)


def state() -> dict:
    qn = connection.ops.quote_name
    agreements = qn(Agreement._meta.db_table)
    parts = {
        m._meta.db_table: f"(SELECT COUNT(*) FROM {qn(m._meta.db_table)})" for m in STATE_TABLES
    }
    parts["versions"] = f"(SELECT SUM({qn('version')}) FROM {agreements})"
    parts["last change"] = f"(SELECT MAX({qn('updated_at')}) FROM {agreements})"
    engagements = qn(Engagement._meta.db_table)
    parts["engagement versions"] = f"(SELECT SUM({qn('version')}) FROM {engagements})"
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts.values()))
        return dict(zip(parts, cursor.fetchone(), strict=True))


def _diff(before: dict, after: dict, queries) -> str:
    """What changed: the tables a statement wrote to, and the counts that moved."""
    written = {m.group(1) for q in queries if (m := WRITE_SQL.match(q["sql"]))}
    moved = {key for key in before if before[key] != after[key]}
    return ", ".join(sorted(written | moved))


def body_of(response) -> str:
    if getattr(response, "streaming", False):
        data = b"".join(response.streaming_content)
    else:
        data = response.content
    # iCalendar folds long lines (CRLF, then a space or tab).
    return data.decode("utf-8", "replace").replace("\r\n ", "").replace("\r\n\t", "")


_CLIENT = []


def _client() -> Client:
    """One client for the module (a new one loads the middleware again), without cookies."""
    if not _CLIENT:
        _CLIENT.append(Client(raise_request_exception=False))
    client = _CLIENT[0]
    client.cookies.clear()
    return client


def send(world, persona, area, method, path, variant, data=None, *, as_json=False, check=False):
    client = _client()
    headers = {}
    browser = method == BROWSABLE
    if browser:  # the API in a browser: the session, and DRF's HTML pages
        method = "GET"
        headers["HTTP_ACCEPT"] = "text/html"
    if area == "api" and not browser:
        if not persona.anonymous:
            headers["HTTP_AUTHORIZATION"] = f"Token {world.tokens[persona.name]}"
    elif not persona.anonymous:
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[persona.name]
    with (
        transaction.atomic(),
        CaptureQueriesContext(connection) if check else nullcontext() as queries,
    ):
        before = state() if check else None
        if as_json:
            payload = json.dumps(data) if data is not None else ""
            response = client.generic(
                method, path, payload, content_type="application/json", **headers
            )
        elif method == "POST":
            response = client.post(path, data or {}, **headers)
        else:
            response = client.generic(method, path, **headers)
        body = body_of(response)
        changed = ""
        if check:
            try:
                changed = _diff(before, state(), queries.captured_queries)
            except DatabaseError as exc:  # the request broke the transaction
                changed = f"(could not compare: {exc})"
        transaction.set_rollback(True)
    error = ""
    if getattr(response, "exc_info", None):
        error = repr(response.exc_info[1])
    return Answer(
        BROWSABLE if browser else method,
        path,
        variant,
        response.status_code,
        response.get("Location", ""),
        body,
        " ".join(f"{k}: {v}" for k, v in response.items()),
        error,
        changed,
    )


def url_for(case: Case, variant: Variant) -> str | None:
    """The path (and query) of ``case`` filled with ``variant``; None when the value cannot
    reach this route (a NUL byte that the converter refuses, say)."""
    route = case.route
    values = {param: variant.value for param in route.params}
    values.update(dict(variant.extra))
    path = "/" + route.template % values
    try:
        match = resolve(urllib.parse.unquote(path))
    except Resolver404:
        return None
    if match.func is not route.callback:
        return None
    if case.query:
        if variant.is_nul and case.kind != "term":  # not an id: just a bad value
            return None
        path += "?" + case.query.replace("{}", urllib.parse.quote(variant.value, safe="%"))
    if route.key in REQUIRED_QUERIES:
        path += ("&" if case.query else "?") + REQUIRED_QUERIES[route.key]
    return path


def hidden(persona: Persona, variant: Variant) -> bool:
    return variant.exists and not persona.sees(variant.level)


def allowed_levels(world, persona) -> list[str]:
    """The sentinels a persona may meet: none unless it may read agreements at all."""
    if not persona.signed_in or VIEW not in world.perms[persona.name]:
        return []
    return Classification.up_to(persona.clearance)


def leaks(answer: Answer, allowed: list[str], echoed: str = "") -> list[str]:
    text = urllib.parse.unquote(answer.headers + "\n" + answer.body)
    if echoed:  # the persona's own search term, echoed back, is no leak
        text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(echoed)}(?![A-Za-z0-9])", "", text, flags=re.I)
    found = {m.group(0) for m in SENTINEL.finditer(text) if m.group(1).lower() not in allowed}
    return sorted(found)


def normalised(answer: Answer, value: str) -> tuple:
    path = urllib.parse.unquote(answer.path)

    def blank(text: str) -> str:
        text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text)
        text = re.sub(r'"csrfToken": "[^"]*"', "", text)  # DRF's browsable pages
        text = text.replace(path, "<PATH>")
        if value:
            text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])", "<X>", text)
        return text

    return (
        answer.status,
        blank(urllib.parse.unquote(answer.location)),
        blank(urllib.parse.unquote(answer.body)),
    )


def same_as_missing(answer: Answer, missing: Answer) -> str:
    """Empty when ``answer`` (for a hidden record) says exactly what ``missing`` says."""
    if answer.variant.is_nul:  # only the status: the NUL byte is echoed in many shapes
        ok = answer.status == missing.status
    else:
        ok = normalised(answer, answer.variant.value) == normalised(missing, missing.variant.value)
    if ok:
        return ""
    if answer.status != missing.status:
        return f"{answer}: {answer.status}, but {missing.status} for the missing one"
    difference = _first_difference(answer, missing)
    return f"{answer}: the answer differs from the missing one's ({difference})"


def _first_difference(a: Answer, b: Answer) -> str:
    x, y = normalised(a, a.variant.value)[2], normalised(b, b.variant.value)[2]
    if normalised(a, a.variant.value)[1] != normalised(b, b.variant.value)[1]:
        return f"Location {a.location!r} vs {b.location!r}"
    pairs = enumerate(zip(x, y, strict=False))
    at = next((i for i, (p, q) in pairs if p != q), min(len(x), len(y)))
    return f"at {at}: {x[max(0, at - 60) : at + 80]!r} vs {y[max(0, at - 60) : at + 80]!r}"


# Expected statuses ----------------------------------------------------------------------------


def expected(case: Case, persona: Persona, perms: set, variant: Variant) -> int:
    """The status of a GET of ``case`` by ``persona`` for ``variant``; a hidden record is
    expected to be answered like a missing one (the caller compares the two as well)."""
    route = case.route
    present = variant.exists and persona.sees(variant.level)
    if variant.is_nul and case.kind != "term" and not case.query:
        return 400  # a NUL byte in the address is refused before any view (config/middleware)
    if route.area == "admin":
        return expected_admin(case, persona, perms, variant, present)
    guard = GUARDS[route.key]
    rule, needs = guard[0], guard[1:]
    if route.area == "api" and not persona.anonymous and not persona.active:
        return 401  # the token of an inactive user is refused everywhere
    if rule == "open":
        return needs[0]
    if rule == "login_page":
        return 302 if persona.signed_in else 200
    if rule == "calendar":
        return 200 if variant.label == "own" and persona.signed_in and VIEW in perms else 404
    if rule == "page":
        if not persona.signed_in:
            return 302
        if not all(n in perms for n in needs):
            return 403
        return 200 if present or not case.kind or case.kind == "term" else 404
    if rule == "api_signed_in":
        return 200 if persona.signed_in else 401
    if rule == "api_unknown":
        return 404 if persona.signed_in else 401
    # rule == "api"
    if not persona.signed_in:
        return 401
    if needs[0] not in perms:
        return 404 if route.params else 403
    if not all(n in perms for n in needs):
        return 403
    if route.params and not present:
        return 404
    if case.query and case.kind not in ("", "term") and not present:
        return 400  # a filter naming a record you may not see is an unknown value
    return 200


def expected_admin(case: Case, persona: Persona, perms: set, variant: Variant, present) -> int:
    route = case.route
    rule = ADMIN_SITE.get(route.key)
    if rule == "login":
        return 302 if persona.admin_user else 200
    if route.key == "admin/login/":
        return 302
    if rule == "logout":
        return 405 if persona.admin_user else 302
    if not persona.admin_user:
        return 302  # to the admin's login
    if isinstance(rule, int):
        return rule
    if isinstance(rule, tuple) and rule[0] == "permission":  # an admin page of its own
        return 200 if rule[1] in perms else 403
    if rule == "autocomplete":
        if not case.query:
            return 403
        app, model = case.extra.split(".")
        return 200 if {f"{app}.view_{model}", f"{app}.change_{model}"} & perms else 403
    if rule == "on_site":
        return 302 if present else 404
    if rule == "app_list":  # only the apps the persona holds a permission in
        return 200 if any(p.startswith(f"{variant.value}.") for p in perms) else 404
    label = route.admin_label
    app, model = label.split(".")

    def can(action: str) -> bool:
        return f"{app}.{action}_{model}" in perms and action not in ADMIN_REFUSES.get(label, ())

    reads = can("view") or can("change")
    action = route.admin_action
    classified = case.kind in CLASSIFIED_KINDS and not case.query
    if action == "changelist":
        if reads and case.query and not case.query.startswith("q="):
            # A lookup over a relation that no list filter declares is refused, for a hidden
            # and a missing record alike (config/admin_access.py lookup_allowed).
            return 400
        return 200 if reads else 403
    if action == "add":
        return 200 if can("add") else 403
    if action == "redirect":
        return 302
    if classified and not present:
        return 404
    if action == "history":
        if not present:
            return 302  # Django's "does not exist" redirect to the admin index
        if not reads:
            return 403
        return 302 if label in ADMIN_HISTORY_REDIRECTS else 200
    allowed = {"change": reads, "delete": can("delete"), "password": can("change")}[action]
    if not allowed:
        return 403
    if not present:
        return 404 if action == "password" else 302
    return 200


LOGIN_PREFIX = {"page": "/accounts/login/?next=", "admin": "/admin/login/?next="}


def check(answer: Answer, want, persona: Persona, area: str, allowed, echoed="") -> list:
    """What is wrong with one answer; ``want`` is the expected GET status (None: any)."""
    problems = []
    if answer.status >= 500:
        return [f"{answer}: {answer.status} {answer.error}"]
    if answer.method in ("GET", BROWSABLE) and want is not None and answer.status != want:
        problems.append(f"{answer}: expected {want}, got {answer.status}")
    elif answer.method in ("HEAD", "OPTIONS") and answer.status == 200 and want in (302, 401, 403):
        # HEAD and OPTIONS are otherwise only compared with the missing record's answer.
        problems.append(f"{answer}: 200 where GET is refused ({want})")
    if (
        answer.method in ("GET", BROWSABLE)
        and answer.status == 302
        and not persona.signed_in
        and area in LOGIN_PREFIX
        and want == 302
        and not answer.location.startswith(LOGIN_PREFIX[area])
        and not answer.location.startswith(("/admin/", "/accounts/login/"))
    ):
        problems.append(f"{answer}: redirected to {answer.location}, not the login page")
    found = leaks(answer, allowed, echoed)
    if found:
        problems.append(f"{answer}: shows {', '.join(found)} (above clearance)")
    return problems


# HEAD and OPTIONS where they are cheap: the admin's views answer them with the same code
# as GET (a full page each time), so the admin gets GET only; elsewhere they are sent for the
# records the persona may not see and the missing one (what is compared), see read_plan.
# The API is also read as a browser does: with the session, asking for HTML (DRF's browsable
# pages, with their forms and filters), for the routes' own records.
BROWSABLE = "GET (browser)"
READ_METHODS = {
    "admin": ("GET",),
    "api": ("GET", BROWSABLE, "HEAD", "OPTIONS"),
    "page": ("GET", "HEAD", "OPTIONS"),
}


def _renders_html(route: Route) -> bool:
    """Whether a DRF view has an HTML renderer (the token and schema views do not)."""
    view_class = getattr(route.callback, "cls", None)
    if view_class is None:
        return True
    renderers = getattr(view_class, "renderer_classes", None) or []
    return any(r.media_type == "text/html" for r in renderers)


def read_plan(case: Case, persona: Persona, variants: list[Variant]):
    """(variant, methods) to send. Every record for a route's own parameters; for a query
    string naming a record (a lookup, a filter), the ones the persona may not see and the
    missing one, which are compared (the route without the query shows what is visible); for
    a search, one visible term as well. HEAD and OPTIONS go with the variants that are
    compared (and a route without records); the browsable API with the routes' own records."""
    methods = READ_METHODS[case.route.area]
    if not _renders_html(case.route):
        methods = tuple(m for m in methods if m != BROWSABLE)
    visible_seen = case.query and case.kind != "term"
    for variant in variants:
        compared = not variant.exists or hidden(persona, variant) or variant.label == "none"
        if not compared and case.query:
            if visible_seen:
                continue
            visible_seen = True
        if case.query:
            methods = tuple(m for m in methods if m != BROWSABLE)
        yield variant, methods if compared else tuple(m for m in methods if "GET" in m)


@pytest.mark.parametrize("persona", PERSONAS, ids=PERSONA_IDS)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_reads(world, case, persona):
    """GET, HEAD and OPTIONS of the route for every planted record: the expected status,
    nothing above clearance, a hidden record answered like a missing one."""
    if case.problem:
        pytest.fail(case.problem)
    perms = world.perms.get(persona.name, set())
    allowed = allowed_levels(world, persona)
    echoed = ""
    problems, answers = [], {}
    for variant, methods in read_plan(case, persona, world.variants(case.kind, persona)):
        path = url_for(case, variant)
        if path is None:
            continue
        if case.route.key in SHADOWED:
            pytest.fail(f"{path} reaches {case.route.key}, listed as shadowed by {SHADOWED}")
        for method in methods:
            # In a browser an inactive user's session is no session: anonymous.
            who = PERSONAS[0] if method == BROWSABLE and not persona.active else persona
            # A NUL byte as a search term may be refused (400) or find nothing (200), no 500.
            want = None if variant.is_nul and case.query else expected(case, who, perms, variant)
            answer = send(world, persona, case.route.area, method, path, variant)
            answers[method, variant.label] = answer
            echoed = variant.value if case.kind == "term" else ""
            problems += check(answer, want, persona, case.route.area, allowed, echoed)
    if not answers and case.route.key not in SHADOWED:
        variants = [v.label for v in world.variants(case.kind, persona)]
        problems.append(f"{case.id}: no URL filled with {variants} reaches this route")
    for (method, _label), answer in answers.items():
        if hidden(persona, answer.variant):
            missing = answers.get((method, "missing"))
            if missing is not None:
                problems.append(same_as_missing(answer, missing))
    problems = [p for p in problems if p]
    assert not problems, "\n".join(problems)


# Writes -------------------------------------------------------------------------------------


@dataclasses.dataclass(eq=False)
class Probe:
    """A write that acts on, or names, a record of ``kind``."""

    case: Case
    method: str
    style: str  # "object", "bulk", "admin_form" or "api_ref"
    kind: str
    field: str = ""  # admin_form: the link set to the probed record
    body: dict | None = None
    target: tuple = ()  # (kind, label) of the record in the URL when it is not the probed one
    needs: str = ""  # the permission under which the exact answer is asserted
    action: str = ""  # bulk: the change-list action (its form data: body)

    @property
    def id(self) -> str:
        text = f"{self.method} {self.case.id}"
        if self.action and self.action != "delete_selected":
            text += f" action={self.action}" + (f" {','.join(self.body)}" if self.body else "")
        if self.field:
            text += f" {self.field}=<{self.kind}>"
        if self.body and self.style == "api_ref":
            named = [k for k, v in self.body.items() if v in ("{}", ["{}"])]
            text += " " + ",".join(named) + f"=<{self.kind}>"
        return text


# Links a change form shows read-only: a posted value is ignored, so there is nothing to
# probe (a provision, a review and a party stay with their agreement: test_write_path_review.py).
READ_ONLY_ON_CHANGE = {
    ("agreements.provision", "agreement"),
    ("agreements.review", "agreement"),
    ("agreements.agreementparty", "agreement"),  # a party's page: its acts only
}


def _action_names(model_admin) -> list[str]:
    """The change-list actions of an admin (the site's, delete_selected, included), before
    any permission filters them."""
    return [name for _func, name, _description in model_admin._get_base_actions()]


def collect_probes() -> list[Probe]:
    probes = []
    for case in CASES:
        route = case.route
        if case.problem or case.query or route.key in SHADOWED:
            continue
        if case.kind in CLASSIFIED_KINDS:
            if route.area == "api":
                for method in ("POST", "PUT", "PATCH", "DELETE"):
                    needs, body = API_WRITE_BODIES.get((route.key, method), ("", {}))
                    probes.append(Probe(case, method, "object", case.kind, body=body, needs=needs))
            else:
                probes.append(Probe(case, "POST", "object", case.kind))
        action = route.admin_action
        if action == "changelist" and route.model_admin.actions is not None:
            kind = ADMIN_MODEL_KINDS.get(route.admin_label, "")
            for name in _action_names(route.model_admin):
                for form in ACTION_FORMS.get(name, ()):
                    probes.append(Probe(case, "POST", "bulk", kind, body=form, action=name))
        if action in ("add", "change"):
            label = route.admin_label
            own_kind = ADMIN_MODEL_KINDS.get(label, "")
            target = (
                ()
                if action == "add"
                else CHANGE_PROBE_TARGETS.get(label, (own_kind, "unclassified"))
            )
            for name, kind in _classified_relations(route.model_admin.model, forward_only=True):
                if action == "change" and (label, name) in READ_ONLY_ON_CHANGE:
                    continue
                probes.append(Probe(case, "POST", "admin_form", kind, field=name, target=target))
    by_key = {c.route.key: c for c in CASES if not c.query and not c.problem}
    for name, method, target, body in API_REFERENCE_PROBES:
        needs = "agreements.add_agreement" if method == "POST" else "agreements.change_agreement"
        target = ("probe_target", target) if target else ()
        probes.append(
            Probe(
                by_key[name], method, "api_ref", "agreement", body=body, target=target, needs=needs
            )
        )
    for name, method, target, body, kind, needs in ENGAGEMENT_REFERENCE_PROBES:
        target = ("engagement", target) if target else ()
        probes.append(
            Probe(by_key[name], method, "api_ref", kind, body=body, target=target, needs=needs)
        )
    return probes


PROBES = collect_probes()


def _variant(world, persona, kind, label) -> Variant:
    return next(v for v in world.variants(kind, persona) if v.label == label)


def _fill(body, value):
    if body is None:
        return None

    def one(v):
        if v == "{}":
            return int(value)
        if v == ["{}"]:
            return [int(value)]
        return v

    return {k: one(v) for k, v in body.items()}


def run_probe(world, probe: Probe, persona: Persona, variant: Variant, forms) -> Answer | None:
    case, area = probe.case, probe.case.route.area
    if probe.target:
        path = url_for(case, _variant(world, persona, *probe.target))
    else:
        path = url_for(case, variant)
    if path is None:
        return None
    if probe.style == "object":
        if area == "api":
            return send(
                world,
                persona,
                area,
                probe.method,
                path,
                variant,
                _fill(probe.body, variant.value),
                as_json=True,
                check=True,
            )
        data = {"post": "yes"} if case.route.admin_action == "delete" else {}
        return send(world, persona, area, "POST", path, variant, data, check=True)
    value = "\x00" if variant.is_nul else variant.value  # form data: the byte itself
    if probe.style == "bulk":
        data = {"action": probe.action, "_selected_action": value, **probe.body}
        return send(world, persona, area, "POST", path, variant, data, check=True)
    if probe.style == "api_ref":
        if variant.is_nul:
            return None
        return send(
            world,
            persona,
            area,
            probe.method,
            path,
            variant,
            _fill(probe.body, variant.value),
            as_json=True,
            check=True,
        )
    # admin_form: the form as the persona gets it, with one link set to the probed record
    if path not in forms:
        form = send(world, persona, area, "GET", path, variant)
        forms[path] = {}
        if form.status == 200:
            model = case.route.model_admin.model
            forms[path] = form_data(form.body, f"{model._meta.model_name}_form")
            if case.route.admin_action == "add":
                forms[path].update(ADD_FORM_VALUES.get(model._meta.label_lower, {}))
    data = {**forms[path], probe.field: value}
    return send(world, persona, area, "POST", path, variant, data, check=True)


def probe_expectation(world, probe: Probe, persona: Persona) -> int | None:
    """The exact status asserted for a persona allowed to make this write, else None."""
    perms = world.perms.get(persona.name, set())
    route = probe.case.route
    if probe.style == "object":
        if route.area == "admin":
            return 404 if persona.admin_user and route.admin_action != "redirect" else None
        return 404 if probe.needs and probe.needs in perms and persona.signed_in else None
    if probe.style == "api_ref":
        return 400 if probe.needs in perms and persona.signed_in else None
    if probe.style == "admin_form":
        label = route.admin_label
        app, model = label.split(".")
        action = route.admin_action
        if (
            persona.admin_user
            and f"{app}.{action}_{model}" in perms
            and action not in ADMIN_REFUSES.get(label, ())
        ):
            return 200
    return None


@pytest.mark.parametrize("persona", PERSONAS, ids=PERSONA_IDS)
@pytest.mark.parametrize("probe", PROBES, ids=[p.id for p in PROBES])
def test_writes(world, probe, persona):
    """A write on, or naming, a record above clearance answers exactly like one naming a
    missing id, and changes nothing."""
    allowed = allowed_levels(world, persona)
    want = probe_expectation(world, probe, persona)
    problems, answers, forms = [], {}, {}
    for variant in world.variants(probe.kind, persona):
        if variant.exists and not hidden(persona, variant):
            continue
        if variant.is_nul and probe.style == "admin_form":
            continue  # a NUL byte in a form field gets Django's own "Null characters" error
        answer = run_probe(world, probe, persona, variant, forms)
        if answer is None:
            continue
        answers[variant.label] = answer
        if answer.status >= 500:
            problems.append(f"{answer}: {answer.status} {answer.error}")
            continue
        if answer.changed:
            problems.append(f"{answer}: changed {answer.changed} (answered {answer.status})")
        # A NUL byte in the address is refused before any view (config/middleware).
        want_here = 400 if variant.is_nul and probe.style == "object" else want
        if want_here is not None and answer.status != want_here:
            problems.append(f"{answer}: expected {want_here}, got {answer.status}")
        refused = "Select a valid choice" in answer.body
        if probe.style == "admin_form" and want == 200 and not refused:
            problems.append(f"{answer}: no 'Select a valid choice' error for {probe.field}")
        found = leaks(answer, allowed)
        if found:
            problems.append(f"{answer}: shows {', '.join(found)} (above clearance)")
    missing = answers.get("missing")
    for label, answer in answers.items():
        if label != "missing" and missing is not None and not answer.variant.is_nul:
            problems.append(same_as_missing(answer, missing))
    problems = [p for p in problems if p]
    assert not problems, "\n".join(problems)


def test_every_admin_action_is_probed():
    """Each change-list action has its probe data (ACTION_FORMS), so none goes untested."""
    missing = sorted(
        f"{route.admin_label}: {name}"
        for route in ROUTES
        if route.admin_action == "changelist" and route.model_admin.actions is not None
        for name in _action_names(route.model_admin)
        if name not in ACTION_FORMS
    )
    assert not missing, "add these actions to ACTION_FORMS: " + ", ".join(missing)
    probe_ids = {p.id for p in PROBES}
    for expected_id in (
        "POST admin:agreements_agreement_changelist action=export_csv",
        "POST admin:agreements_agreement_changelist action=record_review",
        "POST admin:agreements_agreement_changelist action=record_review "
        "apply,reviewed_on,outcome,notes",
    ):
        assert expected_id in probe_ids, expected_id


def test_every_route_is_filled():
    """The generator knows every route: how to fill its parameters and who may use it."""
    problems = [case.problem for case in CASES if case.problem]
    assert not problems, "\n".join(problems)
    assert {r.area for r in ROUTES} == {"admin", "api", "page"}


def test_the_generator_finds_the_routes_and_probes_that_matter():
    """A guard against the generator quietly shrinking: routes with records at every level,
    admin changelist lookups and add forms, API filters and write probes all exist."""
    kinds = Counter(c.kind for c in CASES)
    for kind in ("agreement", "provision", "review", "reminder", "changerecord", "term"):
        assert kinds[kind] >= 2, kind
    ids = {c.id for c in CASES}
    for expected_id in (
        "admin:accounts_user_changelist?owned_agreements=<agreement>",
        "admin:accounts_user_changelist?watched_agreements=<agreement>",
        "admin:agreements_agreement_changelist?supersedes=<agreement>",
        "admin:agreements_agreement_changelist?parent=<agreement>",
        "admin:agreements_review_add?agreement=<agreement>",
        "admin:agreements_provision_add?agreement=<agreement>",
        "api:provision-list?agreement=<agreement>",
        "agreements:calendar_feed",
        "view_on_site",
        "autocomplete?app_label=agreements&model_name=review&field_name=agreement&term=<term>",
    ):
        assert expected_id in ids, expected_id
    probe_ids = {p.id for p in PROBES}
    for expected_id in (
        "POST admin:agreements_review_add agreement=<agreement>",
        "POST admin:agreements_provision_add agreement=<agreement>",
        "PUT api:agreement-detail",
        "DELETE api:agreement-detail",
    ):
        assert expected_id in probe_ids, expected_id
