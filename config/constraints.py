"""Check constraints validated in Python: ``full_clean`` asks the database about each
``CheckConstraint`` (a ``SELECT 1 WHERE …`` per constraint and row: 40 round trips for one
agreement with ten provisions). ``PythonChecks`` evaluates the conditions the registry uses
(comparisons of fields with values or other fields, ``in``, ``isnull``, ``regex``, joined by
AND, OR and NOT) on the instance itself, with SQL's rule that a check holds unless it is
false (a comparison with NULL is unknown, and passes). A condition it cannot read falls
back to Django's query. The database still enforces every constraint on write."""

from __future__ import annotations

import operator
import re

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import router
from django.db.models import CheckConstraint, F, Q


class _Unsupported(Exception):
    pass


_COMPARE = {
    "exact": operator.eq,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


def _field_value(instance, name: str, exclude):
    if exclude and name in exclude:
        raise LookupError(name)  # Django skips a constraint on an excluded field
    try:
        field = instance._meta.get_field(name)
    except FieldDoesNotExist as exc:
        raise _Unsupported(name) from exc
    if field.many_to_many or field.one_to_many:
        raise _Unsupported(name)
    return getattr(instance, field.attname)


def _lookup(instance, key: str, right, exclude):
    name, _, lookup = key.partition("__")
    lookup = lookup or "exact"
    left = _field_value(instance, name, exclude)
    if isinstance(right, F):
        right = _field_value(instance, right.name, exclude)
    elif hasattr(right, "resolve_expression"):
        raise _Unsupported(key)
    if lookup == "isnull":
        return (left is None) == bool(right)
    if left is None or right is None:
        return None
    if lookup in _COMPARE:
        return _COMPARE[lookup](left, right)
    if lookup == "in":
        return left in list(right)
    if lookup == "regex":
        return re.search(right, str(left)) is not None
    raise _Unsupported(key)


def evaluate(condition, instance, exclude=None):
    """True, False or None (unknown) for a ``Q`` on ``instance``, as SQL would say."""
    if not isinstance(condition, Q):
        raise _Unsupported(repr(condition))
    results = []
    for child in condition.children:
        if isinstance(child, Q):
            results.append(evaluate(child, instance, exclude))
        else:
            results.append(_lookup(instance, child[0], child[1], exclude))
    if condition.connector == Q.AND:
        value = False if False in results else (None if None in results else True)
    elif condition.connector == Q.OR:
        value = True if True in results else (None if None in results else False)
    else:
        raise _Unsupported(condition.connector)
    if condition.negated and value is not None:
        value = not value
    return value


class PythonChecks:
    """A model mixin: ``validate_constraints`` evaluates check constraints in Python."""

    def validate_constraints(self, exclude=None):
        using = router.db_for_write(self.__class__, instance=self)
        errors = {}
        for model_class, constraints in self.get_constraints():
            for constraint in constraints:
                try:
                    if isinstance(constraint, CheckConstraint):
                        self._validate_check(constraint, model_class, exclude, using)
                    else:
                        constraint.validate(model_class, self, exclude=exclude, using=using)
                except ValidationError as exc:
                    if getattr(exc, "code", None) == "unique" and len(constraint.fields) == 1:
                        errors.setdefault(constraint.fields[0], []).append(exc)
                    else:
                        errors = exc.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def _validate_check(self, constraint, model_class, exclude, using):
        try:
            value = evaluate(constraint.condition, self, exclude)
        except LookupError:
            return
        except _Unsupported:
            constraint.validate(model_class, self, exclude=exclude, using=using)
            return
        if value is False:
            raise ValidationError(
                constraint.get_violation_error_message(), code=constraint.violation_error_code
            )
