"""The registry's self-check: inconsistencies between records that the validation rules,
which look at one write at a time, cannot catch.

``registry_findings(today)`` runs every check and returns what they find; the
``check_registry`` command prints it for an operator (everything) and the admin's "Registry
check" page shows it to registry admins (``viewer``: only findings about agreements within
their clearance, neither shown nor counted otherwise). Each check is one small function of a
few bulk queries: the number of queries does not grow with the number of agreements, parties,
acts or memberships.

The rules, check by check (``CHECKS`` below, in the order they are shown):

``party_without_acts``
    A party of a multilateral agreement (more than two parties) that has been signed (any
    status but draft and negotiating) and records no signature, consent, entry into force or
    provisional application of its own. ``agreements.party_acts`` then presumes it bound
    from the agreement's entry into force; a depositary's record says more.
``act_outside_existence``
    An act of a nation dated before the state came into being (``Nation.valid_from``) or
    after its last day (``Nation.valid_to``, itself included). The write path refuses such
    acts; this finds those recorded before the nation's dates were set or changed. An act's
    ``date`` is what is compared (the day the state acted), not the day it takes effect.
``bound_outside_membership``
    An agreement with an organization O as a party and, as parties too, nations that are or
    were members of O (an alliance treaty of NATO members): each such nation must be a member
    of O for the whole of every period it is bound. A bound period from S until E (exclusive;
    cut at the agreement's termination, at the day after its expiry, and at the day after
    ``today``: what lies ahead is not checked) must lie within one membership, which joined on
    or before S (an empty ``joined_on``: since ever) and left on or after E (``left_on`` is
    the first day it was no longer a member; empty: still a member). Nations that were never
    members of O are parties in their own right and are not looked at.
``membership_without_joined_on``
    An organization that is a party to an agreement, with memberships that have no
    ``joined_on``: the by-date rules (the ``organization`` filter, the check above) take such
    a member as a member since ever. One finding per organization, naming its agreements.
``document_sharing_source``
    A ``source_url`` of an agreement or of a party's act on a document-sharing site
    (``DOCUMENT_SHARING_HOSTS``: the host itself or any subdomain of it) rather than an
    official or depositary source.
``in_force_past_expiry``
    An agreement ``in_force`` whose ``expires_on`` is before ``today`` (the lifecycle renews
    or expires it the day after; one still in force was missed or edited by hand).
``suspended_without_event`` and ``suspension_disagrees``
    An agreement is suspended on a day when its latest ``suspended`` or ``resumed`` event on
    or before it is ``suspended`` (``AgreementQuerySet.in_force_on``). A ``suspended``
    agreement with no ``suspended`` event at all is the first finding. The second: a
    ``suspended`` agreement whose latest such event by ``today`` is not a suspension (a
    resumption, or none because its suspension is dated later), and a signed or in-force one
    whose latest such event by ``today`` is a suspension.
"""

from __future__ import annotations

import datetime
import urllib.parse
from collections import defaultdict
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone

from partners.models import Membership

from . import party_acts
from .choices import AgreementStatus, EventKind, PartyStatus
from .models import Agreement, AgreementEvent, AgreementParty, PartyAct, PartyPeriod

# Sites that host copies of documents anyone uploads: not a source to cite.
DOCUMENT_SHARING_HOSTS = (
    "scribd.com",
    "docplayer.net",
    "yumpu.com",
    "pdfcoffee.com",
    "studocu.com",
    "academia.edu",
    "dokumen.pub",
    "documents.pub",
    "issuu.com",
    "slideshare.net",
    "coursehero.com",
    "pdfslide.us",
    "pdfslide.net",
    "pdfslide.tips",
    "fdocuments.in",
    "fdocuments.net",
    "vdocuments.mx",
    "vdocuments.net",
    "vdocuments.site",
    "dokumen.tips",
)

# How many codes or references a message names before it says "and N more".
NAMED_AT_MOST = 8
ONE_DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class Finding:
    code: str  # what kind of inconsistency (a key of ``TITLES``)
    reference: str  # the record it is about: an agreement's reference, an organization's acronym
    message: str
    url: str  # the admin page of the record to correct (agreement, party, organization)

    def __str__(self) -> str:
        return f"{self.reference}: {self.message}"


@dataclass(frozen=True)
class Scope:
    """What the checks look at: the agreements (all of them, or those a viewer may see), as
    of a day."""

    agreements: QuerySet
    today: datetime.date

    def agreement_ids(self):
        return self.agreements.values("pk")


def _agreement_url(pk: int) -> str:
    return reverse("admin:agreements_agreement_change", args=[pk])


