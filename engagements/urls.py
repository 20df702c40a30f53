from django.urls import path

from . import views

app_name = "engagements"

urlpatterns = [
    path("", views.engagement_list, name="list"),
    path("calendar/", views.engagement_calendar, name="calendar"),
    path("<int:pk>/", views.engagement_detail, name="detail"),
]
