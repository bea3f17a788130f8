"""Reading a workbook, a CSV file or a list of API records into one shape: a :class:`Table`
whose rows are lists of raw values in the order of ``fields.fields_for(kind)``.

- ``.xlsx``/``.xls``: python-calamine (cached values, actual cells only — a declared
  ``<dimension ref="A1:Z1000000"/>`` costs nothing).  For ``.xlsx`` one streaming pass over the
  data sheet's XML finds what calamine hides: formulas without a cached value, error values
  (``#REF!``…), and cells with a percent number format (so ``4.35%`` stored as 0.0435 is read as
  4.35).  Merged cells come from calamine.  python-calamine releases the GIL while it parses, so
  the sheet is parsed in a worker thread while this thread scans the XML (and runs the caller's
  ``meanwhile``, e.g. the status intake's read of the bank's open loans).
- ``.csv``: UTF-8 (with or without BOM), else GB18030 (a superset of GBK).
- API records: ``{"field_name": value}`` dicts; the row number is the 1-based record index.

The header row is found among the first ``HEADER_SEARCH_ROWS`` rows; columns may come in any
order; annotation columns of a returned workbook are ignored; empty rows are skipped.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import chain, count, islice
from operator import itemgetter
from pathlib import Path, PurePosixPath
from typing import Any

from defusedxml import ElementTree
from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum

from . import fields as F
from .issues import IntakeRefused, IssueLog
from .safety import MAX_UNCOMPRESSED_BYTES

FORMULA_MISSING = "formula"
PERCENT = "percent"
ERROR_PREFIX = "error:"
_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_SMALL_PART_LIMIT = 20 * 1024 * 1024
_CHUNK = 1024 * 1024


@dataclass
class Table:
    """Rows of one sheet (or CSV, or API body), aligned to the kind's fields."""

    kind: str
    sheet: str
    labels: list[str]  # the column label used in issues, per field
    present: list[bool]  # whether the column was in the file, per field
    row_count: int  # data rows (an upper bound for workbooks: empty rows inside are counted)
    rows: Iterator[tuple[int, list[Any]]]
    markers: dict[int, dict[int, str]] = field(default_factory=dict)  # row → field index → marker
    closer: Any = None

    def close(self) -> None:
        """Release the workbook and the row iterator (which holds calamine's cell data)."""
        self.rows = iter(())
        if self.closer is not None:
            try:
                self.closer()
            finally:
                self.closer = None


# --------------------------------------------------------------------------- header


def _header_matches(cells: list[Any], kind: str) -> int:
    lookup = F.header_lookup(kind)
    return sum(1 for c in cells if isinstance(c, str) and F.normalize_header(c) in lookup)


def find_header(rows: list[list[Any]], kind: str) -> int:
    """Index of the header row among ``rows`` (the first with ≥ 2 known headers)."""
    for i, cells in enumerate(rows[: F.HEADER_SEARCH_ROWS]):
        if _header_matches(cells, kind) >= 2:
            return i
    other = F.STATUS if kind == F.REGISTRATION else F.REGISTRATION
    hint = ""
    if any(_header_matches(cells, other) >= 3 for cells in rows[: F.HEADER_SEARCH_ROWS]):
        hint = f"（表头像是{F.SHEET_NAMES[other]}，是否选错了报送类型？）"
    raise IntakeRefused(
        f"在前 {F.HEADER_SEARCH_ROWS} 行中找不到表头（如“借款合同编号”）{hint}，请使用系统提供的模板",
        code="no_header",
    )


def map_header(cells: list[Any], kind: str, log: IssueLog, *, row: int | None, col_offset: int = 0) -> list[int]:
    """Column index per field (-1 when absent); unknown, duplicate or missing headers are errors."""
    fields = F.fields_for(kind)
    lookup = F.header_lookup(kind)
    index = {f.name: i for i, f in enumerate(fields)}
    colmap = [-1] * len(fields)
    for col, cell in enumerate(cells):
        if cell is None or (isinstance(cell, str) and not cell.strip()):
            continue
        key = F.normalize_header(cell)
        if key in F.annotation_headers():
            continue
        fld = lookup.get(key)
        if fld is None:
            log.error(f"未知的列“{cell}”：{F.SHEET_NAMES[kind]}没有这一列，请使用系统提供的模板",
                      row=row, column=str(cell), value=cell)
        elif colmap[index[fld.name]] >= 0:
            log.error(f"列“{fld.header}”重复出现", row=row, column=fld.header, value=cell)
        else:
            colmap[index[fld.name]] = col + col_offset
    for i, fld in enumerate(fields):
        if fld.required and colmap[i] < 0:
            log.error(f"缺少必填列“{fld.header}”", row=row, column=fld.header)
    return colmap


