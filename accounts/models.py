from django.contrib.auth.models import AbstractUser
from django.db import models

from .choices import Classification


class User(AbstractUser):
    clearance = models.CharField(
        "clearance",
        max_length=16,
        choices=Classification.choices,
        default=Classification.UNCLASSIFIED,
        help_text="The most sensitive classification this user may see.",
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(clearance__in=Classification.values),
                name="user_clearance_valid",
            ),
        ]

    def is_cleared_for(self, classification: str) -> bool:
        """True when this user may see a record of ``classification``."""
        if not self.is_active:
            return False
        if self.is_superuser:
            return True
        return Classification.rank(classification) <= Classification.rank(self.clearance)


class CalendarToken(models.Model):
    """The secret in a user's personal calendar feed URL. Regenerating replaces it; revoking
    deletes it, and the old URL stops working at once."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="calendar_token", verbose_name="user"
    )
    key = models.CharField("key", max_length=64, unique=True)
    created_at = models.DateTimeField("created at", auto_now_add=True)

    class Meta:
        verbose_name = "calendar feed token"

    def __str__(self) -> str:
        return f"Calendar feed of {self.user}"
