"""The agreements admin: every write goes through ``agreements.services``."""

from . import agreements, children  # noqa: F401  (registers the admins)
