"""How a change record reads to people: field labels instead of field names, the labels of
choices instead of their values, dates as "20 Dec 2026", and one sentence for what happened
("Party added: Japan", "Expires: 20 Dec 2026 → 20 Dec 2027").

The records keep what the services wrote (field names and plain JSON values, which the API
returns as they are); this is only how every page shows them: the agreement page, the nation
and organization pages, the dashboard and the admin, all through ``ChangeRecord.display``.
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass

from django.db import models
from django.utils.dateformat import format as format_date
from django.utils.text import capfirst

DATE_FORMAT = "j M Y"  # 20 Dec 2026
ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
MAX_VALUE_LENGTH = 80

# What a record is called in a sentence, where its verbose name is not what people say.
RECORD_NAMES = {
    "agreementparty": "party",
    "agreementevent": "event",
    "partyact": "act",
    "pointofcontact": "point of contact",
    "participation": "participant",
}

# The verb of each action: a part added to an aggregate, an act or a review recorded, an
# aggregate itself created.
VERBS = {"create": "added", "update": "changed", "delete": "removed"}
AGGREGATE_VERBS = {"create": "created", "update": "changed", "delete": "deleted"}
AGGREGATES = {"agreement", "nation", "organization", "engagement"}
RECORDED = {"partyact", "review"}

# A field whose name says it better than its verbose name ("expires on" reads as "Expires").
FIELD_LABELS = {
    "signed_on": "Signed",
    "entered_into_force_on": "Entered into force",
    "expires_on": "Expires",
    "terminated_on": "Terminated",
    "ratified_on": "Ratified",
    "withdrawn_on": "Withdrawn",
    "notice_given_on": "Notice given",
    "next_review_on": "Next review",
    "reviewed_on": "Reviewed",
    "effective_on": "Takes effect",
    "joined_on": "Joined",
    "left_on": "Left",
}


@dataclass(frozen=True)
class ChangeLine:
    """One field of a change: its label and its values before and after, as shown ("" for
    none)."""

    field: str
    label: str
    before: str
    after: str
    action: str = "update"

    @property
    def text(self) -> str:
        """The line as plain text: "20 Dec 2026 → 20 Dec 2027", or one value for a record
        added or removed."""
        if self.action == "create":
            return self.after or "empty"
        if self.action == "delete":
            return self.before or "empty"
        return f"{self.before or 'empty'} → {self.after or 'empty'}"


@dataclass(frozen=True)
class ChangeDisplay:
    summary: str
    lines: list[ChangeLine]


def humanize_dates(text: str) -> str:
    """ISO dates inside a stored text ("Accession on 2024-03-07") as people write them."""

    def replace(match: re.Match) -> str:
        try:
            day = datetime.date(*(int(part) for part in match.groups()))
        except ValueError:
            return match.group(0)
        return format_date(day, DATE_FORMAT)

    return ISO_DATE.sub(replace, text or "")


def _field(model, name: str):
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except Exception:  # a field since renamed or removed: history outlives it
        return None


def field_label(model, name: str) -> str:
    if name in FIELD_LABELS:
        return FIELD_LABELS[name]
    field = _field(model, name)
    verbose = getattr(field, "verbose_name", None)
    return capfirst(str(verbose)) if verbose else capfirst(name.replace("_", " "))


def value_label(model, name: str, value) -> str:
    """A stored value as people read it; "" for none."""
    if value is None or value == "" or value == []:
        return ""
    field = _field(model, name)
    if isinstance(value, list):
        return ", ".join(value_label(model, name, item) for item in value)
    if isinstance(value, bool) or isinstance(field, models.BooleanField):
        return "Yes" if value else "No"
    choices = dict(field.flatchoices) if field is not None and field.choices else {}
    if choices and value in choices:
        return str(choices[value])
    if isinstance(field, models.DateTimeField) and isinstance(value, str):
        try:
            return format_date(datetime.datetime.fromisoformat(value), f"{DATE_FORMAT}, H:i")
        except ValueError:
            return value
    if isinstance(field, models.DateField) and isinstance(value, str):
        try:
            return format_date(datetime.date.fromisoformat(value), DATE_FORMAT)
        except ValueError:
            return value
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    text = str(value)
    return text if len(text) <= MAX_VALUE_LENGTH else text[: MAX_VALUE_LENGTH - 1] + "…"


def record_name(model_name: str, model) -> str:
    if model_name in RECORD_NAMES:
        return RECORD_NAMES[model_name]
    return str(model._meta.verbose_name) if model is not None else model_name


def summary(record) -> str:
    """One sentence: "Party added: Japan", "Agreement changed: US-PH-TRG: …"."""
    model_name = record.changed_object_type.model
    model = record.changed_object_type.model_class()
    verbs = AGGREGATE_VERBS if model_name in AGGREGATES else VERBS
    verb = verbs.get(record.action, record.action)
    if record.action == "create" and model_name in RECORDED:
        verb = "recorded"
    return (
        f"{capfirst(record_name(model_name, model))} {verb}: {humanize_dates(record.object_repr)}"
    )


def describe(record) -> ChangeDisplay:
    model = record.changed_object_type.model_class()
    lines = []
    for name, values in (record.changes or {}).items():
        before, after = (
            (list(values) + [None, None])[:2] if isinstance(values, list) else (None, values)
        )
        lines.append(
            ChangeLine(
                field=name,
                label=field_label(model, name),
                before=value_label(model, name, before),
                after=value_label(model, name, after),
                action=record.action,
            )
        )
    return ChangeDisplay(summary=summary(record), lines=lines)
