"""The engagement admin form: it saves nothing itself, it hands its cleaned data and its
participants' rows to ``engagement_save`` (``ServiceForm``)."""

from django import forms

from config.admin_services import ServiceForm

from .models import Engagement, Participation
from .services import ENGAGEMENT_FIELDS, StaleVersion, engagement_save, version_seen_by


class EngagementForm(ServiceForm):
    """``version_seen`` is the version the editor opened, so a save over someone else's
    change is refused like a stale ``If-Match``. The link fields offer only what the editor
    may see; the links above their clearance are kept by the service."""

    service = staticmethod(engagement_save)
    checked_by_inlines = True
    row_labels = {"participants": "Participants"}
    version_seen = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Engagement
        fields = (*ENGAGEMENT_FIELDS, "watchers", "agreements", "provisions", "contacts")
        widgets = {
            "title": forms.TextInput(attrs={"class": "vLargeTextField"}),
            "summary": forms.Textarea(attrs={"class": "vLargeTextField", "rows": 4}),
            "objectives": forms.Textarea(attrs={"class": "vLargeTextField", "rows": 4}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["version_seen"] = version_seen_by(self.instance, self.request.user)

    def service_kwargs(self, formsets) -> dict:
        data = self.cleaned_data
        kwargs = {name: data[name] for name in ENGAGEMENT_FIELDS if name in data}
        for name in ("agreements", "provisions", "contacts"):
            if name in data:
                kwargs[f"{name.removesuffix('s')}_ids"] = list(data[name])
        if "watchers" in data:
            kwargs["watchers"] = list(data["watchers"])
        for formset in formsets:
            if formset.model is Participation:
                rows = self.rows_of("participants", formset)
                kwargs["participants"] = [
                    Participation(
                        nation=f.cleaned_data.get("nation"),
                        organization=f.cleaned_data.get("organization"),
                        role=f.cleaned_data.get("role") or "participant",
                        personnel=f.cleaned_data.get("personnel"),
                    )
                    for f in rows
                ]
        return {
            "engagement": self.instance if self.instance.pk else None,
            "actor": self.request.user,
            "source": self.source,
            "expected_version": data.get("version_seen"),
            **kwargs,
        }

    def service_errors(self, formsets) -> list[str] | None:
        try:
            return super().service_errors(formsets)
        except StaleVersion:
            return [
                "Someone changed this engagement after you opened it; nothing was saved. "
                "Open it again to see their change, then make yours."
            ]
