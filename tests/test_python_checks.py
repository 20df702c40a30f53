"""``config.constraints.PythonChecks`` says what the database would say: every check
constraint of every model using it, evaluated in Python and by the database (Django's own
``Q.check``) on the same instances, with each field it names set to None, to the value of
another field it names, and just below and above it."""

import datetime
import itertools

import pytest
from django.apps import apps
from django.db import connection
from django.db.models import CheckConstraint, F, Q

from config.constraints import PythonChecks, _Unsupported, evaluate

from .factories import AgreementFactory, MembershipFactory, ProvisionFactory


def _fields_of(condition):
    for child in condition.children:
        if isinstance(child, Q):
            yield from _fields_of(child)
        else:
            yield child[0].split("__", 1)[0]
            if isinstance(child[1], F):
                yield child[1].name


def _variants(instance, names):
    """Values to try for each named field."""
    for name in names:
        field = instance._meta.get_field(name)
        current = getattr(instance, field.attname)
        if field.primary_key:
            yield name, field.attname, [current]
            continue
        values = [None] if field.null else []
        if isinstance(current, datetime.date):
            values += [
                current - datetime.timedelta(days=1),
                current,
                current + datetime.timedelta(days=1),
            ]
            values += [
                getattr(instance, instance._meta.get_field(o).attname) for o in names if o != name
            ]
        elif field.choices:
            values += [field.choices[0][0], "not-a-choice"]
        elif isinstance(current, str):
            values += [current, current.lower(), "abc", ""]
        elif isinstance(current, int) and not isinstance(current, bool):
            values += [current, 0, -1]
        yield name, field.attname, [v for v in values if v is not None or field.null]


def _samples(db):
    agreement = AgreementFactory(
        expires_on=datetime.date(2030, 1, 1), auto_renews=True, renewal_period_months=12
    )
    provision = ProvisionFactory(agreement=agreement)
    membership = MembershipFactory()
    party = agreement.parties.first()
    party.signed_on = datetime.date(2015, 3, 1)
    party.entered_into_force_on = datetime.date(2015, 6, 1)
    party.withdrawn_on = datetime.date(2020, 1, 1)
    return [agreement, provision, membership, party, membership.nation, membership.organization]


def test_python_and_database_agree_on_every_check_constraint(db, partners):
    checked = 0
    for instance in _samples(db):
        assert isinstance(instance, PythonChecks), type(instance)
        for constraint in instance._meta.constraints:
            if not isinstance(constraint, CheckConstraint):
                continue
            names = sorted(set(_fields_of(constraint.condition)))
            variants = list(_variants(instance, names))
            for combo in itertools.product(*(values for _, _, values in variants)):
                for (_, attname, _), value in zip(variants, combo, strict=True):
                    setattr(instance, attname, value)
                try:
                    python = evaluate(constraint.condition, instance) is not False
                except _Unsupported:
                    continue
                against = instance._get_field_expression_map(meta=instance._meta)
                database = Q(constraint.condition).check(against, using=connection.alias)
                assert python == database, (constraint.name, dict(zip(names, combo, strict=True)))
                checked += 1
            instance.refresh_from_db()
    assert checked > 100


def test_every_registry_model_validates_checks_in_python():
    for model in apps.get_models():
        if model._meta.app_label in {"agreements", "partners"} and any(
            isinstance(c, CheckConstraint) for c in model._meta.constraints
        ):
            assert issubclass(model, PythonChecks), model


def test_a_broken_check_is_still_a_validation_error_without_a_query(
    db, partners, django_assert_num_queries
):
    from django.core.exceptions import ValidationError

    agreement = AgreementFactory()
    agreement.signed_on = datetime.date(2020, 1, 1)
    agreement.entered_into_force_on = datetime.date(2019, 1, 1)
    with django_assert_num_queries(0), pytest.raises(ValidationError):
        agreement.validate_constraints()
