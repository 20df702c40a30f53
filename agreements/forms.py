"""Admin forms: the reviewer named on a review must be able to read its agreement (the
owner and watchers of an agreement are checked by ``agreement_save``)."""

from django import forms
from django.core.exceptions import ObjectDoesNotExist

from .selectors import not_readers_message, readers_among


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
