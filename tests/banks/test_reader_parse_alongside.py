"""The reader parses the sheet with calamine in a worker thread while the calling thread scans the
sheet's XML and runs the caller's ``meanwhile``; refusals keep their order, nothing is left running."""

from __future__ import annotations

import threading
import zipfile
from datetime import date

import pytest

from banks.intake import fields as F
from banks.intake import reader
from banks.intake.issues import IntakeRefused, IssueLog
from tests.banks.factories import status_row
from tests.banks.workbooks import status_workbook, xls_bytes

JUNE = date(2021, 6, 1)


def _rows(n: int) -> list[dict]:
    return [status_row(f"RA{i}", JUNE) for i in range(n)]


@pytest.fixture
def xlsx(tmp_path):
    path = tmp_path / "status.xlsx"
    path.write_bytes(status_workbook(_rows(3)))
    return path


def _open(path, fmt="xlsx", *, row_cap=100, meanwhile=None):
    return reader.open_file(path, fmt, F.STATUS, IssueLog(F.SHEET_NAMES[F.STATUS]), row_cap=row_cap,
                            meanwhile=meanwhile)


def test_meanwhile_runs_in_the_calling_thread_with_the_sheets_size(xlsx):
    calls = []
    table = _open(xlsx, meanwhile=lambda size: calls.append((size, threading.get_ident())))
    try:
        assert [values[0] for _, values in table.rows] == ["RA0", "RA1", "RA2"]
    finally:
        table.close()
    with zipfile.ZipFile(xlsx) as zf:
        sheet_size = zf.getinfo("xl/worksheets/sheet1.xml").file_size
    assert calls == [(sheet_size, threading.get_ident())]  # the caller's thread: its database connection


def test_meanwhile_gets_the_file_size_of_an_xls(tmp_path):
    path = tmp_path / "status.xls"
    path.write_bytes(xls_bytes(F.STATUS, _rows(2)))
    sizes = []
    table = _open(path, "xls", meanwhile=sizes.append)
    table.close()
    assert sizes == [path.stat().st_size]


def test_a_refusal_of_the_xml_scan_keeps_its_place_after_the_header_and_row_checks(xlsx, monkeypatch):
    def refuse(path, name):
        raise IntakeRefused("扫描拒绝", code="bad_xml")

    monkeypatch.setattr(reader, "_xlsx_scan", refuse)
    ran = []
    with pytest.raises(IntakeRefused) as too_many:
        _open(xlsx, row_cap=2, meanwhile=ran.append)
    assert too_many.value.code == "too_many_rows"  # found before the scan's refusal, as when they ran in turn
    with pytest.raises(IntakeRefused) as scanned:
        _open(xlsx, meanwhile=ran.append)
    assert scanned.value.code == "bad_xml"
    assert ran == []  # not run for a file that is refused anyway


def test_a_failure_meanwhile_is_raised_once_the_parse_is_done(xlsx):
    def boom(size):
        raise RuntimeError("database down")

    with pytest.raises(RuntimeError, match="database down"):
        _open(xlsx, meanwhile=boom)
    assert [t for t in threading.enumerate() if t.name.startswith("calamine")] == []
