"""Admin forms. The agreement form and its inlines save nothing themselves: they hand their
cleaned data to ``agreement_save`` (see ``AgreementForm.save_kwargs``). The reviewer named on
a review must be able to read its agreement (owner and watchers: checked by the service)."""

import re

from django import forms
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.utils import timezone

from config.admin_services import ServiceForm

from . import party_acts
from .models import Agreement, AgreementEvent, AgreementParty, PartyAct, Provision, Review
from .selectors import not_readers_message, readers_among
from .services import (
    AGREEMENT_FIELDS,
    EVENT_FIELDS,
    PARTY_FIELDS,
    PROVISION_FIELDS,
    StaleVersion,
    agreement_save,
    party_acts_save,
    version_seen_by,
)
from .services.acts import ACT_FIELDS, acts_from_shorthand

# A service error about an act of a party row (``parties[2].acts[0].date``).
_NEW_ROW_ACT = re.compile(r"parties\[(\d+)\]\.acts\[(\d+)\](?:\..*)?")


def _shorthand_field(kind: str) -> str | None:
    """The party date (``signed_on``...) an act of ``kind`` stands for, if any."""
    return next((name for name, kinds, _ in party_acts.SHORTHAND if kind in kinds), None)


def _refuse_non_readers(form: forms.ModelForm, name: str, people: list, classification) -> None:
    """An error on ``name`` for each active person in ``people`` who may not read an agreement
    of ``classification``. (A person no longer active can only be there because they already
    were: the choices are active users. They stay, and are sent nothing.)"""
    active = [person for person in people if person.is_active]
    readers = readers_among(active, classification)
    refused = [person for person in active if person not in readers]
    if refused:
        form.add_error(name, not_readers_message(refused, classification))


class ReviewAdminForm(forms.ModelForm):
    def clean(self):
        cleaned = super().clean()
        agreement = cleaned.get("agreement")
        if agreement is None and "agreement" not in self.fields:
            try:
                agreement = self.instance.agreement
            except ObjectDoesNotExist:
                agreement = None
        reviewer = cleaned.get("reviewer")
        if agreement is not None and reviewer is not None:
            _refuse_non_readers(self, "reviewer", [reviewer], agreement.classification)
        return cleaned


def _review_field(name: str, **kwargs) -> forms.Field:
    """A form field built from the Review model's own (its validators and choices)."""
    return Review._meta.get_field(name).formfield(**kwargs)


class RecordReviewForm(forms.Form):
    """The "Record a review" action's page: one review with these values on each selected
    agreement (``review_record``), by the user who records them."""

    reviewed_on = _review_field("reviewed_on", widget=AdminDateWidget, initial=timezone.localdate)
    outcome = _review_field("outcome")
    notes = _review_field(
        "notes", widget=forms.Textarea(attrs={"class": "vLargeTextField", "rows": 4})
    )