def _party_url(pk: int) -> str:
    """The party's admin page, where its acts are edited."""
    return reverse("admin:agreements_agreementparty_change", args=[pk])


def _names(items: list[str]) -> str:
    shown = ", ".join(items[:NAMED_AT_MOST])
    more = len(items) - NAMED_AT_MOST
    return f"{shown} and {more} more" if more > 0 else shown


# The checks ---------------------------------------------------------------------------------


def parties_without_acts(scope: Scope) -> list[Finding]:
    party_count = (
        AgreementParty.objects.filter(agreement=OuterRef("agreement"))
        .order_by()
        .values("agreement")
        .annotate(n=Count("pk"))
        .values("n")
    )
    parties = (
        AgreementParty.objects.filter(agreement__in=scope.agreement_ids())
        .exclude(agreement__status__in=AgreementStatus.pre_signature())
        .annotate(
            party_count=Subquery(party_count),
            has_acts=Exists(PartyAct.objects.filter(party=OuterRef("pk"))),
        )
        .filter(party_count__gt=2)
        .exclude(Exists(PartyAct.objects.filter(party=OuterRef("pk"), kind__in=party_acts.JOINING)))
        .select_related("agreement", "nation", "organization")
        .order_by("agreement__reference", "id")
    )
    findings = []
    for party in parties:
        if party.has_acts:
            message = (
                f"party {party.code} has no signature, consent, entry into force or "
                "provisional application of its own"
            )
        else:
            message = f"party {party.code} has no acts of its own"
        findings.append(
            Finding(
                "party_without_acts",
                party.agreement.reference,
                message,
                _party_url(party.pk),
            )
        )
    return findings


def acts_outside_existence(scope: Scope) -> list[Finding]:
    acts = (
        PartyAct.objects.filter(party__agreement__in=scope.agreement_ids())
        .filter(
            Q(date__lt=F("party__nation__valid_from")) | Q(date__gt=F("party__nation__valid_to"))
        )
        .select_related("party__agreement", "party__nation")
        .order_by("party__agreement__reference", "party_id", "date", "id")
    )
    findings = []
    for act in acts:
        nation = act.party.nation
        if nation.valid_from and act.date < nation.valid_from:
            when = f"before {nation.name} came into being on {nation.valid_from.isoformat()}"
        else:
            when = f"after {nation.name} ceased to exist on {nation.valid_to.isoformat()}"
        findings.append(
            Finding(
                "act_outside_existence",
                act.party.agreement.reference,
                f"party {nation.iso3}'s {act.get_kind_display().lower()} is dated "
                f"{act.date.isoformat()}, {when}",
                _party_url(act.party_id),
            )
        )
    return findings


def _agreement_end(agreement: Agreement) -> datetime.date | None:
    """The first day the agreement no longer binds anyone (None: not ended)."""
    ends = []
    if agreement.terminated_on:
        ends.append(agreement.terminated_on)
    if agreement.expires_on:
        ends.append(agreement.expires_on + ONE_DAY)
    return min(ends, default=None)


def bound_outside_membership(scope: Scope) -> list[Finding]:
    organization_parties = AgreementParty.objects.filter(
        agreement__in=scope.agreement_ids(), organization__isnull=False
    ).order_by()
    organizations_of: dict[int, list] = defaultdict(list)
    for agreement_id, organization_id, acronym in organization_parties.values_list(
        "agreement_id", "organization_id", "organization__acronym"
    ):
        organizations_of[agreement_id].append((organization_id, acronym))
    if not organizations_of:
        return []
    memberships: dict[tuple[int, int], list[Membership]] = defaultdict(list)
    for membership in Membership.objects.filter(
        organization_id__in=organization_parties.values("organization_id")
    ).order_by("joined_on", "id"):
        memberships[(membership.organization_id, membership.nation_id)].append(membership)
    periods = (
        PartyPeriod.objects.filter(
            agreement_id__in=organization_parties.values("agreement_id"),
            status=PartyStatus.BOUND,
            party__nation__isnull=False,
        )
        .select_related("agreement", "party__nation")
        .order_by("agreement__reference", "party_id", "starts_on")
    )
    until = scope.today + ONE_DAY
    findings = []
    for period in periods:
        ended = min(
            (e for e in (period.ends_on, _agreement_end(period.agreement)) if e), default=None
        )
        start, end = period.starts_on, min(ended or until, until)
        if end <= start:
            continue
        span = f" to {(ended - ONE_DAY).isoformat()}" if ended else " (still bound)"
        nation = period.party.nation
        for organization_id, acronym in organizations_of[period.agreement_id]:
            spans = memberships.get((organization_id, nation.pk))
            if not spans:
                continue  # never a member: a party in its own right
            problem = _outside_membership(start, end, spans, acronym)
            if problem:
                findings.append(
                    Finding(
                        "bound_outside_membership",
                        period.agreement.reference,
                        f"party {nation.iso3} is bound from {start.isoformat()}{span}, {problem}",
                        _party_url(period.party_id),
                    )
                )
    return findings


