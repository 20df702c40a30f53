"""The registry check (agreements/registry_check.py): each inconsistency planted in an
otherwise clean registry is found, and nothing else; the check_registry command's output and
exit codes; the admin page for registry admins only, within their clearance; query counts
that do not grow with the number of agreements."""

import datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.choices import Classification
from accounts.groups import REGISTRY_ADMINS
from agreements.models import AgreementParty
from agreements.registry_check import (
    DOCUMENT_SHARING_HOSTS,
    TITLES,
    document_sharing_host,
    registry_findings,
)
from agreements.services import agreement_save

from .factories import MembershipFactory, NationFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

D = datetime.date
TODAY = D(2026, 6, 15)  # the frozen_today fixture's day


def signed(code):
    """A party that signed and ratified (bound from the agreement's entry into force)."""
    return {
        "code": code,
        "acts": [
            {"kind": "signature", "date": "2000-01-01"},
            {"kind": "ratification", "date": "2000-03-01"},
        ],
    }


def make(reference, parties, **fields):
    values = {
        "title": f"Agreement {reference}",
        "type": "alliance",
        "status": "in_force",
        "classification": Classification.UNCLASSIFIED,
        "signed_on": D(2000, 1, 1),
        "entered_into_force_on": D(2000, 6, 1),
        "source_url": f"https://treaties.example.org/{reference}",
    }
    values.update(fields)
    return agreement_save(source="test", reference=reference, parties=parties, **values)


def found(today=TODAY, **kwargs):
    return [(f.code, str(f)) for f in registry_findings(today, **kwargs)]


@pytest.fixture
def clean(db):
    """A registry where every check has something to look at and nothing to find."""
    for code in ("AAA", "BBB", "CCC", "DDD", "EEE"):
        NationFactory(iso3=code, name=f"Nation {code}")
    alliance = OrganizationFactory(acronym="ALLY", name="The Alliance")
    for code in ("AAA", "BBB", "CCC"):
        MembershipFactory(nation_id=code_pk(code), organization=alliance, joined_on=D(1990, 1, 1))
    # A multilateral agreement whose parties all have acts.
    make("MULTI-1", [signed("AAA"), signed("BBB"), signed("CCC")])
    # The alliance and its members, each bound within its membership; a non-member too.
    make("ORG-1", [signed("ALLY"), signed("AAA"), signed("BBB"), signed("EEE")])
    # Bilateral with no acts, a draft multilateral with none: nothing to say.
    make("BI-1", ["AAA", "DDD"])
    make(
        "DRAFT-1",
        ["AAA", "BBB", "CCC"],
        status="draft",
        signed_on=None,
        entered_into_force_on=None,
    )
    # Suspended with its event; suspended and resumed, in force; expiring in the future.
    make(
        "SUSP-1",
        ["AAA", "BBB"],
        status="suspended",
        events=[{"kind": "suspended", "date": "2020-01-01"}],
    )
    make(
        "SUSP-2",
        ["AAA", "BBB"],
        events=[
            {"kind": "suspended", "date": "2020-01-01"},
            {"kind": "resumed", "date": "2021-01-01"},
        ],
        expires_on=TODAY,
    )
    return alliance


def code_pk(code):
    from partners.models import Nation

    return Nation.objects.get(iso3=code).pk


def test_a_clean_registry_has_no_findings(clean):
    assert found() == []


# Each check ---------------------------------------------------------------------------------


def test_a_party_of_a_multilateral_agreement_without_acts(clean):
    make("MULTI-2", [signed("AAA"), signed("BBB"), "CCC"])
    make(
        "MULTI-3",
        [
            signed("AAA"),
            signed("BBB"),
            {"code": "DDD", "acts": [{"kind": "reservation", "date": "2001-01-01"}]},
        ],
    )
    assert found() == [
        ("party_without_acts", "MULTI-2: party CCC has no acts of its own"),
        (
            "party_without_acts",
            "MULTI-3: party DDD has no signature, consent, entry into force or "
            "provisional application of its own",
        ),
    ]
    finding = registry_findings(TODAY)[0]
    party = AgreementParty.objects.get(agreement__reference="MULTI-2", nation__iso3="CCC")
    assert finding.url == reverse("admin:agreements_agreementparty_change", args=[party.pk])