def _aligned(rows: Iterable[tuple[int, list[Any]]], colmap: list[int]) -> Iterator[tuple[int, list[Any]]]:
    """Data rows as values per field (None for an absent column); rows with no truthy cell are
    skipped here, rows of spaces by the parser."""
    width = max(colmap) + 1 if colmap else 0
    if colmap == list(range(len(colmap))):  # every column, in the template's order: no picking
        yield from _in_order(rows, width)
        return
    pick = itemgetter(*[c if c >= 0 else width for c in colmap])  # index ``width`` is the None pad
    pad = [None] * (width + 1)
    for rowno, cells in rows:
        if not any(cells):
            continue
        short = width + 1 - len(cells)
        if short > 0:
            cells = [*cells, *pad[:short]]
        elif short < 0:
            cells = cells[: width + 1]
            cells[width] = None
        else:
            cells[width] = None
        yield rowno, list(pick(cells))


def _in_order(rows: Iterable[tuple[int, list[Any]]], width: int) -> Iterator[tuple[int, list[Any]]]:
    """:func:`_aligned` when the columns are the fields in order: the row itself, cut or padded."""
    for rowno, cells in rows:
        if not any(cells):
            continue
        if len(cells) != width or cells.__class__ is not list:
            cells = [*cells[:width], *([None] * (width - len(cells)))]
        yield rowno, cells


# --------------------------------------------------------------------------- xlsx XML details


def _read_small(zf: zipfile.ZipFile, name: str) -> bytes | None:
    try:
        info = zf.getinfo(name)
    except KeyError:
        return None
    if info.file_size > _SMALL_PART_LIMIT:
        raise IntakeRefused(f"工作簿部件 {name} 过大", code="part_too_large")
    return zf.read(info)


def sheet_part(zf: zipfile.ZipFile, sheet_name: str) -> str | None:
    """The zip path of the worksheet called ``sheet_name`` (via workbook.xml and its rels)."""
    workbook = _read_small(zf, "xl/workbook.xml")
    rels = _read_small(zf, "xl/_rels/workbook.xml.rels")
    if workbook is None or rels is None:
        return None
    rel_id = None
    for sheet in ElementTree.fromstring(workbook).iter(f"{_MAIN_NS}sheet"):
        if sheet.get("name") == sheet_name:
            rel_id = sheet.get(f"{_REL_NS}id")
    for rel in ElementTree.fromstring(rels).iter(f"{_PKG_REL_NS}Relationship"):
        if rel.get("Id") == rel_id:
            target = rel.get("Target", "")
            if target.startswith("/"):
                return target.lstrip("/")
            return str(PurePosixPath("xl") / target)
    return None


_BUILTIN_PERCENT_FORMATS = {9, 10}


def _is_percent_format(code: str) -> bool:
    return "%" in re.sub(r'"[^"]*"|\\.', "", code)


def percent_styles(zf: zipfile.ZipFile) -> frozenset[int]:
    """Indices of cell styles (cellXfs) whose number format shows a percent."""
    data = _read_small(zf, "xl/styles.xml")
    if not data or (b"%" not in data and b'numFmtId="9"' not in data and b'numFmtId="10"' not in data):
        return frozenset()
    root = ElementTree.fromstring(data)
    percent_ids = set(_BUILTIN_PERCENT_FORMATS)
    for fmt in root.iter(f"{_MAIN_NS}numFmt"):
        if _is_percent_format(fmt.get("formatCode", "")):
            percent_ids.add(int(fmt.get("numFmtId", "-1")))
    xfs = root.find(f"{_MAIN_NS}cellXfs")
    if xfs is None:
        return frozenset()
    return frozenset(
        i for i, xf in enumerate(xfs.iter(f"{_MAIN_NS}xf")) if int(xf.get("numFmtId", "0")) in percent_ids
    )


_REF = re.compile(rb'\br="([A-Z]{1,3})(\d+)"')
_FORMULA_CELL = re.compile(rb'<c\b([^>]*)>\s*<f\b[^>]*?(?:/>|>.*?</f>)(.*?)</c>', re.S)  # whole cells only
_CACHED_VALUE = re.compile(rb"<v(?:\s[^>]*)?>([^<]+)</v>")
_ERROR_CELL = re.compile(rb'<c\b([^>]*\bt="e"[^>]*)>(?:\s*<f\b[^>]*?(?:/>|>.*?</f>))?\s*<v>(.*?)</v>', re.S)


