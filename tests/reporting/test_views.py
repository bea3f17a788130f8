"""Public pages and JSON (no login), read only from published snapshots; the staff reports API."""

import re

import pytest
from django.urls import reverse

from registry import roles
from reporting.services import snapshot_build
from tests.factories import BankFactory, UserFactory
from tests.reporting.conftest import AS_OF

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(small):
    return snapshot_build(programme=small.programme, as_of=AS_OF, publish=True)


def test_stats_page_is_served_at_root_and_stats_without_login(client, published):
    for url in ("/", "/stats/"):
        response = client.get(url)
        assert response.status_code == 200
        body = response.content.decode()
        assert "4.17%" in body
        assert "3.17%" in body
        assert "0.05" in body  # 5,000,000 元 = 0.05 亿元
        assert f"/stats/charts/{published.pk}/region.svg" in body


def test_stats_page_has_no_inline_script_or_style(client, published):
    body = client.get("/stats/").content.decode()
    assert "<script" not in body
    assert not re.search(r"\sstyle=", body)


def test_stats_page_shows_the_snapshot_for_as_of(client, small, published):
    earlier = snapshot_build(programme=small.programme, as_of=AS_OF.replace(day=1), publish=True)
    body = client.get("/stats/?as_of=2022-03-15").content.decode()
    assert f"编号 {earlier.pk}" in body
    assert client.get("/stats/?as_of=bad").status_code == 200


def test_stats_page_without_any_published_snapshot(client, small):
    snapshot_build(programme=small.programme, as_of=AS_OF)  # a draft is never shown
    assert "暂无已发布的统计数据" in client.get("/").content.decode()


def test_public_chart_is_an_svg_without_script_and_with_its_own_policy(client, published):
    response = client.get(f"/stats/charts/{published.pk}/region.svg")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    assert "script-src" not in response["Content-Security-Policy"]
    assert b"<script" not in response.content
    assert b"<svg" in response.content
    assert client.get(f"/stats/charts/{published.pk}/nope.svg").status_code == 404


def test_chart_of_a_draft_is_not_public(client, small):
    draft = snapshot_build(programme=small.programme, as_of=AS_OF)
    assert client.get(f"/stats/charts/{draft.pk}/region.svg").status_code == 404


def test_public_json_serves_the_latest_published_snapshot_on_or_before_as_of(client, small, published):
    data = client.get("/api/public/stats/?as_of=2022-04-15").json()
    assert data["as_of"] == "2022-03-31"
    assert data["snapshot"] == published.pk
    assert data["principal"] == "5000000.00"
    assert data["avg_rate"] == "4.17"
    assert client.get("/api/public/stats/").json()["snapshot"] == published.pk
    missing = client.get("/api/public/stats/?as_of=2021-01-01")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == "no_snapshot"
    assert client.get("/api/public/stats/?as_of=2022-13-01").status_code == 400


def test_reports_api_is_for_bureau_staff_only(client, published):
    url = reverse("reports-api:snapshot-list")
    assert client.get(url).status_code in (401, 403)
    client.force_login(UserFactory(username="bank_user", role=roles.BANK_USER, bank=BankFactory()))
    assert client.get(url).status_code == 403
    client.force_login(UserFactory(username="auditor", role=roles.AUDITOR))
    listing = client.get(url).json()
    assert listing["results"][0]["id"] == published.pk
    detail = client.get(reverse("reports-api:snapshot-detail", args=[published.pk])).json()
    overall = detail["breakdowns"]["overall"][0]["metrics"]
    assert overall["principal"] == "5000000.00"
    assert overall["effective_rate"] == "3.17"
    assert detail["links"]["pdf"].endswith("/report.pdf")