class AgreementForm(ServiceForm):
    """The agreement form: it collects itself and its inlines into one ``agreement_save``
    call. ``version_seen`` is the version the editor opened, so a save over someone else's
    change is refused like a stale ``If-Match``."""

    service = staticmethod(agreement_save)
    checked_by_inlines = True
    row_labels = {"parties": "Parties", "provisions": "Provisions", "events": "Events"}
    version_seen = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Agreement
        fields = (*AGREEMENT_FIELDS, "watchers", "contacts")
        widgets = {
            # Titles run long ("Agreement between ... concerning ..."): a full-width input,
            # and room for a paragraph or two of summary.
            "title": forms.TextInput(attrs={"class": "vLargeTextField"}),
            "summary": forms.Textarea(attrs={"class": "vLargeTextField", "rows": 6}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["version_seen"] = version_seen_by(self.instance, self.request.user)

    def service_kwargs(self, formsets) -> dict:
        data = self.cleaned_data
        kwargs = {name: data[name] for name in AGREEMENT_FIELDS if name in data}
        if "watchers" in data:
            kwargs["watchers"] = list(data["watchers"])
        if "contacts" in data:
            kwargs["contact_ids"] = [contact.pk for contact in data["contacts"]]
        for formset in formsets:
            if formset.model is AgreementParty:
                rows = self.rows_of("parties", formset)
                kwargs["parties"] = [self._party_row(f) for f in rows]
            elif formset.model is Provision:
                rows = self.rows_of("provisions", formset)
                kwargs["provisions"] = [
                    {"id": f.instance.pk}
                    | {name: f.cleaned_data.get(name) for name in PROVISION_FIELDS}
                    for f in rows
                ]
            elif formset.model is AgreementEvent:
                rows = self.rows_of("events", formset)
                kwargs["events"] = [
                    {"id": f.instance.pk}
                    | {name: f.cleaned_data.get(name) for name in EVENT_FIELDS}
                    for f in rows
                ]
        return {
            "agreement": self.instance if self.instance.pk else None,
            "actor": self.request.user,
            "source": self.source,
            "expected_version": data.get("version_seen"),
            **kwargs,
        }

    def _party_row(self, form) -> AgreementParty | dict:
        """A party row as the service takes it. A kept row is the stored party with the
        dates the form shows (the service applies them to its acts). A new row is a new
        party: its acts are what its dates say and nothing else, even when it names a
        partner whose old row is deleted in the same save (the service matches parties by
        code, so as dates alone it would inherit the old party's acts, notes and all)."""
        party = AgreementParty(
            nation=form.cleaned_data.get("nation"),
            organization=form.cleaned_data.get("organization"),
            **{name: form.cleaned_data.get(name) for name in PARTY_FIELDS},
        )
        if form.instance.pk:
            return party
        given = {name: form.cleaned_data.get(name) for name in PARTY_FIELDS}
        return {"code": party.code, "acts": acts_from_shorthand([], given)}

    def place_errors(self, exc: ValidationError) -> list[str]:
        """The service names a new row's acts (``parties[2].acts[0]``); the page shows dates,
        so such an error goes on the date the act came from."""
        if not hasattr(exc, "error_dict"):
            return super().place_errors(exc)
        rows = self.inline_rows.get("parties", [])
        renamed: dict[str, list[str]] = {}
        for key, messages in exc.message_dict.items():
            match = _NEW_ROW_ACT.fullmatch(key)
            sent = getattr(self, "service_parties", [])
            if match and int(match[1]) < min(len(rows), len(sent)):
                index, act = int(match[1]), int(match[2])
                acts = sent[index]["acts"] if isinstance(sent[index], dict) else []
                field = _shorthand_field(acts[act].kind) if act < len(acts) else None
                key = f"parties[{index}].{field or 'acts'}"
            renamed.setdefault(key, []).extend(messages)
        return super().place_errors(ValidationError(renamed))

    def run_service(self, formsets, *, validate_only: bool = False):
        kwargs = self.service_kwargs(formsets)
        self.service_parties = kwargs.get("parties") or []
        return type(self).service(validate_only=validate_only, **kwargs)

    def service_errors(self, formsets) -> list[str] | None:
        try:
            return super().service_errors(formsets)
        except StaleVersion:
            return [
                "Someone changed this agreement after you opened it; nothing was saved. "
                "Open it again to see their change, then make yours."
            ]


class PartyActsForm(ServiceForm):
    """A party's page in the admin: its acts (the inline) in one ``party_acts_save`` call.
    ``version_seen`` is the agreement's version the editor opened (as on the agreement's
    page), so a save over someone else's change is refused."""

    service = staticmethod(party_acts_save)
    record_argument = "party"
    checked_by_inlines = True
    row_labels = {"acts": "Acts"}
    version_seen = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = AgreementParty
        fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            user = self.request.user if self.request else None
            self.initial["version_seen"] = version_seen_by(self.instance.agreement, user)

    def service_kwargs(self, formsets) -> dict:
        kwargs = {
            "party": self.instance,
            "actor": self.request.user if self.request else None,
            "source": self.source,
            "expected_version": self.cleaned_data.get("version_seen"),
            "acts": [],
        }
        for formset in formsets:
            if formset.model is PartyAct:
                kwargs["acts"] = [
                    formset.row_values(f, ACT_FIELDS) for f in self.rows_of("acts", formset)
                ]
        return kwargs

    def service_errors(self, formsets) -> list[str] | None:
        try:
            return super().service_errors(formsets)
        except StaleVersion:
            return [
                "Someone changed this agreement after you opened this party; nothing was "
                "saved. Open it again to see their change, then make yours."
            ]
