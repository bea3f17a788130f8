"""Browser test: the public statistics page on a phone and on a desktop (pilot data, snapshot as of
2022-05-28).  Screenshots: var/screenshots/stats_public_{phone,desktop}.png."""

from datetime import date

import pytest
from playwright.sync_api import expect

from tests.e2e.charts import assert_chart_images_render
from tests.reporting.pilot_loader import restore_reference_data

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _reference_data(transactional_db):
    restore_reference_data()


@pytest.fixture
def pilot_snapshot():
    from reporting.services import snapshot_build
    from tests.reporting.pilot_loader import load_pilot

    return snapshot_build(programme=load_pilot(), as_of=date(2022, 5, 28), publish=True)


def _check(page, url, csp_errors):
    page.on("console", lambda m: csp_errors.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(url)
    headline = page.locator(".headline")
    expect(headline).to_contain_text("372")
    expect(headline).to_contain_text("204")
    expect(headline).to_contain_text("12.46")
    expect(headline).to_contain_text("93.63%")
    expect(headline).to_contain_text("4.35%")
    expect(headline).to_contain_text("3.24%")
    # every chart image loaded (naturalWidth > 0) from the same server
    images = page.locator(".chart img")
    expect(images).to_have_count(4)
    assert_chart_images_render(page, images)


def test_public_stats_page_on_a_phone(live_server, phone_page, screenshot_dir, pilot_snapshot):
    errors: list[str] = []
    _check(phone_page, live_server.url + "/", errors)
    # no horizontal scrolling on a 390 px screen
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= 390
    phone_page.evaluate("window.scrollTo(0, 0)")
    phone_page.screenshot(path=str(screenshot_dir / "stats_public_phone_top.png"))
    phone_page.locator("details").first.click()
    phone_page.locator(".chart").first.screenshot(path=str(screenshot_dir / "stats_public_phone_region.png"))
    phone_page.locator(".chart").nth(1).screenshot(path=str(screenshot_dir / "stats_public_phone_industry.png"))
    phone_page.screenshot(path=str(screenshot_dir / "stats_public_phone.png"), full_page=True)
    assert errors == []


def test_public_stats_page_on_a_desktop(live_server, page, screenshot_dir, pilot_snapshot):
    errors: list[str] = []
    _check(page, live_server.url + "/stats/?as_of=2022-06-30", errors)
    expect(page.locator(".stats-asof")).to_contain_text("2022年5月28日")
    page.screenshot(path=str(screenshot_dir / "stats_public_desktop.png"), full_page=True)
    assert errors == []
