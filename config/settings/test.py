"""The test suite: fast hashing, in-memory email. DATABASE_URL still picks the database."""

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-only-secret-key"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SITE_URL = "https://registry.example.test"
LOGGING = {"version": 1, "disable_existing_loggers": False}