def _col_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n - 1


def _cell_ref(attrs: bytes) -> tuple[int, int]:
    match = _REF.search(attrs)
    if match is None:
        raise IntakeRefused("工作表中有公式或错误值单元格缺少位置信息，无法定位，请另存为 .xlsx 后重新上传",
                            code="cell_without_ref")
    return int(match[2]) - 1, _col_index(match[1])


def _scan_cells(block: bytes, found: dict[tuple[int, int], str]) -> None:
    for m in _FORMULA_CELL.finditer(block):
        if _CACHED_VALUE.search(m.group(2)) is None and b't="str"' not in m.group(1):
            found[_cell_ref(m.group(1))] = FORMULA_MISSING
    for m in _ERROR_CELL.finditer(block):
        found[_cell_ref(m.group(1))] = ERROR_PREFIX + m.group(2).decode("utf-8", "replace")


def _scan_percent(block: bytes, percent_re: re.Pattern, found: dict[tuple[int, int], str]) -> None:
    for m in percent_re.finditer(block):
        ref = _REF.search(m.group(0))
        if ref is not None:
            found.setdefault((int(ref[2]) - 1, _col_index(ref[1])), PERCENT)


_TOKENS = (b"<f", b't="e"')
_TAIL = 256 * 1024  # bytes of stream kept before each block: more than any single cell


def scan_sheet_xml(zf: zipfile.ZipFile, part: str, styles: frozenset[int]) -> dict[tuple[int, int], str]:
    """(row, col) 0-based → marker for formula cells without cached value, error cells, percent cells.

    Streams the part in 1 MB blocks; each block is looked at together with the 256 KB before it, so
    a cell cut by a block boundary is seen whole (the next window too, after a hit).  The cell
    regexes run only on windows that contain a formula or an error: a sheet with neither (the
    usual case) costs one decompression pass and a byte search per block.  Percent-styled cells are
    looked for only when the workbook has percent styles.
    """
    percent_re = None
    if styles:
        alternatives = b"|".join(str(s).encode() for s in sorted(styles))
        percent_re = re.compile(rb'<c\b[^>]*?\bs="(?:' + alternatives + rb')"[^>]*>')
    found: dict[tuple[int, int], str] = {}
    total = 0
    tail = b""
    pending = False
    with zf.open(part) as fh:
        while chunk := fh.read(_CHUNK):
            total += len(chunk)
            if total > MAX_UNCOMPRESSED_BYTES:
                raise IntakeRefused("工作表解压后过大（疑似压缩炸弹），已拒绝", code="zip_bomb")
            window = tail + chunk
            hit = any(token in window for token in _TOKENS)
            if hit or pending:
                _scan_cells(window, found)
            if percent_re is not None:
                _scan_percent(window, percent_re, found)
            pending, tail = hit, window[-_TAIL:]
    return found


def xlsx_markers(path: Path, sheet_name: str) -> dict[tuple[int, int], str]:
    return _xlsx_scan(path, sheet_name)[0]


def _xlsx_scan(path: Path, sheet_name: str) -> tuple[dict[tuple[int, int], str], int]:
    """The sheet's markers (see :func:`scan_sheet_xml`) and its uncompressed size in bytes."""
    try:
        with zipfile.ZipFile(path) as zf:
            part = sheet_part(zf, sheet_name)
            if part is None or part not in zf.NameToInfo:
                return {}, 0
            return scan_sheet_xml(zf, part, percent_styles(zf)), zf.NameToInfo[part].file_size
    except zipfile.BadZipFile as exc:
        raise IntakeRefused(f"工作簿已损坏（{exc}）", code="bad_zip") from None
    except ElementTree.ParseError as exc:
        raise IntakeRefused(f"工作簿的 XML 无法解析（{exc}）", code="bad_xml") from None


# --------------------------------------------------------------------------- workbooks


