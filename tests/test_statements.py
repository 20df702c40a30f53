"""Reads compiled once and run again (``agreements.statements``): a list page's parties and
provision categories, read for any number of agreements, are what the ORM reads."""

import pytest

from agreements import statements
from agreements.models import AgreementParty, Provision
from agreements.selectors import parties_by_agreement, visible_categories_by_agreement

from .factories import AgreementFactory, ProvisionFactory


@pytest.fixture
def agreements(partners):
    made = []
    for k in range(12):
        agreement = AgreementFactory(
            parties=[partners["USA"], partners["PHL"]] if k % 2 else [partners["NATO"]]
        )
        ProvisionFactory(agreement=agreement, category="training")
        if k % 3 == 0:
            ProvisionFactory(agreement=agreement, category="logistics", classification="secret")
        made.append(agreement)
    return made


def orm_parties(ids) -> dict:
    found = {}
    for party in AgreementParty.objects.filter(agreement_id__in=ids).order_by("id"):
        partner = party.nation or party.organization
        kind = "nation" if party.nation else "organization"
        code = party.nation.iso3 if party.nation else party.organization.acronym
        found.setdefault(party.agreement_id, []).append((code, partner.name, kind))
    return found


def orm_categories(ids, user) -> dict:
    found = {}
    for provision in Provision.objects.visible_to(user).filter(agreement_id__in=ids):
        found.setdefault(provision.agreement_id, set()).add(provision.category)
    return found


# 1 and 11 ids fill part of a statement (the rest is padded); 2,100 take two parts.
@pytest.mark.parametrize("count", [1, 11, 12, 700, 2100])
def test_pages_of_any_length_read_what_the_orm_reads(agreements, viewer, analyst, count):
    ids = [a.pk for a in agreements][:count]
    ids += [10**9 + k for k in range(count - len(ids))]  # ids no agreement has
    assert dict(parties_by_agreement(ids)) == orm_parties(ids)
    for user in (viewer, analyst):
        assert dict(visible_categories_by_agreement(ids, user)) == orm_categories(ids, user)
    uncleared = visible_categories_by_agreement(ids, viewer)
    assert all("logistics" not in found for found in uncleared.values())
    if count >= 12:
        assert any(
            "logistics" in found for found in visible_categories_by_agreement(ids, analyst).values()
        )


def test_a_statement_is_compiled_once_per_size_and_level(agreements, viewer, analyst, monkeypatch):
    statements.Statement._compiled.__dict__.clear()
    compiled = []
    original = statements.Statement._compile

    def counting(self, connection, size, *args):
        compiled.append((self.build.__name__, size))
        return original(self, connection, size, *args)

    monkeypatch.setattr(statements.Statement, "_compile", counting)
    ids = [a.pk for a in agreements]
    for page in (ids[:11], ids, ids[1:]):  # 11, 12 and 11 ids: all of them 25 slots
        parties_by_agreement(page)
        visible_categories_by_agreement(page, viewer)
    assert compiled == [("_parties_of", 25), ("_categories_of", 25)]
    visible_categories_by_agreement(ids, analyst)  # another level: its own statement
    parties_by_agreement(ids)  # the parties do not depend on the level
    assert compiled[2:] == [("_categories_of", 25)]


def test_an_id_written_into_the_sql_is_refused(db):
    """A build whose ids do not all end up as parameters would be reused with the wrong
    agreements: it fails when compiled."""
    wrong = statements.Statement(
        lambda ids, user, today: Provision.objects.filter(agreement_id=ids[0]).values("id")
    )
    with pytest.raises(AssertionError, match="not each a parameter"):
        wrong.tuples_of([1, 2])
