"""Staff reports API, mounted at /api/reports/."""

from rest_framework.routers import SimpleRouter

from .api import SnapshotViewSet

app_name = "reports-api"

router = SimpleRouter()
router.register("snapshots", SnapshotViewSet, basename="snapshot")

urlpatterns = router.urls
