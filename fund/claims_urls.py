"""REST API for compensation claims, mounted at /api/claims/."""

from rest_framework.routers import SimpleRouter

from fund.claims_api import ClaimViewSet

app_name = "claims-api"

router = SimpleRouter()
router.register("", ClaimViewSet, basename="claim")

urlpatterns = router.urls
