from django import template

register = template.Library()

_RECORD_KINDS = {"agreementparty": "party", "pointofcontact": "point of contact"}


@register.filter
def record_kind(model_name: str) -> str:
    """A change record's model name as people say it ("party", not "agreementparty")."""
    return _RECORD_KINDS.get(model_name, model_name)


@register.filter
def get(mapping, key):
    """``mapping[key]``, or an empty string when it has none."""
    try:
        return mapping.get(key, "")
    except AttributeError:
        return ""