def test_an_act_outside_the_days_the_state_existed(clean):
    from partners.models import Nation
    from partners.services import nation_save

    for code in ("OLA", "OLB", "OLC"):
        NationFactory(iso3=code, name=f"State {code}")
    ratified = [
        {"kind": "signature", "date": "1989-05-01"},
        {"kind": "ratification", "date": "1992-01-10"},
    ]
    make(
        "OLD-1",
        [{"code": "OLA", "acts": ratified}, {"code": "OLB", "acts": ratified}],
        signed_on=D(1989, 5, 1),
        entered_into_force_on=D(1992, 2, 1),
    )
    make("OLD-2", ["AAA", {"code": "OLC", "acts": [{"kind": "accession", "date": "1990-02-01"}]}])
    # The states' dates, set afterwards (the nations' write path knows nothing of acts).
    nation_save(nation=Nation.objects.get(iso3="OLB"), source="test", valid_to=D(1991, 12, 25))
    nation_save(nation=Nation.objects.get(iso3="OLC"), source="test", valid_from=D(1991, 1, 1))
    # Its last day and its first are still the state's own.
    nation_save(
        nation=Nation.objects.get(iso3="OLA"),
        source="test",
        valid_from=D(1989, 5, 1),
        valid_to=D(1992, 1, 10),
    )
    assert found() == [
        (
            "act_outside_existence",
            "OLD-1: party OLB's ratification is dated 1992-01-10, after State OLB ceased to "
            "exist on 1991-12-25",
        ),
        (
            "act_outside_existence",
            "OLD-2: party OLC's accession is dated 1990-02-01, before State OLC came into "
            "being on 1991-01-01",
        ),
    ]
    finding = registry_findings(TODAY)[0]
    party = AgreementParty.objects.get(agreement__reference="OLD-1", nation__iso3="OLB")
    assert finding.url == reverse("admin:agreements_agreementparty_change", args=[party.pk])


def test_a_member_bound_before_it_joined_or_after_it_left(clean):
    MembershipFactory(nation_id=code_pk("DDD"), organization=clean, joined_on=D(2010, 1, 1))
    make("ORG-2", [signed("ALLY"), signed("AAA"), signed("DDD")])
    assert found() == [
        (
            "bound_outside_membership",
            "ORG-2: party DDD is bound from 2000-06-01 (still bound), "
            "before it joined ALLY on 2010-01-01",
        )
    ]


def test_a_member_still_bound_after_it_left(clean):
    from partners.models import Membership

    Membership.objects.filter(nation__iso3="CCC").update(left_on=D(2005, 1, 1))
    # ORG-3: CCC still bound; ORG-4: CCC withdrew when it left; ORG-5 ended before it left.
    make("ORG-3", [signed("ALLY"), signed("AAA"), signed("CCC")])
    withdrew = signed("CCC")
    withdrew["acts"].append(
        {"kind": "withdrawal", "date": "2004-01-01", "effective_on": "2005-01-01"}
    )
    make("ORG-4", [signed("ALLY"), signed("AAA"), withdrew])
    make(
        "ORG-5",
        [signed("ALLY"), signed("AAA"), signed("CCC")],
        status="terminated",
        terminated_on=D(2004, 12, 31),
    )
    assert found() == [
        (
            "bound_outside_membership",
            "ORG-3: party CCC is bound from 2000-06-01 (still bound), but it left ALLY on "
            "2005-01-01",
        ),
        # MULTI-1 has no organization among its parties: CCC is a party in its own right.
    ]


def test_a_member_who_left_before_the_period_began(clean):
    from partners.models import Membership

    Membership.objects.filter(nation__iso3="CCC").update(left_on=D(1995, 1, 1))
    make(
        "ORG-6",
        [signed("ALLY"), signed("AAA"), signed("CCC")],
        status="expired",
        expires_on=D(2010, 12, 31),
    )
    assert found() == [
        (
            "bound_outside_membership",
            "ORG-6: party CCC is bound from 2000-06-01 to 2010-12-31, after it left ALLY on "
            "1995-01-01",
        )
    ]


