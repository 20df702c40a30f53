"""Access to the browser pages: signed in, and allowed to read what the page shows."""

from django.contrib.auth.decorators import login_required, permission_required


def page_requiring(permission: str):
    """Login first (a redirect to the login page), then ``permission`` (403 for a signed-in
    user without it). Single records out of clearance are 404s, which the views themselves
    answer through ``visible_to``."""

    def decorate(view):
        needs_permission = permission_required(permission, raise_exception=True)
        return login_required(needs_permission(view))

    return decorate


# The agreement pages, the dashboard and the partner pages: the ``view`` permission on
# agreements.
registry_page = page_requiring("agreements.view_agreement")
# The engagement pages: the ``view`` permission on engagements.
engagement_page = page_requiring("engagements.view_engagement")
