"""Browser test of the bank portal: a bank user uploads a registration workbook with errors, sees
them grouped, downloads the annotated workbook, uploads the corrected file, watches the progress
bar finish (static/bank/progress.js polling progress.json) and finds the loans in the list.

Screenshots go to var/screenshots/bank_*.png.
"""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from banks import xlsx
from banks.intake import fields as F

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "Passw0rd!x"  # tests.factories.UserFactory
BAD_USCC = "91510100MA00000000"  # wrong check character (R6)


def _workbook(rows: list[dict]) -> bytes:
    return xlsx.rows_workbook(kind=F.REGISTRATION,
                              rows=[{f.header: r.get(f.name) for f in F.fields_for(F.REGISTRATION)} for r in rows])


def _login(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/?next=/bank/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/bank/")


def _upload(page, base: str, name: str, content: bytes) -> None:
    page.goto(f"{base}/bank/uploads/new/")
    page.check("input[name=kind][value=registration]")
    page.set_input_files("input[name=file]", files=[{"name": name, "mimeType": xlsx.XLSX_CONTENT_TYPE,
                                                      "buffer": content}])
    page.click("form.stacked button[type=submit]")
    page.wait_for_url(re.compile(r".*/bank/batches/[0-9a-f-]{36}/$"))


def _next_poll(page) -> None:
    """Wait until the page's poller has had an answer (so no request is in flight now)."""
    with page.expect_response("**/progress.json"):
        pass


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_bank_user_fixes_a_rejected_workbook_and_finds_the_loans(
    live_server, page, phone_page, screenshot_dir, media, monkeypatch,
):
    from banks import services, tasks
    from banks.models import BatchStatus, IntakeBatch
    from fund.models import Loan
    from tests.banks.factories import make_world, registration_row

    # given: a partner bank, its user, and three loans, one with a bad credit code, one with a bad rate
    world = make_world(code="E2")
    base = live_server.url
    rows = [registration_row(), registration_row(), registration_row()]
    bad = [dict(rows[0]), dict(rows[1], credit_code=BAD_USCC), dict(rows[2], annual_rate=0.0435)]
    _login(page, base, world.user.username)
    expect(page.locator("h1")).to_contain_text(world.bank.name)
    page.screenshot(path=str(screenshot_dir / "bank_home.png"), full_page=True)

    # when: the workbook with errors is uploaded
    _upload(page, base, "贷款备案_有误.xlsx", _workbook(bad))

    # then: rejected, nothing stored, the issues grouped by column and rule
    expect(page.locator("[data-testid=result]")).to_contain_text("整个文件未导入")
    groups = page.locator("table.issue-groups")
    expect(groups).to_contain_text("统一社会信用代码")
    expect(groups).to_contain_text("年利率(%)")
    expect(page.locator("progress")).to_have_attribute("value", "100")
    assert Loan.objects.count() == 0
    page.screenshot(path=str(screenshot_dir / "bank_batch_rejected.png"), full_page=True)

    # when: the annotated workbook is downloaded
    with page.expect_download() as info:
        page.click("[data-testid=annotated]")
    annotated = load_workbook(io.BytesIO(info.value.path().read_bytes()))

    # then: every row has its result; the two bad rows are errors
    ws = annotated[F.SHEET_NAMES[F.REGISTRATION]]
    result = len(F.fields_for(F.REGISTRATION)) + 1
    assert ws.cell(row=1, column=result).value == F.ANNOTATION_HEADERS[0]
    assert [ws.cell(row=r, column=result).value for r in (2, 3, 4)] == ["通过", "错误", "错误"]
    assert "R6" in ws.cell(row=3, column=result + 1).value

    # when: the corrected file is uploaded and processed in the background (the task is held back
    # so that the page shows the batch while it waits and runs)
    monkeypatch.setattr(tasks.process_batch, "delay", lambda *args, **kwargs: None)
    page.route("**/progress.json", lambda route: route.continue_())  # requests wait while the test runs
    _upload(page, base, "贷款备案_已更正.xlsx", _workbook(rows))
    batch = IntakeBatch.objects.order_by("-uploaded_at").first()
    batch_url = page.url
    expect(page.locator("[data-field=status_label]")).to_have_text("已接收")

    _next_poll(page)
    IntakeBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.PROCESSING, rows_total=3, rows_done=2)

    # then: the bar moves (polling) …
    expect(page.locator("progress")).to_have_attribute("value", "66")
    expect(page.locator("[data-field=rows_done]")).to_have_text("2")
    page.screenshot(path=str(screenshot_dir / "bank_batch_progress.png"), full_page=True)
    # … and the page can be closed and reopened: the server renders the same state
    page.goto("about:blank")
    page.goto(batch_url)
    expect(page.locator("progress")).to_have_attribute("value", "66")

    # when: the task runs to the end while the page is open
    _next_poll(page)
    IntakeBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.QUEUED, rows_done=0)
    processed = services.intake_process(batch_id=batch.pk)
    assert processed.status == BatchStatus.APPLIED, processed.issues

    # then: the page notices, reloads and shows the result
    expect(page.locator("[data-testid=result]")).to_contain_text("已全部导入", timeout=10_000)
    expect(page.locator("progress")).to_have_attribute("value", "100")
    page.screenshot(path=str(screenshot_dir / "bank_batch_applied.png"), full_page=True)

    # and the loans are in the list
    page.goto(f"{base}/bank/loans/")
    for row in rows:
        expect(page.locator("table.data")).to_contain_text(row["contract_no"])
    page.screenshot(path=str(screenshot_dir / "bank_loans.png"), full_page=True)
    page.fill("input[name=q]", rows[1]["credit_code"])
    page.click("form.filters button[type=submit]")
    expect(page.locator("table.data tbody tr")).to_have_count(1)

    # the same pages on a phone
    _login(phone_page, base, world.user.username)
    phone_page.goto(f"{base}/bank/loans/")
    expect(phone_page.locator("table.data")).to_contain_text(rows[0]["contract_no"])
    phone_page.screenshot(path=str(screenshot_dir / "bank_loans_phone.png"), full_page=True)
    phone_page.goto(batch_url)
    phone_page.screenshot(path=str(screenshot_dir / "bank_batch_phone.png"), full_page=True)