def test_a_membership_ahead_of_today_is_not_checked(clean):
    from partners.models import Membership

    Membership.objects.filter(nation__iso3="CCC").update(left_on=D(2027, 1, 1))
    make("ORG-7", [signed("ALLY"), signed("AAA"), signed("CCC")])
    assert found() == []
    assert [f for f in found(today=D(2027, 1, 1)) if f[0] == "bound_outside_membership"] == [
        (
            "bound_outside_membership",
            "ORG-7: party CCC is bound from 2000-06-01 (still bound), but it left ALLY on "
            "2027-01-01",
        )
    ]


def test_an_organization_party_with_undated_memberships(clean):
    MembershipFactory(nation_id=code_pk("DDD"), organization=clean, joined_on=None)
    MembershipFactory(nation_id=code_pk("EEE"), organization=clean, joined_on=None)
    # An organization that is no party to anything is not looked at.
    other = OrganizationFactory(acronym="IDLE")
    MembershipFactory(nation_id=code_pk("AAA"), organization=other, joined_on=None)
    assert found() == [
        (
            "membership_without_joined_on",
            "ALLY: 2 memberships without a joined_on date (DDD, EEE); a party to ORG-1",
        )
    ]
    finding = registry_findings(TODAY)[0]
    assert finding.url == reverse("admin:partners_organization_change", args=[clean.pk])


def test_document_sharing_hosts_and_their_subdomains():
    for site in DOCUMENT_SHARING_HOSTS:
        assert document_sharing_host(f"https://{site}/doc/1") == site
        assert document_sharing_host(f"https://www.{site}/doc/1") == site
    assert document_sharing_host("https://de.SCRIBD.com./document/1") == "scribd.com"
    assert document_sharing_host("https://notscribd.com/document/1") == ""
    assert document_sharing_host("https://scribd.com.example.org/document/1") == ""
    assert document_sharing_host("https://example.org/?from=scribd.com") == ""
    assert document_sharing_host("https://treaties.un.org/doc/1") == ""
    assert document_sharing_host("http://[::1") == ""  # malformed: no host


def test_sources_on_document_sharing_sites(clean):
    make("SRC-1", ["AAA", "BBB"], source_url="https://de.scribd.com/document/1/treaty")
    make("SRC-2", ["AAA", "BBB"], source_url="https://example.org/mirror?via=scribd.com")
    make(
        "SRC-3",
        [
            "AAA",
            {
                "code": "BBB",
                "acts": [
                    {
                        "kind": "signature",
                        "date": "2000-01-01",
                        "source_url": "https://www.academia.edu/123/text",
                    }
                ],
            },
        ],
    )
    assert found() == [
        (
            "document_sharing_source",
            "SRC-1: source URL is on a document-sharing site (scribd.com): "
            "https://de.scribd.com/document/1/treaty",
        ),
        (
            "document_sharing_source",
            "SRC-3: party BBB's signature of 2000-01-01: source URL is on a document-sharing "
            "site (academia.edu): https://www.academia.edu/123/text",
        ),
    ]


def test_copy_sites_of_the_pdfslide_and_fdocuments_kind_are_document_sharing(clean):
    # Sites that serve uploaded copies of other publishers' PDFs (a TIAS copy, a court
    # decision): the demo data once cited them.
    make("SRC-4", ["AAA", "BBB"], source_url="https://pdfslide.us/documents/defense-status.html")
    make("SRC-5", ["AAA", "BBB"], source_url="https://fdocuments.in/document/defense-cooperation")
    make("SRC-6", ["AAA", "BBB"], source_url="https://www.state.gov/16-413.1")
    assert found() == [
        (
            "document_sharing_source",
            "SRC-4: source URL is on a document-sharing site (pdfslide.us): "
            "https://pdfslide.us/documents/defense-status.html",
        ),
        (
            "document_sharing_source",
            "SRC-5: source URL is on a document-sharing site (fdocuments.in): "
            "https://fdocuments.in/document/defense-cooperation",
        ),
    ]
    for site in ("pdfslide.net", "fdocuments.net", "vdocuments.mx", "vdocuments.net"):
        assert document_sharing_host(f"https://{site}/document/1") == site
    assert document_sharing_host("https://dokumen.tips/documents/x.html") == "dokumen.tips"


