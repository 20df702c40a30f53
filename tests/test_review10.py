"""Review of issue 10 ("answers true on the day"): party acts, the rules of a day, the write
paths that carry acts, the import and the cursor. Each test is a finding: it fails on main
as it stands (2548e6d) and says, in its docstring, what is wrong and how much it matters.
Run on PostgreSQL (the NUL-character cases and the two-thread tests need it):
``DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_review10 pytest tests/test_review10.py``."""

import datetime
import io

import pytest
from django.core.management import call_command

from agreements import party_acts
from agreements.choices import PartyActKind as K
from agreements.choices import PartyStatus as S
from agreements.models import Agreement, PartyAct, PartyPeriod
from agreements.services import agreement_save
from partners.models import Nation
from partners.services import nation_save

from .api_helpers import client_for
from .factories import MembershipFactory, NationFactory

D = datetime.date


class A:
    def __init__(self, kind, date, effective_on=None):
        self.kind, self.date, self.effective_on = kind, date, effective_on


def periods(acts, eif, binds=False):
    return [
        (p.status, p.starts_on, p.ends_on)
        for p in party_acts.party_periods(acts, agreement_in_force_on=eif, signature_binds=binds)
    ]


def status(acts, eif, day, binds=False):
    return party_acts.status_on(
        party_acts.party_periods(acts, agreement_in_force_on=eif, signature_binds=binds), day
    )


def refs(user, **params):
    response = client_for(user).get("/api/v1/agreements/", params)
    assert response.status_code == 200, response.json()
    return sorted(row["reference"] for row in response.json()["results"])


IN_FORCE = {"type": "dca", "status": "in_force"}


# 1. Wrong answers about a day ----------------------------------------------------------------


def test_a_later_accession_binds_again_a_party_that_had_its_own_entry_into_force():
    """MEDIUM. docs/api.md: "withdrawn from the day a denunciation or withdrawal takes effect
    (a later accession binds it again)". party_periods skips every consent-driven bind once
    the party has any entry_into_force act (``own_eif``), so a state that entered into force
    on its own date, denounced, and acceded again stays a signatory for ever (and drops out
    of party=X&in_force_on=, dyad-years)."""
    eif = D(1950, 1, 1)
    rejoined = [
        A(K.RATIFICATION, D(1951, 3, 1)),
        A(K.ENTRY_INTO_FORCE, D(1951, 4, 1)),
        A(K.DENUNCIATION, D(1966, 3, 1), D(1967, 3, 1)),
        A(K.ACCESSION, D(2009, 4, 1)),
    ]
    assert status(rejoined, eif, D(1960, 1, 1)) == S.BOUND
    assert status(rejoined, eif, D(1990, 1, 1)) == S.WITHDRAWN
    assert status(rejoined, eif, D(2010, 1, 1)) == S.BOUND  # actual: signatory


def test_a_new_ratification_binds_again_a_party_that_had_its_own_entry_into_force():
    """LOW. The same ``own_eif`` shortcut: after a withdrawal of ratification ("back to
    signatory"), a new ratification does not bind a party that once had its own entry into
    force act."""
    eif = D(1950, 1, 1)
    reratified = [
        A(K.RATIFICATION, D(1951, 3, 1)),
        A(K.ENTRY_INTO_FORCE, D(1951, 4, 1)),
        A(K.WITHDRAWAL_OF_RATIFICATION, D(1960, 1, 1)),
        A(K.RATIFICATION, D(1970, 1, 1)),
    ]
    assert status(reratified, eif, D(1965, 1, 1)) == S.SIGNATORY
    assert status(reratified, eif, D(1971, 1, 1)) == S.BOUND  # actual: signatory


