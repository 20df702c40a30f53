from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from agreements.urls import partner_urlpatterns

from .views import health

admin.site.site_header = "Defense Cooperation Agreement Registry"
admin.site.site_title = "DCA Registry admin"
admin.site.index_title = "Registry administration"

urlpatterns = [
    path("health/", health, name="health"),
    path("admin/", admin.site.urls),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include((partner_urlpatterns, "partners"))),
    path("", include("agreements.urls")),
    path("api/v1/", include(("config.api_urls", "api"))),
]