def test_in_force_past_its_expiry(clean):
    make("EXP-1", ["AAA", "BBB"], expires_on=D(2026, 6, 14))
    make("EXP-2", ["AAA", "BBB"], status="expired", expires_on=D(2020, 1, 1))
    assert found() == [("in_force_past_expiry", "EXP-1: in force, but it expired on 2026-06-14")]
    # SUSP-2 expires on TODAY: past it the day after.
    assert [r for _, r in found(today=D(2026, 6, 16))] == [
        "EXP-1: in force, but it expired on 2026-06-14",
        "SUSP-2: in force, but it expired on 2026-06-15",
    ]
    assert found(today=D(2026, 6, 14)) == []


def test_suspensions_that_the_timeline_does_not_bear_out(clean):
    make("SUSP-3", ["AAA", "BBB"], status="suspended")
    make(
        "SUSP-4",
        ["AAA", "BBB"],
        status="suspended",
        events=[
            {"kind": "suspended", "date": "2020-01-01"},
            {"kind": "resumed", "date": "2022-02-01"},
        ],
    )
    make(
        "SUSP-5",
        ["AAA", "BBB"],
        status="suspended",
        events=[{"kind": "suspended", "date": "2026-07-01"}],
    )
    make("SUSP-6", ["AAA", "BBB"], events=[{"kind": "suspended", "date": "2024-05-01"}])
    # Suspended, then terminated: a final status says nothing about suspension.
    make(
        "SUSP-7",
        ["AAA", "BBB"],
        status="terminated",
        terminated_on=D(2025, 1, 1),
        events=[{"kind": "suspended", "date": "2024-05-01"}],
    )
    assert found() == [
        (
            "suspended_without_event",
            "SUSP-3: status is suspended, but its timeline has no suspended event",
        ),
        ("suspension_disagrees", "SUSP-4: status is suspended, but it was resumed on 2022-02-01"),
        (
            "suspension_disagrees",
            "SUSP-5: status is suspended, but no suspension takes effect by 2026-06-15",
        ),
        (
            "suspension_disagrees",
            "SUSP-6: status is in force, but it was suspended on 2024-05-01 and not resumed "
            "by 2026-06-15",
        ),
    ]
    # On the day SUSP-5's suspension takes effect, it agrees.
    assert "SUSP-5" not in str(found(today=D(2026, 7, 1)))


def test_findings_come_in_the_order_of_the_checks(clean):
    make("Z-1", [signed("AAA"), signed("BBB"), "CCC"], status="suspended")
    make("A-1", ["AAA", "BBB"], expires_on=D(2020, 1, 1))
    assert [code for code, _ in found()] == [
        "party_without_acts",
        "in_force_past_expiry",
        "suspended_without_event",
    ]
    assert list(TITLES)[0] == "party_without_acts"


# The command --------------------------------------------------------------------------------


def test_the_command_on_a_clean_registry_exits_zero(clean, capsys):
    call_command("check_registry", "--as-of", "2026-06-15")
    assert capsys.readouterr().out == (
        "Registry check as of 2026-06-15:\nNo inconsistencies found.\n"
    )


def test_the_command_lists_findings_and_exits_one(clean, capsys):
    make("MULTI-2", [signed("AAA"), signed("BBB"), "CCC"])
    make("EXP-1", ["AAA", "BBB"], expires_on=D(2026, 6, 14))
    make("SECRET-1", ["AAA", "BBB"], status="suspended", classification=Classification.SECRET)
    with pytest.raises(CommandError) as info:
        call_command("check_registry", "--as-of", "2026-06-15")
    assert info.value.returncode == 1
    assert str(info.value) == "3 inconsistencies found."
    assert capsys.readouterr().out == (
        "Registry check as of 2026-06-15:\n"
        "Parties of multilateral agreements without acts of their own (1):\n"
        "  MULTI-2: party CCC has no acts of its own\n"
        "In force past their expiry (1):\n"
        "  EXP-1: in force, but it expired on 2026-06-14\n"
        "Suspended with no suspended event on the timeline (1):\n"
        "  SECRET-1: status is suspended, but its timeline has no suspended event\n"
    )
    # As of a day before the expiry, that one is not (yet) a finding.
    with pytest.raises(CommandError, match=r"^2 inconsistencies found\.$"):
        call_command("check_registry", "--as-of", "2026-06-14")


