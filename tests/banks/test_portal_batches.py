"""Batch pages: progress JSON, grouped issues, and the annotated workbook (bank-workbooks.md §4:
"the same workbook returned with a status column and an error column on every row")."""

import io

import pytest
from openpyxl import load_workbook

from banks.intake import fields as F
from banks.models import BatchStatus
from banks.portal_selectors import group_issues
from tests.banks.portal_factories import bank_user, issue, registration_rows, stored_batch, xlsx
from tests.factories import BankFactory

pytestmark = pytest.mark.django_db

RED, AMBER, GREEN = "00F8C9C9", "00FCE3B0", "00D7F0DD"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def bank():
    return BankFactory(code="BA")


@pytest.fixture
def rejected_batch(bank):
    content = xlsx.rows_workbook(kind=F.REGISTRATION, rows=registration_rows(3))
    return stored_batch(bank=bank, content=content, issues=[
        issue(None, "", "文件中有 1 个未知的列", level="warning"),
        issue(2, "统一社会信用代码", "统一社会信用代码校验位错误", rule="R6", value="91510100MA61234567"),
        issue(2, "年利率(%)", "年利率 4.35% 超过上限", rule="R12"),
        issue(3, "企业名称", "企业名称与此前备案不一致", level="warning"),
    ])


def _annotated(client, batch):
    response = client.get(f"/bank/batches/{batch.pk}/annotated.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == xlsx.XLSX_CONTENT_TYPE
    return load_workbook(io.BytesIO(response.content))


def _fill(cell) -> str:
    return cell.fill.fgColor.rgb if cell.fill and cell.fill.fill_type == "solid" else ""


def test_annotated_workbook_marks_error_rows_red_warning_rows_amber_and_clean_rows_green(client, bank, rejected_batch):
    client.force_login(bank_user(bank))

    wb = _annotated(client, rejected_batch)

    ws = wb[F.SHEET_NAMES[F.REGISTRATION]]
    header = [c.value for c in ws[1]]
    fields = [f.header for f in F.fields_for(F.REGISTRATION)]
    assert header == [*fields, *F.ANNOTATION_HEADERS]
    result_col, message_col = len(fields) + 1, len(fields) + 2
    row2, row4 = ws[2], ws[4]
    assert row2[0].value == "HT-001"  # the uploaded data is kept
    assert row4[0].value == "HT-003"
    assert ws.cell(row=2, column=result_col).value == "错误"
    assert _fill(ws.cell(row=2, column=result_col)) == RED
    assert "[R6] 统一社会信用代码" in ws.cell(row=2, column=message_col).value
    assert "[R12]" in ws.cell(row=2, column=message_col).value
    assert ws.cell(row=3, column=result_col).value == "提示"
    assert _fill(ws.cell(row=3, column=message_col)) == AMBER
    assert ws.cell(row=4, column=result_col).value == "通过"
    assert _fill(ws.cell(row=4, column=result_col)) == GREEN
    assert not ws.cell(row=4, column=message_col).value
    # the offending cell itself is marked
    uscc_col = fields.index("统一社会信用代码") + 1
    assert _fill(ws.cell(row=2, column=uscc_col)) != ""
    assert _fill(ws.cell(row=4, column=uscc_col)) == ""


def test_annotated_workbook_lists_every_finding_including_whole_file_ones(client, bank, rejected_batch):
    client.force_login(bank_user(bank))

    summary = _annotated(client, rejected_batch)["问题汇总"]

    rows = [[c.value for c in r] for r in summary.iter_rows()]
    assert any(r[1] == "整个文件" and "未知的列" in (r[5] or "") for r in rows)
    assert sum(1 for r in rows if r[0] in ("错误", "提示")) == 4


def test_annotated_workbook_of_a_reuploaded_annotated_file_replaces_the_old_annotations(client, bank):
    first = stored_batch(bank=bank, content=xlsx.rows_workbook(kind=F.REGISTRATION, rows=registration_rows(1)),
                         issues=[issue(2, "企业名称", "旧问题")])
    client.force_login(bank_user(bank))
    annotated = client.get(f"/bank/batches/{first.pk}/annotated.xlsx").content
    again = stored_batch(bank=bank, content=annotated, filename="备案_校验结果.xlsx", status=BatchStatus.APPLIED)

    ws = _annotated(client, again)[F.SHEET_NAMES[F.REGISTRATION]]

    header = [c.value for c in ws[1]]
    assert header.count(F.ANNOTATION_HEADERS[0]) == 1
    assert ws.cell(row=2, column=len(header) - 1).value == "通过"


def test_csv_upload_gets_an_xlsx_annotated_workbook_back(client, bank):
    fields = [f.header for f in F.fields_for(F.REGISTRATION)]
    lines = [",".join(fields), ",".join("x" for _ in fields), ",".join("y" for _ in fields)]
    content = ("\n".join(lines) + "\n").encode("gb18030")
    batch = stored_batch(bank=bank, content=content, filename="备案.csv",
                         issues=[issue(3, "贷款金额(元)", "金额无法识别", value="y")])
    client.force_login(bank_user(bank))

    ws = _annotated(client, batch).worksheets[0]

    assert ws.cell(row=1, column=1).value == "借款合同编号"
    assert ws.cell(row=2, column=len(fields) + 1).value == "通过"
    assert ws.cell(row=3, column=len(fields) + 1).value == "错误"
    assert "金额无法识别" in ws.cell(row=3, column=len(fields) + 2).value


def test_annotated_download_waits_until_the_batch_is_finished(client, bank, rejected_batch):
    rejected_batch.status = BatchStatus.PROCESSING
    rejected_batch.save()
    client.force_login(bank_user(bank))

    response = client.get(f"/bank/batches/{rejected_batch.pk}/annotated.xlsx")

    assert response.status_code == 302


def test_progress_json_reports_status_counts_and_percent(client, bank, rejected_batch):
    rejected_batch.status, rejected_batch.rows_total, rejected_batch.rows_done = BatchStatus.PROCESSING, 200, 50
    rejected_batch.save()
    client.force_login(bank_user(bank))

    data = client.get(f"/bank/batches/{rejected_batch.pk}/progress.json").json()

    assert data == {
        "id": str(rejected_batch.pk), "status": "processing", "status_label": "处理中", "finished": False,
        "percent": 25, "rows_total": 200, "rows_done": 50, "error_count": 2, "warning_count": 2,
        "info_count": 0,
    }


def test_progress_json_of_a_finished_batch_is_100_percent(client, bank, rejected_batch):
    client.force_login(bank_user(bank))

    data = client.get(f"/bank/batches/{rejected_batch.pk}/progress.json").json()

    assert data["finished"] is True
    assert data["percent"] == 100
    assert data["status_label"] == "已拒绝"


def test_batch_page_renders_the_progress_bar_server_side_with_the_polling_url(client, bank, rejected_batch):
    rejected_batch.status, rejected_batch.rows_total, rejected_batch.rows_done = BatchStatus.PROCESSING, 10, 4
    rejected_batch.save()
    client.force_login(bank_user(bank))

    page = client.get(f"/bank/batches/{rejected_batch.pk}/").content.decode()

    assert f'data-progress-url="/bank/batches/{rejected_batch.pk}/progress.json"' in page
    assert '<progress max="100" value="40"' in page
    assert 'data-finished="0"' in page
    assert "bank/progress.js" in page
    assert "<script>" not in page  # no inline script (CSP)


def test_batch_page_groups_the_issues_with_counts_and_rows(client, bank):
    issues = [issue(r, "统一社会信用代码", f"统一社会信用代码“X{r}”校验位错误", rule="R6", value=f"X{r}")
              for r in range(2, 14)]
    issues.append(issue(5, "年利率(%)", "年利率超过上限", rule="R12"))
    batch = stored_batch(bank=bank, content=b"x", issues=issues)
    client.force_login(bank_user(bank))

    page = client.get(f"/bank/batches/{batch.pk}/").content.decode()

    assert "发现 13 处错误，整个文件未导入" in page
    assert "2、3、4、5、6、7、8、9 等另 4 行" in page
    groups = group_issues(batch.issues)
    assert [(g.column, g.count) for g in groups] == [("统一社会信用代码", 12), ("年利率(%)", 1)]


def test_group_issues_puts_errors_before_warnings_and_keeps_whole_file_findings():
    groups = group_issues([
        issue(None, "", "表头有未知的列", level="warning"),
        issue(4, "放款日期", "放款日期早于签订日期", rule="R13"),
    ])

    assert [g.level for g in groups] == ["error", "warning"]
    assert groups[1].whole_file
    assert groups[1].rows == []
