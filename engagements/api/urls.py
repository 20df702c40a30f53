from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("engagements", views.EngagementViewSet, basename="engagement")

urlpatterns = [
    # Before the router's detail route, so that it is never read as an engagement's id.
    path("engagements/export/", views.EngagementExportView.as_view(), name="engagement-export"),
    path(
        "engagements/stats/",
        views.EngagementStatisticsView.as_view(),
        name="engagement-statistics",
    ),
    *router.urls,
]