def test_the_command_from_the_command_line_exits_with_1(clean, capsys, monkeypatch):
    """What an operator's script sees: the exit status, and the summary on stderr."""
    from django.core.management import ManagementUtility
    from django.db import connections

    monkeypatch.setattr(connections, "close_all", lambda: None)  # keep the test's transaction
    make("EXP-1", ["AAA", "BBB"], expires_on=D(2026, 6, 14))
    utility = ManagementUtility(["manage.py", "check_registry", "--as-of", "2026-06-15"])
    with pytest.raises(SystemExit) as exit_info:
        utility.execute()
    assert exit_info.value.code == 1
    output = capsys.readouterr()
    assert "EXP-1: in force, but it expired on 2026-06-14" in output.out
    assert "1 inconsistency found." in output.err


def test_the_command_refuses_a_bad_date(clean):
    with pytest.raises(CommandError, match="--as-of: '15/06/2026' is not a date"):
        call_command("check_registry", "--as-of", "15/06/2026")


# The page -----------------------------------------------------------------------------------

PAGE = "/admin/check-registry/"


def test_the_page_lists_the_findings_by_check_with_links(clean, registrar, client, frozen_today):
    make("MULTI-2", [signed("AAA"), signed("BBB"), "CCC"])
    make("SUSP-3", ["AAA", "BBB"], status="suspended")
    client.force_login(registrar)
    response = client.get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "2 inconsistencies found." in html
    party = AgreementParty.objects.get(agreement__reference="MULTI-2", nation__iso3="CCC")
    party_url = reverse("admin:agreements_agreementparty_change", args=[party.pk])
    section = html[html.index('id="check-party_without_acts"') :]
    section = section[: section.index("</table>")]
    assert "Parties of multilateral agreements without acts of their own (1)" in section
    assert f'<a href="{party_url}">MULTI-2</a>' in section
    assert "party CCC has no acts of its own" in section
    suspended = registry_findings(TODAY)[1]
    assert f'<a href="{suspended.url}">SUSP-3</a>' in html
    assert suspended.url.endswith("/change/")
    # Every check has its section, the ones that found nothing say so.
    for title in TITLES.values():
        assert title in html
    assert "In force past their expiry (0)" in html


def test_the_page_says_when_nothing_is_found(clean, registrar, client, frozen_today):
    client.force_login(registrar)
    html = client.get(PAGE).content.decode()
    assert "No inconsistencies found." in html


def test_the_page_is_for_registry_admins_only(clean, editor, viewer, client):
    client.force_login(editor)  # staff, without the permission: refused like the admin does
    assert client.get(PAGE).status_code == 403
    client.force_login(viewer)  # not staff: the admin's sign-in
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    client.logout()
    assert client.get(PAGE).status_code == 302
    # A superuser holds every permission.
    boss = UserFactory(username="boss", is_staff=True, is_superuser=True)
    client.force_login(boss)
    assert client.get(PAGE).status_code == 200


def test_the_page_answers_get_only(clean, registrar, client):
    client.force_login(registrar)
    assert client.post(PAGE).status_code == 405


def test_the_admin_index_links_the_page_for_those_who_may_see_it(clean, registrar, editor, client):
    client.force_login(registrar)
    assert f'href="{PAGE}"' in client.get("/admin/").content.decode()
    client.force_login(editor)
    assert f'href="{PAGE}"' not in client.get("/admin/").content.decode()


