"""Permissions read in one query.

Django's ``ModelBackend`` reads a user's permissions in two queries (their own, then their
groups'), once per request, on every request. ``PermissionsInOneQuery`` reads the same set in
one (a ``UNION``, its SQL built once) and leaves it where ``ModelBackend`` looks for it
(``_perm_cache`` on the user), so ``ModelBackend``, after it in ``AUTHENTICATION_BACKENDS``,
answers from it without a query. It authenticates no one: signing in and sessions stay
``ModelBackend``'s."""

from __future__ import annotations

import functools

from django.contrib.auth.models import Permission
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

FIELDS = ("content_type__app_label", "codename")


@functools.cache
def _users_permissions_sql(alias: str) -> str:
    """The SQL of a user's own and their groups' permissions (a ``UNION``), its two
    parameters the user's id: built through the ORM once, not on every request (building
    it cost more than running it)."""
    own = Permission.objects.using(alias).filter(user=0).values_list(*FIELDS)
    grouped = Permission.objects.using(alias).filter(group__user=0).values_list(*FIELDS)
    query = own.order_by().union(grouped.order_by()).query
    sql, params = query.get_compiler(using=alias).as_sql()
    if list(params) != [0, 0]:  # the ORM's SQL changed shape: a programming error
        raise ImproperlyConfigured(f"Unexpected parameters in the permissions' SQL: {params}")
    return sql


class PermissionsInOneQuery:
    """No ``get_user``: a session never names this backend."""

    def authenticate(self, request, **credentials):
        return None

    def get_all_permissions(self, user_obj, obj=None):
        """``ModelBackend``'s answer: the user's own and their groups' permissions as
        ``"app_label.codename"``, every permission for an active superuser, none for an
        inactive or anonymous user or about a single object."""
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                rows = Permission.objects.values_list(*FIELDS)
            else:
                alias = Permission.objects.db
                with connections[alias].cursor() as cursor:
                    cursor.execute(_users_permissions_sql(alias), [user_obj.pk, user_obj.pk])
                    rows = cursor.fetchall()
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in rows}
        return user_obj._perm_cache

    def has_perm(self, user_obj, perm, obj=None):
        return user_obj.is_active and perm in self.get_all_permissions(user_obj, obj)
