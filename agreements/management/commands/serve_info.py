from django.conf import settings
from django.core.management.base import BaseCommand

DESCRIPTIONS = {
    "django.core.mail.backends.filebased.EmailBackend": "written as files under {path}/",
    "django.core.mail.backends.smtp.EmailBackend": "sent by SMTP through {host}:{port}",
    "django.core.mail.backends.locmem.EmailBackend": "kept in memory (django.core.mail.outbox)",
    "django.core.mail.backends.dummy.EmailBackend": "thrown away (the dummy backend)",
}


def email_destination(worker_log: str) -> str:
    """Where the e-mails (reminders included) go with the configured backend, in words."""
    backend = settings.EMAIL_BACKEND
    if backend == "django.core.mail.backends.console.EmailBackend":
        return (
            f"printed: the reminders by the Celery worker into {worker_log}, "
            "the other e-mails on the web server's console"
        )
    template = DESCRIPTIONS.get(backend, "handed to {backend}")
    return template.format(
        path=str(settings.EMAIL_FILE_PATH).rstrip("/"),
        host=settings.EMAIL_HOST,
        port=settings.EMAIL_PORT,
        backend=backend,
    )


class Command(BaseCommand):
    help = "Print where the site is served and where its e-mails go (bin/run, before serving)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--worker-log",
            default="var/celery.log",
            help="The Celery worker's log file, where console e-mails of reminders end up.",
        )

    def handle(self, *args, worker_log, **options):
        debug = "on" if settings.DEBUG else "off (DJANGO_DEBUG=true for Django's debug pages)"
        self.stdout.write(f"Debug {debug}.")
        self.stdout.write(f"Links in e-mails and calendars point at {settings.SITE_URL}.")
        self.stdout.write(f"E-mails: {email_destination(worker_log)}.")
