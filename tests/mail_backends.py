"""Email backend test doubles, named by settings (also in a worker process's environment)."""

import os
import smtplib
import time
from pathlib import Path

from django.core.mail.backends.filebased import EmailBackend as FileBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend


class FailingBackend(LocmemBackend):
    """Every send fails, as an SMTP server refusing the recipient would."""

    def send_messages(self, messages):
        raise smtplib.SMTPRecipientsRefused({"x@example.org": (550, b"mailbox unavailable")})


class FailOnceBackend(LocmemBackend):
    """The first send in this process fails; the following ones are delivered."""

    failures_left = 1

    def send_messages(self, messages):
        if FailOnceBackend.failures_left > 0:
            FailOnceBackend.failures_left -= 1
            raise ConnectionRefusedError("smtp.example.org:25 refused the connection")
        return super().send_messages(messages)


class BlockOnceBackend(FileBackend):
    """Writes messages to files like the file backend, except the first send anywhere: that
    one creates the marker file named by $BLOCK_ONCE_MARKER and then hangs (until the test
    kills the worker), standing for a worker that dies in the middle of a delivery."""

    def send_messages(self, messages):
        marker = Path(os.environ["BLOCK_ONCE_MARKER"])
        try:
            with marker.open("x") as handle:
                handle.write(str(os.getpid()))
        except FileExistsError:
            return super().send_messages(messages)
        time.sleep(120)
        raise RuntimeError("BlockOnceBackend was not killed in time")
