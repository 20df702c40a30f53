"""The test suite: fast hashing, in-memory email. DATABASE_URL still picks the database."""

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-only-secret-key"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SITE_URL = "https://registry.example.test"
LOGGING = {"version": 1, "disable_existing_loggers": False}

# Celery in tests: an in-memory broker unless a test (or a worker it starts) names a real one.
# The integration tests start real workers with these settings and their own environment.
from .base import env  # noqa: E402

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="memory://")
CELERY_BROKER_TRANSPORT_OPTIONS = env.json("CELERY_BROKER_TRANSPORT_OPTIONS", default={})
EMAIL_BACKEND = env("TEST_EMAIL_BACKEND", default=EMAIL_BACKEND)
EMAIL_FILE_PATH = env("TEST_EMAIL_FILE_PATH", default=EMAIL_FILE_PATH)  # noqa: F405

# Throttle counts in this process's memory, emptied before each test (tests/conftest.py); the
# lockout rows live in the test database like everything else.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
