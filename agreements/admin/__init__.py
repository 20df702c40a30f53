"""The agreements admin: every write goes through ``agreements.services``."""

from . import agreements, children, parties  # noqa: F401  (registers the admins)
