from django.urls import path

from . import views, views_partners, views_search

app_name = "agreements"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("agreements/", views.agreement_list, name="list"),
    path("agreements/<int:pk>/", views.agreement_detail, name="detail"),
    path("search/", views_search.search, name="search"),
    path("deadlines/", views.deadlines, name="deadlines"),
    path("deadlines/calendar/", views.calendar_token, name="calendar_token"),
    path("calendar/<str:key>.ics", views.calendar_feed, name="calendar_feed"),
]

# The nation and organization pages: included by ``config/urls.py`` under the ``partners``
# namespace (``partners:nation``, ``partners:organization``), the names they always had.
partner_urlpatterns = [
    path("nations/", views_partners.nation_list, name="nations"),
    path("organizations/", views_partners.organization_list, name="organizations"),
    path("nations/<str:iso3>/", views_partners.nation_detail, name="nation"),
    path("organizations/<str:acronym>/", views_partners.organization_detail, name="organization"),
]
