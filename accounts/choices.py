from django.db import models


class Classification(models.TextChoices):
    """Security classification, from least to most sensitive (the order matters)."""

    UNCLASSIFIED = "unclassified", "Unclassified"
    RESTRICTED = "restricted", "Restricted"
    CONFIDENTIAL = "confidential", "Confidential"
    SECRET = "secret", "Secret"

    @classmethod
    def rank(cls, value: str) -> int:
        return cls.values.index(value)

    @classmethod
    def up_to(cls, level: str) -> list[str]:
        """Every level at or below ``level``."""
        return cls.values[: cls.rank(level) + 1]
