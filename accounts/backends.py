"""Permissions read in one query.

Django's ``ModelBackend`` reads a user's permissions in two queries (their own, then their
groups'), once per request, on every request. ``PermissionsInOneQuery`` reads the same set in
one (a ``UNION``) and leaves it where ``ModelBackend`` looks for it (``_perm_cache`` on the
user), so ``ModelBackend``, after it in ``AUTHENTICATION_BACKENDS``, answers from it without a
query. It authenticates no one: signing in and sessions stay ``ModelBackend``'s."""

from __future__ import annotations

from django.contrib.auth.models import Permission


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
            fields = ("content_type__app_label", "codename")
            if user_obj.is_superuser:
                rows = Permission.objects.values_list(*fields)
            else:
                own = Permission.objects.filter(user=user_obj).values_list(*fields)
                grouped = Permission.objects.filter(group__user=user_obj).values_list(*fields)
                rows = own.order_by().union(grouped.order_by())
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in rows}
        return user_obj._perm_cache

    def has_perm(self, user_obj, perm, obj=None):
        return user_obj.is_active and perm in self.get_all_permissions(user_obj, obj)