def test_the_page_shows_and_counts_only_what_the_admin_may_see(clean, client, frozen_today):
    make("OPEN-1", ["AAA", "BBB"], status="suspended")
    make("SECRET-1", ["AAA", "BBB"], status="suspended", classification=Classification.SECRET)
    # An organization only a secret agreement has as a party, with an undated membership.
    hidden = OrganizationFactory(acronym="HIDDEN")
    MembershipFactory(nation_id=code_pk("AAA"), organization=hidden, joined_on=None)
    make(
        "SECRET-2",
        [signed("HIDDEN"), signed("BBB")],
        classification=Classification.SECRET,
        title="Hidden accord",
    )
    confidential = UserFactory(
        username="registrar_c",
        group=REGISTRY_ADMINS,
        clearance=Classification.CONFIDENTIAL,
        is_staff=True,
    )
    client.force_login(confidential)
    html = client.get(PAGE).content.decode()
    assert "OPEN-1" in html
    assert "SECRET-1" not in html and "SECRET-2" not in html and "HIDDEN" not in html
    assert "1 inconsistency found." in html
    assert "Suspended with no suspended event on the timeline (1)" in html
    assert "Organizations that are parties, with memberships that have no joined_on date (0)" in (
        html
    )
    secret = UserFactory(
        username="registrar_s",
        group=REGISTRY_ADMINS,
        clearance=Classification.SECRET,
        is_staff=True,
    )
    client.force_login(secret)
    html = client.get(PAGE).content.decode()
    assert "SECRET-1" in html and "HIDDEN" in html
    assert "3 inconsistencies found." in html
    # The command (an operator) sees everything.
    assert len(registry_findings(TODAY)) == 3
    assert len(registry_findings(TODAY, viewer=confidential)) == 1


# Query counts -------------------------------------------------------------------------------


def plant(i):
    """The ``i``-th copy of every inconsistency the checks can find."""
    from partners.models import Membership, Nation, Organization

    late, undated = (
        f"Q{chr(65 + i // 26)}{chr(65 + i % 26)}",
        f"U{chr(65 + i // 26)}{chr(65 + i % 26)}",
    )
    ally = Organization.objects.get(acronym="ALLY")
    for code in (late, undated):
        NationFactory(iso3=code)
    Membership.objects.create(
        nation=Nation.objects.get(iso3=late), organization=ally, joined_on=D(2010, 1, 1)
    )
    Membership.objects.create(nation=Nation.objects.get(iso3=undated), organization=ally)
    make(f"MULTI-X{i}", [signed("AAA"), signed("BBB"), undated])
    make(f"ORG-X{i}", [signed("ALLY"), signed("AAA"), signed(late)])
    make(f"SRC-X{i}", ["AAA", "BBB"], source_url=f"https://www.scribd.com/doc/{i}")
    issuu = {"kind": "signature", "date": "2000-01-01", "source_url": f"https://issuu.com/{i}"}
    make(f"ACT-X{i}", ["AAA", {"code": "BBB", "acts": [issuu]}])
    make(f"EXP-X{i}", ["AAA", "BBB"], expires_on=D(2020, 1, 1))
    gone = f"G{chr(65 + i // 26)}{chr(65 + i % 26)}"
    NationFactory(iso3=gone)
    make(f"GONE-X{i}", ["AAA", {"code": gone, "signed_on": "2000-01-01"}])
    Nation.objects.filter(iso3=gone).update(valid_to=D(1999, 1, 1))
    make(f"SUSP-X{i}", ["AAA", "BBB"], status="suspended")
    make(
        f"RES-X{i}",
        ["AAA", "BBB"],
        status="suspended",
        events=[
            {"kind": "suspended", "date": "2020-01-01"},
            {"kind": "resumed", "date": "2021-01-01"},
        ],
    )


def _queries(call):
    with CaptureQueriesContext(connection) as context:
        call()
    return len(context.captured_queries)


def test_the_checks_query_count_does_not_grow_with_the_registry(clean):
    plant(0)
    one = registry_findings(TODAY)
    assert {f.code for f in one} == set(TITLES)  # every kind of finding is there
    queries = _queries(lambda: registry_findings(TODAY))
    for i in range(1, 8):
        plant(i)
    many = registry_findings(TODAY)
    assert len(many) == 8 * (len(one) - 1) + 1  # the undated memberships: one organization
    assert _queries(lambda: registry_findings(TODAY)) == queries


def test_the_pages_query_count_does_not_grow_with_the_registry(
    clean, registrar, client, frozen_today
):
    client.force_login(registrar)
    plant(0)
    client.get(PAGE)  # the session, content types and permissions cached as in any request
    queries = _queries(lambda: client.get(PAGE))
    for i in range(1, 8):
        plant(i)
    with CaptureQueriesContext(connection) as context:
        response = client.get(PAGE)
    assert response.status_code == 200
    assert "SUSP-X7" in response.content.decode()
    assert len(context.captured_queries) == queries