def _outside_membership(
    start: datetime.date, end: datetime.date, spans: list[Membership], acronym: str
) -> str:
    """Why the days from ``start`` until ``end`` (exclusive) are not within one of the
    memberships ``spans`` ("" when they are)."""

    def member_on(span: Membership, day: datetime.date) -> bool:
        return (span.joined_on is None or span.joined_on <= day) and (
            span.left_on is None or day < span.left_on
        )

    at_start = next((s for s in spans if member_on(s, start)), None)
    if at_start is None:
        later = [s.joined_on for s in spans if s.joined_on and s.joined_on > start]
        if later:
            return f"before it joined {acronym} on {min(later).isoformat()}"
        left = max(s.left_on for s in spans if s.left_on)
        return f"after it left {acronym} on {left.isoformat()}"
    if at_start.left_on is not None and at_start.left_on < end:
        return f"but it left {acronym} on {at_start.left_on.isoformat()}"
    return ""


def memberships_without_joined_on(scope: Scope) -> list[Finding]:
    references: dict[int, list[str]] = defaultdict(list)
    for organization_id, reference in (
        AgreementParty.objects.filter(
            agreement__in=scope.agreement_ids(), organization__isnull=False
        )
        .order_by("agreement__reference")
        .values_list("organization_id", "agreement__reference")
    ):
        references[organization_id].append(reference)
    if not references:
        return []
    undated = defaultdict(list)
    organizations = {}
    for membership in (
        Membership.objects.filter(
            organization_id__in=AgreementParty.objects.filter(
                agreement__in=scope.agreement_ids()
            ).values("organization_id"),
            joined_on__isnull=True,
        )
        .select_related("organization", "nation")
        .order_by("organization__acronym", "nation__iso3")
    ):
        undated[membership.organization_id].append(membership.nation.iso3)
        organizations[membership.organization_id] = membership.organization
    findings = []
    for organization_id, codes in undated.items():
        organization = organizations[organization_id]
        count = len(codes)
        findings.append(
            Finding(
                "membership_without_joined_on",
                organization.acronym,
                f"{count} membership{'s' if count != 1 else ''} without a joined_on date "
                f"({_names(codes)}); a party to {_names(references[organization_id])}",
                reverse("admin:partners_organization_change", args=[organization_id]),
            )
        )
    return findings


def document_sharing_host(url: str) -> str:
    """The document-sharing site ``url`` is on ("" when none): the host or a subdomain."""
    try:
        host = (urllib.parse.urlsplit(url).hostname or "").rstrip(".").lower()
    except ValueError:
        return ""
    return next(
        (site for site in DOCUMENT_SHARING_HOSTS if host == site or host.endswith("." + site)),
        "",
    )


def _may_be_document_sharing() -> Q:
    """A prefilter for the database (the host is matched exactly in Python)."""
    return reduce(or_, (Q(source_url__icontains=site) for site in DOCUMENT_SHARING_HOSTS))


def document_sharing_sources(scope: Scope) -> list[Finding]:
    findings = []
    agreements = (
        scope.agreements.filter(_may_be_document_sharing())
        .order_by("reference")
        .values_list("pk", "reference", "source_url")
    )
    for pk, reference, url in agreements:
        site = document_sharing_host(url)
        if site:
            findings.append(
                Finding(
                    "document_sharing_source",
                    reference,
                    f"source URL is on a document-sharing site ({site}): {url}",
                    _agreement_url(pk),
                )
            )
    acts = (
        PartyAct.objects.filter(party__agreement__in=scope.agreement_ids())
        .filter(_may_be_document_sharing())
        .select_related("party__agreement", "party__nation", "party__organization")
        .order_by("party__agreement__reference", "party_id", "date", "id")
    )
    for act in acts:
        site = document_sharing_host(act.source_url)
        if site:
            findings.append(
                Finding(
                    "document_sharing_source",
                    act.party.agreement.reference,
                    f"party {act.party.code}'s {act.get_kind_display().lower()} of "
                    f"{act.date.isoformat()}: source URL is on a document-sharing site "
                    f"({site}): {act.source_url}",
                    _party_url(act.party_id),
                )
            )
    return findings


