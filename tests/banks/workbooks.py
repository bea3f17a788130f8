"""Write registration / status workbooks (and CSV files) from row dicts, for tests.

Reusable by the portal tests:

    data = registration_workbook([row1, row2])             # bytes of an .xlsx
    data = status_workbook(rows, headers=[...], number_formats={"annual_rate": "0.00%"})

Row dicts are keyed by the internal field names of ``banks.intake.fields`` (``contract_no``,
``annual_rate``…); values are written as given, so a test can put a text date, ``"4.35%"`` or
``"１，０００"`` in a cell.  ``headers`` picks and orders the columns (field names, or any text for
an unknown column); ``blank_rows_after`` appends rows with empty strings (trailing empty rows).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import openpyxl

from banks.intake import fields as F


def _header_text(kind: str, name: str) -> str:
    by_name = {f.name: f.header for f in F.fields_for(kind)}
    return by_name.get(name, name)


def workbook_bytes(
    kind: str,
    rows: Iterable[Mapping[str, Any]],
    *,
    headers: Sequence[str] | None = None,
    sheet_name: str | None = None,
    number_formats: Mapping[str, str] | None = None,
    title_rows: Sequence[Sequence[Any]] = (),
    blank_rows_after: int = 0,
    extra_sheets: Sequence[str] = (),
) -> bytes:
    """An .xlsx with the data sheet (and optional extra sheets) as bytes."""
    names = list(headers) if headers is not None else list(F.field_names(kind))
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet_name or F.SHEET_NAMES[kind]
    for title in title_rows:
        ws.append(list(title))
    ws.append([_header_text(kind, n) for n in names])
    formats = number_formats or {}
    for row in rows:
        ws.append([row.get(n) for n in names])
        for col, name in enumerate(names, start=1):
            if name in formats:
                ws.cell(row=ws.max_row, column=col).number_format = formats[name]
    for _ in range(blank_rows_after):
        ws.append([""] * len(names))
    for extra in extra_sheets:
        wb.create_sheet(extra)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def registration_workbook(rows: Iterable[Mapping[str, Any]], **kw: Any) -> bytes:
    return workbook_bytes(F.REGISTRATION, rows, **kw)


def status_workbook(rows: Iterable[Mapping[str, Any]], **kw: Any) -> bytes:
    return workbook_bytes(F.STATUS, rows, **kw)


def csv_bytes(kind: str, rows: Iterable[Mapping[str, Any]], *, encoding: str = "utf-8",
              headers: Sequence[str] | None = None) -> bytes:
    names = list(headers) if headers is not None else list(F.field_names(kind))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_header_text(kind, n) for n in names])
    for row in rows:
        writer.writerow(["" if row.get(n) is None else row.get(n) for n in names])
    return buffer.getvalue().encode(encoding)


def xls_bytes(kind: str, rows: Iterable[Mapping[str, Any]], *, headers: Sequence[str] | None = None) -> bytes:
    """A legacy BIFF8 .xls (xlwt); dates written as Excel dates."""
    import datetime

    import xlwt

    names = list(headers) if headers is not None else list(F.field_names(kind))
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet(F.SHEET_NAMES[kind])
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for col, name in enumerate(names):
        sheet.write(0, col, _header_text(kind, name))
    for r, row in enumerate(rows, start=1):
        for col, name in enumerate(names):
            value = row.get(name)
            if isinstance(value, datetime.date):
                sheet.write(r, col, value, date_style)
            elif value is not None:
                sheet.write(r, col, value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
