import functools

from django.db import models


class Classification(models.TextChoices):
    """Security classification, from least to most sensitive (the order matters)."""

    UNCLASSIFIED = "unclassified", "Unclassified"
    RESTRICTED = "restricted", "Restricted"
    CONFIDENTIAL = "confidential", "Confidential"
    SECRET = "secret", "Secret"

    @classmethod
    def rank(cls, value: str) -> int:
        """The level's place in the order (0: unclassified); ValueError for no level."""
        try:
            return _ranks(cls)[value]
        except (KeyError, TypeError):
            raise ValueError(f"{value!r} is not a classification") from None

    @classmethod
    def is_level(cls, value) -> bool:
        """Whether ``value`` is one of the levels (``value in cls.values`` without building
        the list)."""
        try:
            return value in _ranks(cls)
        except TypeError:  # unhashable
            return False

    @classmethod
    def up_to(cls, level: str) -> list[str]:
        """Every level at or below ``level``."""
        return cls.values[: cls.rank(level) + 1]


@functools.cache
def _ranks(choices) -> dict[str, int]:
    # ``values`` builds a new list on every call; ranks are asked for thousands of times in
    # a batch of writes.
    return {value: index for index, value in enumerate(choices.values)}
