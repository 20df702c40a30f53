from django import template

register = template.Library()


@register.filter
def get(mapping, key):
    """``mapping[key]``, or an empty string when it has none."""
    try:
        return mapping.get(key, "")
    except AttributeError:
        return ""