def test_a_withdrawal_before_the_agreements_entry_into_force_is_not_undone_by_it(partners, viewer):
    """MEDIUM. A party whose only act is a withdrawal (what the migration makes of a row with
    only ``withdrawn_on``, or a signatory that withdrew before entry into force) is accepted
    by the write path when the withdrawal precedes the agreement's entry into force (the
    "after it joined" check needs a joining act). The presumption "no joining act: bound from
    the agreement's entry into force" then moves it from withdrawn to bound for ever: it is
    returned by party=X&in_force_on= decades after it withdrew."""
    agreement_save(
        reference="EARLY-OUT",
        title="Early withdrawal",
        **IN_FORCE,
        signed_on=D(2000, 1, 1),
        entered_into_force_on=D(2001, 1, 1),
        parties=[
            {"code": "FRA", "acts": [{"kind": "withdrawal", "date": "2000-06-01"}]},
            "USA",
            "GBR",
        ],
    )
    # Either the write should refuse it, or the party should stay withdrawn.
    stored = list(
        PartyPeriod.objects.filter(party__nation__iso3="FRA").values_list("status", flat=True)
    )
    assert stored[-1:] == [S.WITHDRAWN], stored  # actual: [... "bound"]
    assert refs(viewer, party="FRA", in_force_on="2020-01-01") == []  # actual: ["EARLY-OUT"]


def test_a_ratification_during_a_suspended_provisional_application_binds_after_resumption():
    """LOW. The bind step of a consent that falls while the party is suspended is dropped
    (SUSPENDED is not a state a bind may leave), and the resumption restores the state saved
    before the suspension (``provisional``): a party that ratified while suspended is
    provisional for ever, never bound."""
    acts = [
        A(K.PROVISIONAL_APPLICATION, D(2000, 1, 1)),
        A(K.SUSPENSION, D(2001, 1, 1)),
        A(K.RATIFICATION, D(2002, 1, 1)),
        A(K.RESUMPTION, D(2003, 1, 1)),
    ]
    assert status(acts, D(2000, 1, 1), D(2004, 1, 1)) == S.BOUND  # actual: provisional


def test_a_bilateral_party_that_ratified_after_entry_into_force_is_bound_from_its_consent():
    """LOW. docs/api.md: a party is bound "from the later of its consent ... and the
    agreement's entry into force"; only "a party that only signed" is bound by its signature
    when the agreement is bilateral. The code also adds the signature's bind for a party that
    ratified, so in a bilateral agreement a late ratifier is bound from the agreement's entry
    into force, before its own consent (check_registry does not flag it either)."""
    acts = [A(K.SIGNATURE, D(2000, 1, 1)), A(K.RATIFICATION, D(2003, 1, 1))]
    assert status(acts, D(2001, 1, 1), D(2002, 1, 1), binds=True) == S.SIGNATORY  # actual: bound


def test_a_member_that_joined_on_the_termination_day_does_not_make_it_an_organization_agreement(
    partners, viewer
):
    """LOW. docs/api.md: organization=X counts a member "at some time while the agreement was
    in force", and an agreement is not in force on its termination day (rule 3). The span of
    ``with_organization`` ends at ``terminated_on`` inclusive (``joined_on <= end``), so a
    nation that joined on the day the agreement was terminated makes it one of X's."""
    pol = NationFactory(iso3="POL", name="Poland")
    MembershipFactory(nation=pol, organization=partners["NATO"], joined_on=D(1999, 3, 12))
    agreement_save(
        reference="ENDS-AS-JOINS",
        title="Ends the day Poland joined NATO",
        type="dca",
        status="terminated",
        signed_on=D(1995, 1, 1),
        entered_into_force_on=D(1995, 1, 1),
        terminated_on=D(1999, 3, 12),
        parties=["POL", "JPN"],
    )
    assert refs(viewer, in_force_on="1999-03-12") == []  # the day rule: not in force then
    assert refs(viewer, organization="NATO") == []  # actual: ["ENDS-AS-JOINS"]


