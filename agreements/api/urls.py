from django.urls import path
from rest_framework.routers import SimpleRouter

from . import reports, views

router = SimpleRouter()
router.register("agreements", views.AgreementViewSet, basename="agreement")

urlpatterns = [
    # Before the router's detail route, so that these are never read as an agreement's id.
    path("agreements/export/", reports.ExportView.as_view(), name="agreement-export"),
    path(
        "agreements/dyad-years/",
        reports.DyadYearsView.as_view(),
        name="agreement-dyad-years",
    ),
    path(
        "agreements/<int:agreement_pk>/provisions/",
        views.AgreementProvisionsView.as_view(),
        name="agreement-provisions",
    ),
    path(
        "agreements/<int:agreement_pk>/reviews/",
        views.AgreementReviewsView.as_view(),
        name="agreement-reviews",
    ),
    path(
        "agreements/<int:agreement_pk>/history/",
        views.AgreementHistoryView.as_view(),
        name="agreement-history",
    ),
    *router.urls,
    path("provisions/", views.ProvisionListView.as_view(), name="provision-list"),
    path("reminders/", views.ReminderListView.as_view(), name="reminder-list"),
    path("deadlines/", views.DeadlineListView.as_view(), name="deadline-list"),
    path("stats/", reports.StatisticsView.as_view(), name="statistics"),
]
