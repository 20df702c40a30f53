from django.urls import path

from . import views

app_name = "agreements"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("agreements/", views.agreement_list, name="list"),
    path("agreements/<int:pk>/", views.agreement_detail, name="detail"),
    path("deadlines/", views.deadlines, name="deadlines"),
    path("deadlines/calendar/", views.calendar_token, name="calendar_token"),
    path("calendar/<str:key>.ics", views.calendar_feed, name="calendar_feed"),
]