def test_organization_on_a_day_does_not_count_a_member_that_had_left_the_agreement(
    partners, viewer
):
    """LOW (analyst; the docs do not cover it). organization=NATO&in_force_on=2005-01-01
    counts a party nation that was a NATO member that day even when, by its own acts, it had
    withdrawn from the agreement ten years before: ``with_organization`` looks at the
    membership and the agreement's dates, never at the party's periods. party=POL with the
    same day rightly answers nothing, so the two filters disagree about the same nation on
    the same day."""
    pol = NationFactory(iso3="POL", name="Poland")
    MembershipFactory(nation=pol, organization=partners["NATO"], joined_on=D(1999, 3, 12))
    agreement_save(
        reference="LEFT-EARLY",
        title="Poland left it in 1995",
        **IN_FORCE,
        signed_on=D(1990, 1, 1),
        entered_into_force_on=D(1990, 1, 1),
        parties=[
            {
                "code": "POL",
                "acts": [
                    {"kind": "signature", "date": "1990-01-01"},
                    {"kind": "withdrawal", "date": "1995-01-01"},
                ],
            },
            "JPN",
        ],
    )
    assert refs(viewer, party="POL", in_force_on="2005-01-01") == []
    assert refs(viewer, organization="NATO", in_force_on="2005-01-01") == []  # actual: listed


def test_a_state_is_not_bound_before_it_came_into_being(partners, viewer):
    """MEDIUM. Existence dates are checked only against acts; a party with no acts is
    presumed bound from the agreement's entry into force and the periods are cut only at
    ``valid_to`` (``party_acts.until``), never at ``valid_from``. A state created in 1993
    named (by code) on a 1950 agreement is bound, and forms dyads, from 1950."""
    NationFactory(iso3="SVK", name="Slovakia", valid_from=D(1993, 1, 1))
    agreement_save(
        reference="OLD-PACT",
        title="Old pact",
        **IN_FORCE,
        signed_on=D(1950, 1, 1),
        entered_into_force_on=D(1950, 1, 1),
        parties=["SVK", "USA"],
    )
    assert refs(viewer, party="SVK", in_force_on="1960-01-01") == []  # actual: ["OLD-PACT"]


def test_a_terminated_agreement_without_a_termination_date_is_not_in_force_today(
    partners, viewer, frozen_today
):
    """LOW. The write path accepts status ``terminated`` (or ``expired``) with no
    ``terminated_on`` (``expires_on``), unlike ``in_force``, which needs its date; the day
    rule then reads only the dates, so in_force_on=<today> lists an agreement whose own
    status says it ended, and dyad-years give it rows up to this year. check_registry has
    no check for it (it has one for "in force past expiry")."""
    agreement_save(
        reference="ENDED",
        title="Ended, date unknown",
        type="dca",
        status="terminated",
        signed_on=D(2000, 1, 1),
        entered_into_force_on=D(2000, 1, 1),
        parties=["USA", "PHL"],
    )
    assert refs(viewer, in_force_on=frozen_today.isoformat()) == []  # actual: ["ENDED"]


# 2. Stale derived data ------------------------------------------------------------------------


@pytest.fixture
def ussr_pact(partners):
    sun = NationFactory(iso3="SUN", name="USSR", is_historical=True, valid_from=D(1922, 12, 30))
    agreement_save(
        reference="SU-US",
        title="Treaty",
        **IN_FORCE,
        signed_on=D(1950, 2, 14),
        entered_into_force_on=D(1950, 4, 11),
        parties=["SUN", "USA"],
    )
    return sun


def test_setting_a_nations_last_day_through_nation_save_moves_its_periods(ussr_pact, viewer):
    """MEDIUM. PartyPeriod is cut at ``Nation.valid_to``, but ``nation_save`` (the nation
    admin, seed_reference_data) rebuilds nothing: after the admin records that the USSR
    ceased on 1991-12-26, party=SUN&in_force_on=2000-01-01 still answers the treaty until
    someone thinks of running ``rebuild_periods``."""
    nation_save(nation=ussr_pact, valid_to=D(1991, 12, 26))
    assert refs(viewer, party="SUN", in_force_on="2000-01-01") == []  # actual: ["SU-US"]


def test_rebuild_periods_former_states_also_reopens_periods_of_a_nation_whose_dates_went(
    ussr_pact,
):
    """LOW. ``rebuild_periods --former-states`` only looks at agreements with a party nation
    that has dates *now*; a valid_to that was wrong and removed leaves the periods cut at the
    old date, and the command the README names for this reports nothing to do."""
    Nation.objects.filter(pk=ussr_pact.pk).update(valid_to=D(1960, 1, 1))
    call_command("rebuild_periods", "--former-states", stdout=io.StringIO())
    assert PartyPeriod.objects.get(party__nation__iso3="SUN").ends_on == D(1960, 1, 2)
    # The date was a mistake: removed (valid_from too, so the nation has no dates left).
    Nation.objects.filter(pk=ussr_pact.pk).update(valid_to=None, valid_from=None)
    call_command("rebuild_periods", "--former-states", stdout=io.StringIO())
    period = PartyPeriod.objects.get(party__nation__iso3="SUN")
    assert period.ends_on is None  # actual: 1960-01-02


