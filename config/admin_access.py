"""What every admin page of the registry shares so that none reveals a record out of reach.

``RegistryAdminMixin`` goes on every ModelAdmin and inline of the project (a test checks):

- choices: every foreign-key and many-to-many field offers only the rows the user may see
  (``rows_visible_to``), so a hidden id is refused exactly like a missing one ("Select a
  valid choice"); people are chosen among active users (the ones already on a record stay
  selectable, so an edit neither drops nor trips over someone who has left);
- lookups: a change list filters over a relation only through the filters it declares
  (``list_filter``, ``date_hierarchy``); ``?owned_agreements=<id>`` and the like answer 400;
- delete pages: a deletion that would delete or change a record the user may not see is
  refused, and the confirmation page names none of those records nor counts them.
"""

from django.contrib.admin.filters import SimpleListFilter
from django.contrib.admin.utils import NestedObjects
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import router
from django.db.models import QuerySet
from django.db.models.constants import LOOKUP_SEP
from django.utils.text import capfirst

from agreements.selectors import has_clearance_rule, rows_visible_to
from config.admin_actions import SafeActionsMixin

OUT_OF_REACH = "records above your clearance"


class RegistryAdminMixin(SafeActionsMixin):
    # Choices ------------------------------------------------------------------------------

    def _related_choices(self, db_field, request, queryset, using):
        if queryset is None:
            queryset = self.get_field_queryset(using, db_field, request)
        if queryset is None:
            queryset = db_field.remote_field.model._default_manager.using(using).all()
        if queryset.model is get_user_model():
            queryset = queryset.filter(is_active=True)
        return rows_visible_to(queryset, request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs["queryset"] = self._related_choices(
            db_field, request, kwargs.get("queryset"), kwargs.get("using")
        )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs["queryset"] = self._related_choices(
            db_field, request, kwargs.get("queryset"), kwargs.get("using")
        )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_form(self, request, obj=None, *args, **kwargs):
        form = super().get_form(request, obj, *args, **kwargs)
        if obj is not None and obj.pk is not None:
            _keep_current_people(form, obj)
        return form

    # Lookups ------------------------------------------------------------------------------

    def _declared_filters(self, request) -> tuple[set[str], set[str]]:
        """(parameter names of the custom filters, field paths of the field filters)."""
        parameters, paths = set(), {self.date_hierarchy} - {None}
        list_filter = self.get_list_filter(request) if request is not None else self.list_filter
        for item in list_filter:
            if isinstance(item, type) and issubclass(item, SimpleListFilter):
                parameters.add(item.parameter_name)
            else:
                paths.add(item[0] if isinstance(item, list | tuple) else item)
        return parameters, paths

    def lookup_allowed(self, lookup, value, request=None):
        """Plain fields of the model, and relations only as the declared filters span them;
        anything else (a reverse relation, a link to another agreement, a made-up name) is
        refused, which the change list answers with a 400."""
        parameters, paths = self._declared_filters(request)
        if lookup in parameters:
            return super().lookup_allowed(lookup, value, request)
        first = lookup.split(LOOKUP_SEP, 1)[0]
        opts = self.model._meta
        try:
            field = opts.pk if first == "pk" else opts.get_field(first)
        except FieldDoesNotExist:
            return False
        if field.is_relation and not any(
            path == first or path.startswith(first + LOOKUP_SEP) for path in paths
        ):
            return False
        return super().lookup_allowed(lookup, value, request)

    # Deleting -----------------------------------------------------------------------------

    def get_deleted_objects(self, objs, request):
        if not deletion_reaches_hidden(objs, request.user, using=router.db_for_write(self.model)):
            return super().get_deleted_objects(objs, request)
        objs = list(objs)
        opts = self.model._meta
        to_delete = [f"{capfirst(opts.verbose_name)}: {obj}" for obj in objs]
        # Named like a permission the user lacks: the page says it cannot go ahead, and a
        # POST is refused (403).
        return to_delete, {opts.verbose_name_plural: len(objs)}, {OUT_OF_REACH}, []


def _keep_current_people(form, obj) -> None:
    """Let the people already on ``obj`` stay chosen even when no longer active."""
    User = get_user_model()
    for name, field in form.base_fields.items():
        queryset = getattr(field, "queryset", None)
        if queryset is None or queryset.model is not User:
            continue
        try:
            model_field = obj._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if model_field.many_to_many:
            current = list(getattr(obj, name).values_list("pk", flat=True))
        elif model_field.many_to_one:
            current = [getattr(obj, model_field.attname)]
        else:
            continue
        current = [pk for pk in current if pk is not None]
        if current:
            field.queryset = queryset | User._default_manager.filter(pk__in=current)


def deletion_reaches_hidden(objs, user, *, using) -> bool:
    """Whether deleting ``objs`` would delete, block on or change (a link set to null) a
    record ``user`` may not see."""
    if user.is_superuser:
        return False
    collector = NestedObjects(using=using)
    collector.collect(objs)
    touched = [(model, [o.pk for o in instances]) for model, instances in collector.data.items()]
    touched += [(type(o), [o.pk]) for o in collector.protected]
    for batches in collector.field_updates.values():
        for batch in batches:  # a queryset (or a list) of the rows whose link goes null
            if isinstance(batch, QuerySet):
                touched.append((batch.model, batch.values("pk")))
            elif batch:
                touched.append((type(batch[0]), [o.pk for o in batch]))
    for model, pks in touched:
        if not has_clearance_rule(model):
            continue
        rows = model._default_manager.using(using).filter(pk__in=pks)
        if rows.exclude(pk__in=rows_visible_to(rows, user).values("pk")).exists():
            return True
    return False
