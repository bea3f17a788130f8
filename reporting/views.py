"""Public statistics pages (no login, R41): everything is read from a published snapshot."""

from __future__ import annotations

from datetime import date

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET

from . import charts
from .models import Snapshot, SnapshotStatus
from .selectors.snapshots import latest_published, public_document, published

CHART_NAMES = ("region", "industry", "month", "leverage")


def parse_as_of(value: str | None) -> date | None:
    """``YYYY-MM-DD`` or None; a malformed date raises ValueError."""
    if not value:
        return None
    return date.fromisoformat(value.strip())


def _cells(cells: list[dict]) -> list[dict]:
    return sorted(cells, key=lambda c: (c["suppressed"], -float(c["principal"] or 0)))


@require_GET
def stats_page(request: HttpRequest) -> HttpResponse:
    """``/`` and ``/stats/``: headline figures, charts by 市(州), industry and month, leverage."""
    error = ""
    try:
        as_of = parse_as_of(request.GET.get("as_of"))
    except ValueError:
        as_of, error = None, "日期格式应为 YYYY-MM-DD，已显示最新统计。"
    programme_code = request.GET.get("programme", "")
    snapshot = latest_published(as_of=as_of, programme_code=programme_code)
    doc = public_document(snapshot) if snapshot else {}
    dates = list(
        published(programme_code=programme_code).order_by("-as_of").values_list("as_of", flat=True).distinct()[:36]
    )
    context = {
        "snapshot": snapshot,
        "doc": doc,
        "regions": _cells(doc.get("by_region", [])),
        "industries": _cells(doc.get("by_industry", [])),
        "months": doc.get("by_month", []),
        "dates": dates,
        "requested": as_of,
        "error": error,
        "heights": {"region": charts.bar_height(len(doc.get("by_region", []))),
                    "industry": charts.bar_height(len(doc.get("by_industry", [])))},
        "charts": {name: f"/stats/charts/{snapshot.pk}/{name}.svg" for name in CHART_NAMES} if snapshot else {},
    }
    return render(request, "public/stats.html", context)


def _labels(cells: list[dict]) -> tuple[list[str], list[float | None]]:
    labels, values = [], []
    for c in cells:
        labels.append(c["name"] + (f"（{c['borrowers']}）" if c["suppressed"] else ""))
        values.append(None if c["suppressed"] else charts.yi(c["principal"]))
    return labels, values


def chart_for_document(name: str, doc: dict) -> bytes:
    if name == "region":
        labels, values = _labels(_cells(doc.get("by_region", [])))
        return charts.bar_chart(title="各市(州)贷款金额", labels=labels, values=values, unit="亿元")
    if name == "industry":
        labels, values = _labels(_cells(doc.get("by_industry", [])))
        return charts.bar_chart(title="各行业贷款金额", labels=labels, values=values, unit="亿元")
    if name == "month":
        cells = doc.get("by_month", [])
        labels, values = _labels(cells)
        return charts.bar_chart(title="按签约月份的贷款金额", labels=labels, values=values, unit="亿元",
                                horizontal=False)
    if name == "leverage":
        return charts.leverage_chart(actual=doc.get("leverage"), expected=doc.get("leverage_expected_multiple"),
                                     target=doc.get("leverage_target"))
    raise Http404


def svg_response(content: bytes, *, public: bool) -> HttpResponse:
    response = HttpResponse(content, content_type="image/svg+xml; charset=utf-8")
    response["Content-Security-Policy"] = charts.SVG_CSP
    response["X-Content-Type-Options"] = "nosniff"
    if public:
        patch_cache_control(response, public=True, max_age=24 * 3600)
    else:
        patch_cache_control(response, private=True, max_age=300)
    return response


@require_GET
def stats_chart(request: HttpRequest, snapshot_id: int, name: str) -> HttpResponse:
    """A public chart of a published snapshot (immutable, so it is cached)."""
    if name not in CHART_NAMES:
        raise Http404
    snapshot = Snapshot.objects.filter(pk=snapshot_id, status=SnapshotStatus.PUBLISHED).first()
    if snapshot is None:
        raise Http404
    return svg_response(chart_for_document(name, public_document(snapshot)), public=True)
