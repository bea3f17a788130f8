"""Hostile and odd files (bank-workbooks.md §3): refused before parsing, in under a second, with a
Chinese message and nothing stored; or handled as the real rows they contain."""

from __future__ import annotations

import io
import time
import zipfile

import pytest

from banks.intake.safety import xml_prolog_problem
from banks.models import BatchStatus, IntakeBatch
from fund.models import Loan
from tests.banks.factories import registration_row
from tests.banks.workbooks import registration_workbook

pytestmark = pytest.mark.django_db

SHEET = "xl/worksheets/sheet1.xml"


def _rewrite(data: bytes, replace: dict[str, bytes | None], add: dict[str, bytes] | None = None,
             compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """The workbook with some parts replaced (None drops the part) or added."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as target:
        for name in source.namelist():
            if name in replace:
                if replace[name] is not None:
                    target.writestr(name, replace[name])
            else:
                target.writestr(name, source.read(name))
        for name, content in (add or {}).items():
            target.writestr(name, content)
    return out.getvalue()


def _part(data: bytes, name: str) -> bytes:
    return zipfile.ZipFile(io.BytesIO(data)).read(name)


def _refused(upload, data: bytes, filename: str = "备案.xlsx"):
    start = time.perf_counter()
    batch = upload(data, filename=filename)
    elapsed = time.perf_counter() - start
    assert batch.status == BatchStatus.REJECTED, batch.issues
    assert elapsed < 1.0, f"refusal took {elapsed:.2f} s"
    assert batch.stored_path == ""
    assert Loan.objects.count() == 0
    return batch.issues[0]["message"]


def test_zip_bomb_is_refused_before_decompression(upload, world):
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr(SHEET, b"<worksheet>" + b" " * (30 * 1024 * 1024) + b"</worksheet>")
    assert "压缩炸弹" in _refused(upload, bomb.getvalue())


def test_entity_expansion_xml_in_a_sheet_is_refused(upload, world):
    laughs = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
              + b"".join(b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10) for i in range(1, 10))
              + b']>\n<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c>'
              b"</row></sheetData></worksheet>")
    data = _rewrite(registration_workbook([registration_row()]), {SHEET: laughs})
    assert "DOCTYPE" in _refused(upload, data)


def test_renamed_pdf_is_refused(upload, world):
    message = _refused(upload, b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "贷款备案.xlsx")
    assert "PDF" in message


def test_random_bytes_named_xlsx_are_refused(upload, world):
    assert "不是 Excel 工作簿" in _refused(upload, b"\x01\x02garbage" * 100)


def test_xlsm_is_refused_by_name(upload, world):
    assert ".xlsm" in _refused(upload, registration_workbook([registration_row()]), "备案.xlsm")


def test_macro_enabled_content_type_is_refused_whatever_the_name(upload, world):
    data = registration_workbook([registration_row()])
    types = _part(data, "[Content_Types].xml").replace(
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    )
    data = _rewrite(data, {"[Content_Types].xml": types}, add={"xl/vbaProject.bin": b"\x00" * 64})
    assert "宏" in _refused(upload, data)


def test_zip_that_is_not_a_workbook_is_refused(upload, world):
    data = _rewrite(registration_workbook([registration_row()]), {"xl/workbook.xml": None})
    assert "xl/workbook.xml" in _refused(upload, data)


def test_file_over_the_size_cap_is_refused(upload, world, settings):
    settings.INTAKE_MAX_UPLOAD_BYTES = 1024
    assert "超过上限" in _refused(upload, registration_workbook([registration_row()]))


def test_declared_million_row_dimension_is_read_as_its_four_real_rows(upload, world):
    data = registration_workbook([registration_row() for _ in range(4)])
    sheet = _part(data, SHEET)
    start = sheet.index(b"<dimension")
    end = sheet.index(b"/>", start) + 2
    data = _rewrite(data, {SHEET: sheet[:start] + b'<dimension ref="A1:Z1000000"/>' + sheet[end:]})
    started = time.perf_counter()
    batch = upload(data)
    assert time.perf_counter() - started < 3
    assert batch.status == BatchStatus.APPLIED, batch.issues
    assert batch.rows_total == 4
    assert Loan.objects.count() == 4


def test_formula_without_cached_value_and_error_values_are_row_errors(upload, world):
    rows = [registration_row(), registration_row(principal="=SUM(1,2)"), registration_row(region="#REF!")]
    batch = upload(registration_workbook(rows))
    errors = sorted((i["row"], i["column"]) for i in batch.issues if i["level"] == "error")
    assert errors == [(3, "贷款金额(元)"), (4, "所在市(州)")]
    messages = " ".join(i["message"] for i in batch.issues)
    assert "公式" in messages
    assert "#REF!" in messages


def test_merged_cells_in_the_data_area_are_refused(upload, world):
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(registration_workbook([registration_row(), registration_row()])))
    wb.active.merge_cells("S2:S3")
    buffer = io.BytesIO()
    wb.save(buffer)
    batch = upload(buffer.getvalue())
    assert batch.status == BatchStatus.REJECTED
    assert "合并单元格 S2:S3" in batch.issues[0]["message"]


def test_wrong_sheet_is_refused_with_a_hint(upload, world):
    batch = upload(registration_workbook([registration_row()]), kind="status")
    assert batch.status == BatchStatus.REJECTED
    assert "月度状态" in batch.issues[0]["message"]
    assert "选错了报送类型" in batch.issues[0]["message"]


def test_unknown_and_missing_headers_are_refused(upload, world):
    row = registration_row()
    names = [n for n in row if n != "principal"] + ["备注"]
    batch = upload(registration_workbook([row], headers=names))
    assert batch.status == BatchStatus.REJECTED
    messages = [i["message"] for i in batch.issues]
    assert any("未知的列“备注”" in m for m in messages)
    assert any("缺少必填列“贷款金额(元)”" in m for m in messages)


def test_annotation_columns_of_a_returned_workbook_are_ignored(upload, world):
    row = registration_row()
    batch = upload(registration_workbook([{**row, "处理结果": "错误", "问题说明": "x"}],
                                         headers=[*row, "处理结果", "问题说明"]))
    assert batch.status == BatchStatus.APPLIED, batch.issues


def test_row_cap_comes_from_the_parameter_set(upload, world):
    world.programme.parameter_sets.update(intake_row_cap=2)
    batch = upload(registration_workbook([registration_row() for _ in range(3)]))
    assert batch.status == BatchStatus.REJECTED
    assert "超过上限 2 行" in batch.issues[0]["message"]


def test_empty_sheet_below_the_header_is_an_error(upload, world):
    batch = upload(registration_workbook([], blank_rows_after=3))
    assert batch.status == BatchStatus.REJECTED
    assert "没有数据行" in batch.issues[0]["message"]


def test_binary_csv_is_refused(upload, world):
    assert "二进制" in _refused(upload, b"a,b\x00,c\n", "备案.csv")


@pytest.mark.parametrize(("head", "problem"), [
    (b'<?xml version="1.0"?><worksheet/>', ""),
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><worksheet/>', "DOCTYPE"),
    (b'<?xml version="1.0"?><!-- c --><!ENTITY a "b"><x/>', "ENTITY"),
    ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x><w/>'.encode("utf-16"), "DOCTYPE"),
    (b"<worksheet><t>&lt;!DOCTYPE in text is fine</t></worksheet>", ""),
])
def test_xml_prolog_scan(head, problem):
    found = xml_prolog_problem(head)
    assert (problem in found) if problem else found == ""


def test_refused_uploads_are_audited(upload, world):
    from registry.models import DomainEvent

    upload(b"%PDF-1.4 not a workbook", filename="x.xlsx")
    batch = IntakeBatch.objects.get()
    assert DomainEvent.objects.filter(object_id=str(batch.pk), event_type="intake.refused").exists()
