from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("nations", views.NationViewSet, basename="nation")
router.register("organizations", views.OrganizationViewSet, basename="organization")
router.register("points-of-contact", views.PointOfContactViewSet, basename="point-of-contact")

urlpatterns = router.urls
