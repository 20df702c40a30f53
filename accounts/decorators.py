"""Access to the browser pages: signed in, and allowed to read agreements."""

from django.contrib.auth.decorators import login_required, permission_required


def registry_page(view):
    """Login first (a redirect to the login page), then the ``view`` permission on
    agreements (403 for a signed-in user without it). Single records out of clearance are
    404s, which the views themselves answer through ``visible_to``."""
    needs_permission = permission_required("agreements.view_agreement", raise_exception=True)
    return login_required(needs_permission(view))
