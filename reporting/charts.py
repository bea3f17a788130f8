"""Server-side SVG charts (pygal): no JavaScript, no CDN, readable on a phone.

Charts are served as separate ``image/svg+xml`` documents and shown with ``<img>``: the page
itself then carries no inline script or style (the site's CSP forbids both), and the SVG
document gets its own policy that allows only its embedded style sheet (an SVG shown as an
image never runs script).  pygal's tooltip script and its config ``<script>`` are removed.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pygal
from pygal.style import Style

SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
YI = Decimal(100_000_000)

STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1f2937",
    foreground_strong="#111827",
    foreground_subtle="#6b7280",
    font_family='"Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif',
    label_font_size=13,
    major_label_font_size=13,
    value_font_size=12,
    value_label_font_size=12,
    title_font_size=16,
    legend_font_size=13,
    tooltip_font_size=12,
    colors=("#9b1c1c", "#d97706", "#2563eb", "#15803d", "#6b7280"),
)


def _config(**extra) -> dict:
    return {
        "style": STYLE, "js": [], "disable_xml_declaration": True, "show_legend": False,
        "print_values": True, "margin": 8, "truncate_label": -1, "width": 640, **extra,
    }


def _render(chart) -> bytes:
    """SVG bytes without any ``<script>`` element."""
    tree = chart.render_tree()
    for parent in tree.iter():
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    from xml.etree import ElementTree

    return ElementTree.tostring(tree, encoding="utf-8")


def yi(value: Decimal | str | None) -> float | None:
    """Money in 亿元 for plotting (charts only: published figures stay Decimal strings)."""
    if value is None:
        return None
    return float(Decimal(value) / YI)


def cjk_margin(labels: Sequence[str]) -> int:
    """Extra left margin for labels with CJK characters (pygal estimates them at Latin width)."""
    wide = max((sum(1 for ch in label if ord(ch) > 0x2E80) for label in labels), default=0)
    return 8 + int(wide * STYLE.label_font_size * 0.45)


def bar_height(n: int, *, horizontal: bool = True) -> int:
    return 90 + 30 * max(n, 1) if horizontal else 360


def bar_chart(*, title: str, labels: Sequence[str], values: Sequence[float | None], unit: str,
              horizontal: bool = True, note: str = "") -> bytes:
    """One series of bars; ``None`` values (suppressed cells) are drawn empty and labelled."""
    height = bar_height(len(labels), horizontal=horizontal)
    labels, values = list(labels), list(values)
    extra = {}
    if horizontal:
        # pygal lists the first label at the bottom: reverse so the first (largest) is on top,
        # and widen the left margin, since pygal measures CJK labels as if they were Latin.
        labels, values = labels[::-1], values[::-1]
        extra["margin_left"] = cjk_margin(labels)
    chart = (pygal.HorizontalBar if horizontal else pygal.Bar)(**_config(
        height=height, x_label_rotation=0 if horizontal else 30,
        value_formatter=lambda v: f"{v:,.2f}", **extra,
    ))
    chart.title = f"{title}（{unit}）" + (f" · {note}" if note else "")
    chart.x_labels = labels
    chart.add(title, values)
    return _render(chart)


def leverage_chart(*, actual: Decimal | None, expected: Decimal | None, target: Decimal | None) -> bytes:
    """R4: leverage achieved against the straight-line path and the target."""
    chart = pygal.HorizontalBar(**_config(height=220, value_formatter=lambda v: f"{v:.2f} 倍",
                                          margin_left=cjk_margin(["按进度应达"]), margin_right=36))
    chart.title = "放大倍数与目标（倍）"
    chart.x_labels = ["目标", "按进度应达", "实际"]
    values = [float(v) if v is not None else None for v in (target, expected, actual)]
    chart.add("放大倍数", [
        {"value": values[0], "color": "#9ca3af"},
        {"value": values[1], "color": "#d97706"},
        {"value": values[2], "color": "#9b1c1c"},
    ])
    return _render(chart)


def line_chart(*, title: str, labels: Sequence[str], series: dict[str, Sequence[float | None]], unit: str) -> bytes:
    chart = pygal.Line(**_config(height=360, show_legend=len(series) > 1, legend_at_bottom=True,
                                 x_label_rotation=30, print_values=False, dots_size=3,
                                 value_formatter=lambda v: f"{v:,.2f}"))
    chart.title = f"{title}（{unit}）"
    chart.x_labels = list(labels)
    for name, values in series.items():
        chart.add(name, list(values))
    return _render(chart)


def grouped_bar(*, title: str, labels: Sequence[str], series: dict[str, Sequence[float | None]], unit: str) -> bytes:
    """Several series side by side (e.g. each bank's leverage against its target)."""
    chart = pygal.HorizontalBar(**_config(height=bar_height(len(labels) * len(series)) - 30 * len(labels),
                                          show_legend=True, legend_at_bottom=True, margin_left=cjk_margin(labels),
                                          value_formatter=lambda v: f"{v:,.2f}"))
    chart.title = f"{title}（{unit}）"
    chart.x_labels = list(labels)[::-1]
    for name, values in series.items():
        chart.add(name, list(values)[::-1])
    return _render(chart)
