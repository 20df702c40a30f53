"""JSON with a bounded depth, for every place that parses JSON sent from outside (the API,
the admin's JSON fields, the import).

Python's parser recurses once per level: ``[[[[…]]]]`` 100,000 deep raises ``RecursionError``,
which nothing expects and which becomes a 500. Nothing the registry takes is deeper than a few
levels (an agreement, its parties, one party), so anything deeper than ``JSON_MAX_DEPTH``
(default 32) is refused as bad input, with a message that says so.
"""

from __future__ import annotations

import json

from django.conf import settings

DEFAULT_MAX_DEPTH = 32


def max_depth() -> int:
    return getattr(settings, "JSON_MAX_DEPTH", DEFAULT_MAX_DEPTH)


class JSONTooDeep(ValueError):
    def __init__(self, limit: int):
        super().__init__(f"nested deeper than {limit} levels")
        self.limit = limit


def check_depth(value, limit: int | None = None) -> None:
    """Raise ``JSONTooDeep`` when lists and objects in ``value`` nest deeper than ``limit``
    (a scalar is depth 0, ``[]`` depth 1). Iterative, so it never recurses itself."""
    limit = max_depth() if limit is None else limit
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            raise JSONTooDeep(limit)
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def loads(text: str | bytes, *, limit: int | None = None, **kwargs):
    """``json.loads`` that raises ``JSONTooDeep`` (a ``ValueError``) instead of recursing
    without end; other errors are ``json.JSONDecodeError`` as usual."""
    limit = max_depth() if limit is None else limit
    try:
        value = json.loads(text, **kwargs)
    except RecursionError:
        raise JSONTooDeep(limit) from None
    check_depth(value, limit)
    return value
