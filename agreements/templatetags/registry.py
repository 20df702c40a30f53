from django import template

register = template.Library()

_RECORD_KINDS = {"agreementparty": "party"}


@register.filter
def record_kind(model_name: str) -> str:
    """A change record's model name as people say it ("party", not "agreementparty")."""
    return _RECORD_KINDS.get(model_name, model_name)
