"""The client's address, the same for the lockout (django-axes) and the throttles (DRF).

``X-Forwarded-For`` is believed only as far as ``TRUSTED_PROXY_COUNT`` proxies of our own
appended to it (default 0: the socket's address). Anything further left is what the client
wrote, so trusting it would let one client pose as as many addresses as it likes."""

from django.conf import settings


def client_ip(request) -> str | None:
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if count and forwarded:
        addresses = [part.strip() for part in forwarded.split(",") if part.strip()]
        if addresses:
            return addresses[-min(count, len(addresses))]
    return request.META.get("REMOTE_ADDR")
