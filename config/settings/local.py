"""One machine (`make run`): SQLite, console email, and the site as its users see it: debug off
unless DJANGO_DEBUG=true, the registry's own error pages, static files served by WhiteNoise
straight from their folders (no collectstatic). HOST and PORT, where `bin/run` serves, give
the default SITE_URL (links in emails and calendars) and are allowed hosts."""

from .base import *  # noqa: F403
from .base import INSTALLED_APPS, MIDDLEWARE, env

DEBUG = env.bool("DJANGO_DEBUG", default=False)

SERVE_HOST = env("HOST", default="127.0.0.1")
SERVE_PORT = env.int("PORT", default=8000)
SITE_URL = env("SITE_URL", default=f"http://{SERVE_HOST}:{SERVE_PORT}")
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS",
    default=list(dict.fromkeys(["localhost", "127.0.0.1", "[::1]", SERVE_HOST])),
)

# WhiteNoise as in production, but finding the files in STATICFILES_DIRS and the apps (no
# collectstatic), and the same with debug on (runserver_nostatic: runserver leaves it to it).
MIDDLEWARE = [*MIDDLEWARE]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "whitenoise.middleware.WhiteNoiseMiddleware",
)
WHITENOISE_USE_FINDERS = True
INSTALLED_APPS = [*INSTALLED_APPS]
INSTALLED_APPS.insert(
    INSTALLED_APPS.index("django.contrib.staticfiles"), "whitenoise.runserver_nostatic"
)
