from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from accounts.views import SignInView
from agreements.urls import partner_urlpatterns

from .views import autocomplete, health, view_on_site

handler500 = "config.views.server_error"

admin.site.site_header = "Defense Cooperation Agreement Registry"
admin.site.site_title = "DCA Registry admin"
admin.site.index_title = "Registry administration"

urlpatterns = [
    path("health/", health, name="health"),
    # One sign-in page, with its throttles and lockout, for the admin too.
    path("admin/login/", RedirectView.as_view(url=settings.LOGIN_URL, query_string=True)),
    # Before the admin's own "view on site" (admin:view_on_site), which ignores clearance.
    path(
        "admin/r/<path:content_type_id>/<path:object_id>/",
        admin.site.admin_view(view_on_site),
        name="view_on_site",
    ),
    # Before the admin's own autocomplete (admin:autocomplete), which fails on a NUL byte.
    path("admin/autocomplete/", admin.site.admin_view(autocomplete), name="autocomplete"),
    path("admin/", admin.site.urls),
    path("accounts/login/", SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include((partner_urlpatterns, "partners"))),
    path("engagements/", include("engagements.urls")),
    path("", include("agreements.urls")),
    path("api/v1/", include(("config.api_urls", "api"))),
]