def _find_sheet(names: list[str], kind: str) -> str:
    wanted = {F.normalize_header(a) for a in F.SHEET_ALIASES[kind]}
    for name in names:
        if F.normalize_header(name) in wanted:
            return name
    other = F.STATUS if kind == F.REGISTRATION else F.REGISTRATION
    others = {F.normalize_header(a) for a in F.SHEET_ALIASES[other]}
    hint = "；这像是" + F.SHEET_NAMES[other] + "，是否选错了报送类型？" if any(
        F.normalize_header(n) in others for n in names
    ) else ""
    raise IntakeRefused(
        f"找不到工作表“{F.SHEET_NAMES[kind]}”（本文件的工作表：{'、'.join(names) or '无'}{hint}），"
        "请使用系统提供的模板",
        code="no_sheet",
    )


def _row_offset(buffer: list[list[Any]], head: list[list[Any]], start: tuple[int, int]) -> int:
    """python-calamine's ``iter_rows`` starts at row 0 or at the first used row, depending on
    version: find which by comparing with ``to_python`` (absolute rows)."""
    for offset in (0, start[0]):
        if all(
            offset + i >= len(head) or list(row) == list(head[offset + i][start[1]:start[1] + len(row)])
            for i, row in enumerate(buffer[:5])
        ):
            return offset
    return 0


Meanwhile = Callable[[int], None]
"""Work to do while calamine parses the sheet, given the sheet's size in bytes (uncompressed XML
for ``.xlsx``, the file for ``.xls``): a hint of how many rows are coming."""


def open_workbook(path: Path, fmt: str, kind: str, log: IssueLog, *, row_cap: int,
                  meanwhile: Meanwhile | None = None) -> Table:
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except CalamineError as exc:
        raise IntakeRefused(f"工作簿无法读取（{type(exc).__name__}）：文件可能已损坏或设置了密码",
                            code="unreadable") from None
    try:
        return _workbook_table(workbook, path, fmt, kind, log, row_cap=row_cap, meanwhile=meanwhile)
    except BaseException:
        workbook.close()
        raise


@dataclass
class _Scan:
    markers: dict[tuple[int, int], str] = field(default_factory=dict)
    size: int = 0
    error: Exception | None = None

    def result(self) -> dict[tuple[int, int], str]:
        if self.error is not None:
            raise self.error
        return self.markers


