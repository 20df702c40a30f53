from django.urls import path

from . import views

app_name = "partners"

urlpatterns = [
    path("nations/<str:iso3>/", views.nation_detail, name="nation"),
    path("organizations/<str:acronym>/", views.organization_detail, name="organization"),
]
