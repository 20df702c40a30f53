"""Change-list actions of the agreements admin, for editors.

Both act on the admin's queryset (``ClearanceAdminMixin``: only agreements within the user's
clearance), so a selected id out of reach is left out exactly like one that does not exist.

- "Export selected as CSV": the API export's columns and rows (``agreements.export``), only
  the provisions the user may see counted; needs the export permission, as the API export.
- "Record a review": a page asks for the date, outcome and notes, then one review per
  selected agreement is recorded through ``review_record``, all in one transaction (one
  refused, none recorded); needs the permission to add reviews.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import StreamingHttpResponse
from django.template.response import TemplateResponse

from ..export import export_lines
from ..forms import RecordReviewForm
from ..limits import MAX_REVIEWS_AT_ONCE
from ..selectors import agreements_for
from ..services import review_record

EXPORT_PERMISSION = "agreements.export_agreement"
ADD_REVIEW_PERMISSION = "agreements.add_review"
NOTHING_SELECTED = (
    "Items must be selected in order to perform actions on them. No items have been changed."
)


class AgreementActionsMixin:
    """For the agreement admin: the actions and the permissions they name."""

    actions = ("export_csv", "record_review")

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm(EXPORT_PERMISSION)

    def has_record_review_permission(self, request) -> bool:
        return request.user.has_perm(ADD_REVIEW_PERMISSION)

    @admin.action(description="Export selected as CSV", permissions=["export"])
    def export_csv(self, request, queryset):
        ordering = queryset.query.order_by or ()
        rows = agreements_for(request.user).filter(pk__in=queryset.values("pk"))
        if ordering:
            rows = rows.order_by(*ordering)
        response = StreamingHttpResponse(
            export_lines(rows, user=request.user), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = 'attachment; filename="agreements.csv"'
        return response

    @admin.action(description="Record a review", permissions=["record_review"])
    def record_review(self, request, queryset):
        agreements = list(queryset.order_by("reference")[: MAX_REVIEWS_AT_ONCE + 1])
        if not agreements:
            self.message_user(request, NOTHING_SELECTED, messages.WARNING)
            return None
        if len(agreements) > MAX_REVIEWS_AT_ONCE:
            self.message_user(
                request,
                f"Select at most {MAX_REVIEWS_AT_ONCE} agreements to review at once. "
                "No review was recorded.",
                messages.WARNING,
            )
            return None
        form = RecordReviewForm(request.POST if "apply" in request.POST else None)
        errors: list[str] = []
        if form.is_bound and form.is_valid():
            try:
                with transaction.atomic():
                    for agreement in agreements:
                        try:
                            review_record(
                                agreement=agreement,
                                actor=request.user,
                                source="admin",
                                **form.cleaned_data,
                            )
                        except ValidationError as exc:
                            errors = [f"{agreement.reference}: {m}" for m in exc.messages]
                            raise
            except ValidationError:
                pass
            else:
                count = len(agreements)
                self.message_user(
                    request,
                    f"Recorded a review of {count} agreement{'' if count == 1 else 's'}.",
                    messages.SUCCESS,
                )
                return None
        opts = self.model._meta
        context = {
            **self.admin_site.each_context(request),
            **getattr(self, "WIDE_PAGE", {}),  # like the list it comes from
            "title": "Record a review",
            "subtitle": None,
            "opts": opts,
            "form": form,
            "errors": errors,
            "agreements": agreements,
            "selected": [agreement.pk for agreement in agreements],
            "select_across": request.POST.get("select_across", "0"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/agreements/agreement/record_review.html", context)
