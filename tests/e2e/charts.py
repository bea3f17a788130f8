"""Shared check for the statistics pages' chart images."""

from urllib.parse import urljoin


def assert_chart_images_render(page, images) -> None:
    """Every chart <img> is served as SVG by the same server, fetched one at a time (the test
    server shares one in-memory SQLite database, and parallel image requests can lock it)."""
    assert images.count() > 0
    for i in range(images.count()):
        src = urljoin(page.url, images.nth(i).get_attribute("src"))
        response = page.request.get(src)
        assert response.ok, (src, response.status)
        assert "svg" in response.headers.get("content-type", ""), src
