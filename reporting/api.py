"""JSON: the public statistics (``/api/public/stats/``) and the staff reports API (``/api/reports/``).

Both serve frozen snapshots only (R41).  The public document is precomputed when the snapshot
is built (small cells already hidden), so the public endpoint is one indexed query.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET
from rest_framework import mixins, permissions, serializers, viewsets

from .models import Snapshot
from .selectors.snapshots import public_json_text, snapshot_rows
from .views import parse_as_of


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"errors": [{"code": code, "message": message, "rule": "R41", "detail": {}}]},
                        status=status, json_dumps_params={"ensure_ascii": False})


@require_GET
def public_stats(request: HttpRequest) -> HttpResponse:
    """Headline statistics of the latest published snapshot with a cut-off on or before ``as_of``."""
    try:
        as_of = parse_as_of(request.GET.get("as_of"))
    except ValueError:
        return _error(400, "invalid_date", "as_of 应为 YYYY-MM-DD 格式的日期")
    text = public_json_text(as_of=as_of, programme_code=request.GET.get("programme", ""))
    if text is None:
        return _error(404, "no_snapshot", "该日期及以前没有已发布的统计")
    response = HttpResponse(text, content_type="application/json; charset=utf-8")
    patch_cache_control(response, public=True, max_age=300)
    return response


class SnapshotSerializer(serializers.ModelSerializer):
    programme = serializers.CharField(source="programme.code")
    programme_name = serializers.CharField(source="programme.name")
    status_display = serializers.CharField(source="get_status_display")
    links = serializers.SerializerMethodField()

    class Meta:
        model = Snapshot
        fields = ["id", "programme", "programme_name", "as_of", "status", "status_display", "source",
                  "created_at", "published_at", "build_ms", "suppression_min", "links"]

    def get_links(self, obj: Snapshot) -> dict[str, str]:
        return {
            "self": reverse("reports-api:snapshot-detail", args=[obj.pk]),
            "pdf": reverse("admin:reporting_snapshot_pdf", args=[obj.pk]),
            "xlsx": reverse("admin:reporting_snapshot_xlsx", args=[obj.pk]),
        }


class SnapshotDetailSerializer(SnapshotSerializer):
    breakdowns = serializers.SerializerMethodField()

    class Meta(SnapshotSerializer.Meta):
        fields = [*SnapshotSerializer.Meta.fields, "breakdowns"]

    def get_breakdowns(self, obj: Snapshot) -> dict[str, list[dict]]:
        """Every dimension's rows; money and rates are strings, counts integers."""
        return snapshot_rows(obj)


class SnapshotViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Statistics snapshots for bureau staff (read only)."""

    permission_classes = [permissions.IsAdminUser]
    queryset = Snapshot.objects.select_related("programme").order_by("-as_of", "-id")
    filterset_fields = ["status", "as_of"]

    def get_serializer_class(self):
        return SnapshotDetailSerializer if self.action == "retrieve" else SnapshotSerializer
