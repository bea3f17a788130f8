"""Browser test: a bureau user opens the statistics dashboard from the admin index, filters it, drills
down to the loans, looks at the banks' data quality, and downloads the monthly PDF (rendered to PNG).
Screenshots: var/screenshots/stats_dashboard.png, stats_drilldown.png, stats_quality.png, stats_report_p{1,3}.png."""

import subprocess
from datetime import date

import pytest
from playwright.sync_api import expect

from tests.e2e.charts import assert_chart_images_render
from tests.reporting.pilot_loader import restore_reference_data

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PASSWORD = "e2e-Stats-Passw0rd!"


@pytest.fixture(autouse=True)
def _reference_data(transactional_db):
    restore_reference_data()


def test_staff_dashboard_filters_drills_down_and_exports(live_server, page, screenshot_dir, tmp_path):
    from registry import roles
    from reporting.services import snapshot_build
    from tests.factories import UserFactory
    from tests.reporting.pilot_loader import load_pilot

    # given
    snapshot = snapshot_build(programme=load_pilot(), as_of=date(2022, 5, 28), publish=True)
    user = UserFactory(username="stats_auditor", role=roles.AUDITOR)
    user.set_password(PASSWORD)
    user.save()

    # when: log in and open the dashboard from the admin index
    page.goto(live_server.url + "/admin/")
    page.fill("#id_username", "stats_auditor")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.click("text=统计看板")

    # then
    expect(page.locator(".stats-headline")).to_contain_text("1,246,000,000.00")
    expect(page.locator(".stats-headline")).to_contain_text("93.63%")
    assert_chart_images_render(page, page.locator(".stats-charts img"))
    page.screenshot(path=str(screenshot_dir / "stats_dashboard.png"), full_page=True)

    # when: filter to 成都 and 政银 mode
    page.select_option("#id_region", "510100")
    page.select_option("#id_mode", "bank")
    page.click("input[value=查询]")
    expect(page.locator(".stats-meta")).to_contain_text("已筛选")
    page.locator("details.stats-table").nth(3).locator("summary").click()  # 按合作银行
    page.locator("details.stats-table").nth(3).locator("a", has_text="明细").first.click()
    expect(page.locator("#result_list")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "stats_drilldown.png"), full_page=True)

    # when: the banks' data quality
    page.goto(live_server.url + "/admin/reporting/dataquality/?as_of=2022-05-28")
    expect(page.locator("#content-main")).to_contain_text("按时率")
    page.screenshot(path=str(screenshot_dir / "stats_quality.png"), full_page=True)

    # when: the monthly report
    with page.expect_download() as download:
        page.goto(live_server.url + "/admin/reporting/snapshot/")
        page.click(f"a[href='/admin/reporting/snapshot/{snapshot.pk}/report.pdf']")
    pdf = tmp_path / "report.pdf"
    download.value.save_as(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(screenshot_dir / "stats_report_p")], check=True)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "1,246,000,000.00" in text
    assert "93.63%" in text
    assert "3.24%" in text