def _load_sheet(workbook, path: Path, fmt: str, name: str, meanwhile: Meanwhile | None) -> tuple[Any, _Scan]:
    """Parse the sheet with calamine in a worker thread (python-calamine releases the GIL while it
    parses) while this thread scans the sheet's XML and then runs ``meanwhile``.

    The scan's refusal is kept, not raised: the caller raises it where the scan used to run (after
    the header checks), so a file with several problems is refused for the same one as before.
    The worker is always joined before this returns or raises: the workbook is never closed
    under it.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="calamine") as pool:
        parsing = pool.submit(workbook.get_sheet_by_name, name)
        scan = _Scan()
        if fmt == "xlsx":
            try:
                scan.markers, scan.size = _xlsx_scan(path, name)
            except Exception as exc:  # raised by _Scan.result, in the scan's old place
                scan.error = exc
        else:
            scan.size = path.stat().st_size
        if meanwhile is not None and scan.error is None and scan.size:
            meanwhile(scan.size)
        try:
            sheet = parsing.result()
        except CalamineError as exc:
            raise IntakeRefused(f"工作表“{name}”无法读取（{type(exc).__name__}）", code="unreadable") from None
    return sheet, scan


def _workbook_table(workbook, path: Path, fmt: str, kind: str, log: IssueLog, *, row_cap: int,
                    meanwhile: Meanwhile | None = None) -> Table:
    name = _find_sheet(workbook.sheet_names, kind)
    meta = next((m for m in workbook.sheets_metadata if m.name == name), None)
    if meta is not None and meta.typ != SheetTypeEnum.WorkSheet:
        raise IntakeRefused(f"“{name}”不是普通工作表", code="no_sheet")
    log.sheet = name
    sheet, scan = _load_sheet(workbook, path, fmt, name, meanwhile)
    start = sheet.start
    if start is None:
        raise IntakeRefused(f"工作表“{name}”是空的", code="empty_sheet")
    head = sheet.to_python(skip_empty_area=False, nrows=F.HEADER_SEARCH_ROWS)
    header_abs = find_header(head, kind)
    data_rows = sheet.end[0] - header_abs
    if data_rows > row_cap:
        raise IntakeRefused(f"数据行数 {data_rows} 超过上限 {row_cap} 行，请拆分后分批上传", code="too_many_rows")
    _check_merged(sheet.merged_cell_ranges or [], header_abs, log)
    colmap = map_header(head[header_abs], kind, log, row=header_abs + 1)
    markers = scan.result()
    iterator = iter(sheet.iter_rows())
    buffer = [next(iterator, None) for _ in range(5)]
    buffer = [r for r in buffer if r is not None]
    offset = _row_offset(buffer, head, start)
    col_offset = start[1]
    shifted = [c - col_offset if c >= 0 else -1 for c in colmap]

    skip = max(0, header_abs + 1 - offset)  # rows up to the header; the others numbered as in Excel (1-based)
    numbered = zip(count(offset + skip + 1), islice(chain(buffer, iterator), skip, None))
    fields = F.fields_for(kind)
    return Table(
        kind=kind, sheet=name,
        labels=[f.header for f in fields], present=[c >= 0 for c in colmap],
        row_count=max(data_rows, 0), rows=_aligned(numbered, shifted),
        markers=_field_markers(markers, colmap), closer=workbook.close,
    )


def _check_merged(ranges: list, header_abs: int, log: IssueLog) -> None:
    for (r0, c0), (r1, c1) in ranges:
        if r1 >= header_abs:
            ref = f"{_col_letters(c0)}{r0 + 1}:{_col_letters(c1)}{r1 + 1}"
            log.error(f"数据区域有合并单元格 {ref}，请取消合并、每个单元格单独填写后重新上传",
                      row=r0 + 1, column=ref)


def _col_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _field_markers(markers: dict[tuple[int, int], str], colmap: list[int]) -> dict[int, dict[int, str]]:
    by_col = {c: i for i, c in enumerate(colmap) if c >= 0}
    out: dict[int, dict[int, str]] = {}
    for (row, col), marker in markers.items():
        fidx = by_col.get(col)
        if fidx is not None:
            out.setdefault(row + 1, {})[fidx] = marker
    return out


# --------------------------------------------------------------------------- csv and records


def decode_text(data: bytes) -> str:
    """UTF-8 (BOM or not), else GB18030 (GBK's superset); refused if neither decodes."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise IntakeRefused("CSV 文件的文字编码无法识别，请保存为 UTF-8 或 GBK 编码", code="encoding")


def open_csv(path: Path, kind: str, log: IssueLog, *, row_cap: int) -> Table:
    text = decode_text(path.read_bytes())
    log.sheet = F.SHEET_NAMES[kind]
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise IntakeRefused(f"CSV 文件格式有误：{exc}", code="bad_csv") from None
    header = find_header(rows, kind)
    data_rows = len(rows) - header - 1
    if data_rows > row_cap:
        raise IntakeRefused(f"数据行数 {data_rows} 超过上限 {row_cap} 行，请拆分后分批上传", code="too_many_rows")
    colmap = map_header(rows[header], kind, log, row=header + 1)
    numbered = ((i + 1, row) for i, row in enumerate(rows) if i > header)
    fields = F.fields_for(kind)
    return Table(
        kind=kind, sheet=F.SHEET_NAMES[kind], labels=[f.header for f in fields],
        present=[c >= 0 for c in colmap], row_count=data_rows, rows=_aligned(numbered, colmap),
    )


def records_table(records: Any, kind: str, log: IssueLog, *, row_cap: int) -> Table:
    """API records: ``row`` is the 1-based record index, ``column`` the field name."""
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise IntakeRefused("records 应为对象数组", code="bad_records")
    if len(records) > row_cap:
        raise IntakeRefused(f"一次最多提交 {row_cap} 条记录，本次 {len(records)} 条", code="too_many_rows")
    fields = F.fields_for(kind)
    names = [f.name for f in fields]
    known = set(names)
    for i, record in enumerate(records, start=1):
        for key in record:
            if key not in known:
                log.error(f"未知的字段“{key}”", row=i, column=str(key), value=record[key])
    rows = ((i, [r.get(n) for n in names]) for i, r in enumerate(records, start=1))
    return Table(
        kind=kind, sheet=F.SHEET_NAMES[kind], labels=names, present=[True] * len(fields),
        row_count=len(records), rows=rows,
    )


def open_file(path: Path, fmt: str, kind: str, log: IssueLog, *, row_cap: int,
              meanwhile: Meanwhile | None = None) -> Table:
    """A workbook or CSV file as a :class:`Table`; ``meanwhile`` runs while a workbook's sheet is
    parsed (not for CSV, which is parsed in Python)."""
    if fmt == "csv":
        return open_csv(path, kind, log, row_cap=row_cap)
    return open_workbook(path, fmt, kind, log, row_cap=row_cap, meanwhile=meanwhile)