@pytest.mark.django_db(transaction=True)
def test_rebuild_periods_does_not_write_back_periods_of_acts_changed_meanwhile(partners):
    """LOW (concurrency). The ``rebuild_periods`` command reads an agreement's acts without
    taking its row lock, then deletes and re-inserts the periods. A write that changes the
    acts in between (it holds the lock and rebuilds the periods itself) is overwritten by
    periods computed from the old acts; they stay wrong until the next write. Two threads:
    the command pauses after reading (at most 3 s) while an editor records a withdrawal."""
    import threading

    from django.db import connection

    from agreements.services.acts import rebuild_periods

    agreement = agreement_save(
        reference="REBUILD",
        title="Rebuild",
        **IN_FORCE,
        signed_on=D(2000, 1, 1),
        entered_into_force_on=D(2000, 1, 1),
        parties=["USA", "PHL"],
    )
    read, written = threading.Event(), threading.Event()
    real = party_acts.signature_binds

    def pause_in_the_command(*args, **kwargs):
        if threading.current_thread().name == "command":
            read.set()
            written.wait(timeout=3)
        return real(*args, **kwargs)

    def command():
        try:
            call_command("rebuild_periods", stdout=io.StringIO())
        finally:
            read.set()
            connection.close()

    def editor():
        try:
            read.wait(timeout=3)
            agreement_save(
                agreement=agreement,
                parties=[
                    "USA",
                    {"code": "PHL", "acts": [{"kind": "withdrawal", "date": "2010-01-01"}]},
                ],
            )
        finally:
            written.set()
            connection.close()

    party_acts.signature_binds = pause_in_the_command
    try:
        threads = [
            threading.Thread(target=command, name="command"),
            threading.Thread(target=editor),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        party_acts.signature_binds = real
    assert PartyAct.objects.filter(party__nation__iso3="PHL", kind=K.WITHDRAWAL).exists()
    assert rebuild_periods(Agreement.objects.get(pk=agreement.pk)) is False  # actual: stale


# 3. Lost data ---------------------------------------------------------------------------------


def test_shorthand_withdrawn_on_for_a_party_that_rejoined_keeps_its_earlier_denunciation(
    partners,
):
    """MEDIUM. For a party that denounced and came back (``withdrawn_on`` reads None), a
    shorthand ``withdrawn_on`` (the admin's party inline, an old API client, a JSON Lines
    row) is meant to record a new withdrawal. ``acts_from_shorthand`` instead moves the last
    withdrawal act it finds, the historic denunciation, to the new date and clears its
    effective_on: the 1966 denunciation disappears, and with it the years the party was
    out."""
    agreement_save(
        reference="NAT",
        title="Treaty",
        **IN_FORCE,
        signed_on=D(1949, 4, 4),
        entered_into_force_on=D(1949, 8, 24),
        parties=[
            "USA",
            {
                "code": "FRA",
                "acts": [
                    {"kind": "ratification", "date": "1949-08-24"},
                    {
                        "kind": "denunciation",
                        "date": "1966-03-07",
                        "effective_on": "1967-03-07",
                        "note": "Notified by the French Government",
                    },
                    {"kind": "accession", "date": "2009-04-04"},
                ],
            },
        ],
    )
    agreement = Agreement.objects.get(reference="NAT")
    assert agreement.parties.get(nation__iso3="FRA").withdrawn_on is None
    agreement_save(
        agreement=agreement, parties=["USA", {"code": "FRA", "withdrawn_on": D(2030, 1, 1)}]
    )
    acts = set(PartyAct.objects.filter(party__nation__iso3="FRA").values_list("kind", "date"))
    assert (K.DENUNCIATION, D(1966, 3, 7)) in acts, acts  # actual: moved to 2030-01-01
