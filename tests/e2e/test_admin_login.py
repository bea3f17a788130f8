"""Browser test: a bureau administrator logs in to the admin and sees the programme list."""

from datetime import date

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ADMIN_USERNAME = "bureau_admin"
ADMIN_PASSWORD = "e2e-Admin-Passw0rd!"


def test_bureau_admin_logs_in_and_sees_the_programme(live_server, page, screenshot_dir, django_user_model):
    from fund.models import Programme

    # given
    django_user_model.objects.create_user(
        username=ADMIN_USERNAME, password=ADMIN_PASSWORD, is_staff=True, is_superuser=True
    )
    Programme.objects.create(
        code="FBD", name="服保贷", start_date=date(2021, 5, 28), end_date=date(2022, 5, 27)
    )

    # when: log in through the admin's own form
    page.goto(live_server.url + "/admin/")
    page.fill("#id_username", ADMIN_USERNAME)
    page.fill("#id_password", ADMIN_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(live_server.url + "/admin/")

    # then
    expect(page.locator("body")).to_contain_text("站点管理")

    # when: open the programme list
    page.goto(live_server.url + "/admin/fund/programme/")

    # then
    expect(page.locator("#result_list")).to_contain_text("服保贷")
    page.screenshot(path=str(screenshot_dir / "admin_programme.png"), full_page=True)
