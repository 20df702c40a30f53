"""Admin forms. The agreement form and its inlines save nothing themselves: they hand their
cleaned data to ``agreement_save`` (see ``AgreementForm.save_kwargs``). The reviewer named on
a review must be able to read its agreement (owner and watchers: checked by the service)."""

from django import forms
from django.core.exceptions import ObjectDoesNotExist, ValidationError

from .models import Agreement, AgreementEvent, AgreementParty, Provision
from .selectors import not_readers_message, readers_among
from .services import (
    AGREEMENT_FIELDS,
    EVENT_FIELDS,
    PARTY_FIELDS,
    PROVISION_FIELDS,
    StaleVersion,
    agreement_save,
    version_seen_by,
)


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


class AggregateInlineFormSet(forms.BaseInlineFormSet):
    """An inline of the agreement form. Nothing here saves: the agreement admin hands every
    inline's cleaned data to ``agreement_save``, and the last of these formsets to be
    validated asks that service to check the whole agreement, so its rules (the party rule,
    a stale version...) are shown as form errors, written once, in the service."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        registry = self.instance.__dict__.setdefault("_admin_formsets", [])
        registry.append(self)

    def clean(self):
        super().clean()
        registry = self.instance.__dict__.get("_admin_formsets", [])
        form = self.instance.__dict__.get("_admin_form")
        if form is None or not registry or registry[-1] is not self:
            return
        if not form.is_valid() or any(fs.total_error_count() for fs in registry[:-1]):
            return
        if any(not f.is_valid() for f in self.forms):
            return
        try:
            agreement_save(validate_only=True, **form.save_kwargs(registry))
        except StaleVersion:
            raise ValidationError(
                "Someone changed this agreement after you opened it; nothing was saved. "
                "Open it again to see their change, then make yours."
            ) from None
        except ValidationError as exc:
            # Always an error here too: the agreement form was already judged valid.
            rest = form.place_errors(exc, registry)
            raise ValidationError(rest or "Please correct the errors above.") from None


class AgreementForm(forms.ModelForm):
    """The agreement form: it collects itself and its inlines into one ``agreement_save``
    call. ``version_seen`` is the version the editor opened, so a save over someone else's
    change is refused like a stale ``If-Match``."""

    version_seen = forms.IntegerField(widget=forms.HiddenInput, required=False)
    request = None  # set by AgreementAdmin.get_form

    class Meta:
        model = Agreement
        fields = (*AGREEMENT_FIELDS, "watchers")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.__dict__["_admin_form"] = self
        if self.instance.pk and not self.is_bound:
            self.initial["version_seen"] = version_seen_by(self.instance, self.request.user)

    def save_kwargs(self, formsets) -> dict:
        data = self.cleaned_data
        kwargs = {name: data[name] for name in AGREEMENT_FIELDS if name in data}
        if "watchers" in data:
            kwargs["watchers"] = list(data["watchers"])
        for formset in formsets:
            rows = [f for f in formset.forms if f not in formset.deleted_forms]
            rows = [f for f in rows if f.instance.pk or f.has_changed()]
            if formset.model is AgreementParty:
                kwargs["parties"] = [
                    AgreementParty(
                        nation=f.cleaned_data.get("nation"),
                        organization=f.cleaned_data.get("organization"),
                        **{name: f.cleaned_data.get(name) for name in PARTY_FIELDS},
                    )
                    for f in rows
                ]
            elif formset.model is Provision:
                kwargs["provisions"] = [
                    {"id": f.instance.pk}
                    | {name: f.cleaned_data.get(name) for name in PROVISION_FIELDS}
                    for f in rows
                ]
            elif formset.model is AgreementEvent:
                kwargs["events"] = [
                    {"id": f.instance.pk}
                    | {name: f.cleaned_data.get(name) for name in EVENT_FIELDS}
                    for f in rows
                ]
        return {
            "agreement": self.instance if self.instance.pk else None,
            "actor": self.request.user,
            "source": "admin",
            "expected_version": data.get("version_seen"),
            **kwargs,
        }

    def place_errors(self, exc: ValidationError, formsets) -> list[str]:
        """Put the service's errors on the fields they name; return the rest."""
        rest = []
        for key, messages in exc.message_dict.items():
            if key in self.fields:
                self.add_error(key, messages)
                continue
            name = key.split("[", 1)[0].split(".", 1)[0]
            where = {"parties": "Parties", "provisions": "Provisions", "events": "Events"}
            if name in where and "[" in key:
                number = int(key.split("[", 1)[1].split("]", 1)[0]) + 1
                field = key.split(".", 1)[1] if "." in key else ""
                label = f"{where[name]}, row {number}" + (f", {field}" if field else "")
                rest += [f"{label}: {m}" for m in messages]
            elif name in where:
                rest += [f"{where[name]}: {m}" for m in messages]
            else:
                rest += list(messages)
        return rest
