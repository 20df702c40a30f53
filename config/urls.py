from django.contrib import admin
from django.urls import include, path

from .views import health

admin.site.site_header = "Defense Cooperation Agreement Registry"
admin.site.site_title = "DCA Registry admin"
admin.site.index_title = "Registry administration"

urlpatterns = [
    path("health/", health, name="health"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(("config.api_urls", "api"))),
]