def in_force_past_expiry(scope: Scope) -> list[Finding]:
    agreements = (
        scope.agreements.filter(status=AgreementStatus.IN_FORCE, expires_on__lt=scope.today)
        .order_by("reference")
        .values_list("pk", "reference", "expires_on")
    )
    return [
        Finding(
            "in_force_past_expiry",
            reference,
            f"in force, but it expired on {expires_on.isoformat()}",
            _agreement_url(pk),
        )
        for pk, reference, expires_on in agreements
    ]


SUSPENSION_KINDS = (EventKind.SUSPENDED, EventKind.RESUMED)


def suspensions(scope: Scope) -> list[Finding]:
    latest = AgreementEvent.objects.filter(
        agreement=OuterRef("pk"), kind__in=SUSPENSION_KINDS, date__lte=scope.today
    ).order_by("-date", "-id")
    agreements = (
        scope.agreements.filter(
            Q(status=AgreementStatus.SUSPENDED)
            | Q(status__in=[AgreementStatus.SIGNED, AgreementStatus.IN_FORCE])
        )
        .annotate(
            latest_kind=Subquery(latest.values("kind")[:1]),
            latest_on=Subquery(latest.values("date")[:1]),
            ever_suspended=Exists(
                AgreementEvent.objects.filter(agreement=OuterRef("pk"), kind=EventKind.SUSPENDED)
            ),
        )
        .filter(
            Q(status=AgreementStatus.SUSPENDED) | Q(latest_kind=EventKind.SUSPENDED),
        )
        .order_by("reference")
    )
    findings = []
    today = scope.today.isoformat()
    for agreement in agreements:
        url = _agreement_url(agreement.pk)
        if agreement.status != AgreementStatus.SUSPENDED:
            findings.append(
                Finding(
                    "suspension_disagrees",
                    agreement.reference,
                    f"status is {agreement.get_status_display().lower()}, but it was suspended "
                    f"on {agreement.latest_on.isoformat()} and not resumed by {today}",
                    url,
                )
            )
        elif not agreement.ever_suspended:
            findings.append(
                Finding(
                    "suspended_without_event",
                    agreement.reference,
                    "status is suspended, but its timeline has no suspended event",
                    url,
                )
            )
        elif agreement.latest_kind == EventKind.RESUMED:
            findings.append(
                Finding(
                    "suspension_disagrees",
                    agreement.reference,
                    f"status is suspended, but it was resumed on {agreement.latest_on.isoformat()}",
                    url,
                )
            )
        elif agreement.latest_kind is None:
            findings.append(
                Finding(
                    "suspension_disagrees",
                    agreement.reference,
                    f"status is suspended, but no suspension takes effect by {today}",
                    url,
                )
            )
    return findings


# In the order they are shown; a check may find more than one kind (``suspensions``).
CHECKS = (
    parties_without_acts,
    acts_outside_existence,
    bound_outside_membership,
    memberships_without_joined_on,
    document_sharing_sources,
    in_force_past_expiry,
    suspensions,
)
TITLES = {
    "party_without_acts": "Parties of multilateral agreements without acts of their own",
    "act_outside_existence": "Acts of a nation dated outside the days the state existed",
    "bound_outside_membership": "Member nations bound outside their membership of a party "
    "organization",
    "membership_without_joined_on": "Organizations that are parties, with memberships that have "
    "no joined_on date",
    "document_sharing_source": "Source URLs on document-sharing sites",
    "in_force_past_expiry": "In force past their expiry",
    "suspended_without_event": "Suspended with no suspended event on the timeline",
    "suspension_disagrees": "Status and latest suspended or resumed event disagree",
}


def registry_findings(today: datetime.date | None = None, *, viewer=None) -> list[Finding]:
    """Every inconsistency the checks find as of ``today`` (default: today), in the order of
    ``TITLES``. With ``viewer``, only those about agreements the viewer may see (an
    organization's finding only when it is a party to one of them); without, everything."""
    today = today or timezone.localdate()
    agreements = Agreement.objects.all()
    if viewer is not None:
        agreements = agreements.visible_to(viewer)
    scope = Scope(agreements=agreements, today=today)
    order = {code: n for n, code in enumerate(TITLES)}
    findings = [finding for check in CHECKS for finding in check(scope)]
    return sorted(findings, key=lambda f: order[f.code])


def findings_by_check(findings: list[Finding]) -> list[tuple[str, str, list[Finding]]]:
    """(code, title, findings) for each kind that found something, in the order of TITLES."""
    grouped: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        grouped[finding.code].append(finding)
    return [(code, title, grouped[code]) for code, title in TITLES.items() if grouped[code]]
