"""The API's JSON parser: DRF's, with the depth bound of ``config.jsonlimits``."""

from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from .jsonlimits import JSONTooDeep, check_depth, max_depth


class BoundedJSONParser(JSONParser):
    """A body nested deeper than ``JSON_MAX_DEPTH`` is a 400, not a ``RecursionError``."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
            check_depth(data)
        except RecursionError:
            raise ParseError(f"JSON parse error - {JSONTooDeep(max_depth())}.") from None
        except JSONTooDeep as exc:
            raise ParseError(f"JSON parse error - {exc}.") from None
        return data
