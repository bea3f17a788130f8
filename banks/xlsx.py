"""Workbooks the bank portal hands out (bank-workbooks.md, "What the bank gets back").

- :func:`template_workbook` — the downloadable template of a kind: the data sheet with the Chinese
  headers of ``banks.intake.fields`` in order (the same definitions the validator reads), dropdowns
  that point at a hidden lookup sheet, a notes sheet with the data dictionary, and the template
  version in the file's properties.
- :func:`rows_workbook` — the template with data rows filled in (rows keyed by header); the demo
  loader and tests use it to produce workbooks a bank would send.
- :func:`annotated_workbook` — the uploaded workbook's data returned with a result column and an
  issue column on every row (red for errors, amber for warnings), read from the stored file with
  python-calamine and written with openpyxl's write-only mode.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from banks.intake import fields as F

logger = logging.getLogger(__name__)

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATA_ROWS = 5000  # rows covered by the dropdowns and column formats of the template
KIND_TITLES = {F.REGISTRATION: "贷款备案", F.STATUS: "月度贷款状态报告"}
DATE_FORMAT = "yyyy-mm-dd"
TEXT_FORMAT = "@"
MONEY_FORMAT = "#,##0.00"
APP_NAME = "风险补偿资金池管理系统"

HEADER_FILL = PatternFill("solid", fgColor="9B1C1C")
OPTIONAL_HEADER_FILL = PatternFill("solid", fgColor="C2574F")
NOTE_HEADER_FILL = PatternFill("solid", fgColor="F3E8E8")
ERROR_FILL = PatternFill("solid", fgColor="F8C9C9")
ERROR_CELL_FILL = PatternFill("solid", fgColor="EF8A8A")
WARNING_FILL = PatternFill("solid", fgColor="FCE3B0")
WARNING_CELL_FILL = PatternFill("solid", fgColor="F5C060")
OK_FILL = PatternFill("solid", fgColor="D7F0DD")
WHITE_BOLD = Font(bold=True, color="FFFFFF")
BOLD = Font(bold=True)
THIN = Side(style="thin", color="D1D5DB")
GRID = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")


def template_keywords(kind: str) -> str:
    """What the template's ``keywords`` property says: ``fundpool-template:<kind>:<version>``."""
    return f"fundpool-template:{kind}:{F.TEMPLATE_VERSION}"


def template_filename(kind: str) -> str:
    return f"{KIND_TITLES[kind]}模板_v{F.TEMPLATE_VERSION}.xlsx"


# --------------------------------------------------------------------------- lookup lists


@dataclass(frozen=True)
class LookupList:
    """One column of the hidden lookup sheet; ``names`` fills the column beside it (industry names)."""

    key: str
    title: str
    values: tuple[str, ...]
    names: tuple[str, ...] = ()


def _programme_for(bank):
    from fund.models import Programme

    programmes = Programme.objects.order_by("-start_date", "code")
    if bank is not None:
        return programmes.filter(partnerships__bank=bank).first() or programmes.first()
    return programmes.first()


def _excluded_industries(programme) -> list[str]:
    from fund.selectors import parameters_in_force
    from registry.errors import BusinessError

    if programme is None:
        return list(_default_exclusions())
    try:
        params = parameters_in_force(programme=programme, on=timezone.localdate())
    except BusinessError:
        return list(_default_exclusions())
    return [item for item in params.excluded_industries.split(",") if item.strip()]


def _default_exclusions() -> tuple[str, ...]:
    from registry.rules import DEFAULT_SERVICE_EXCLUSIONS

    return DEFAULT_SERVICE_EXCLUSIONS


def lookup_lists(*, bank=None) -> dict[str, LookupList]:
    """The dropdown lists, from the database: 21 市(州), eligible service divisions (R8, without the
    programme's exclusions), partner guarantors, and the labels of every choice column."""
    from fund.models import GuarantorPartnership
    from registry.models import IndustryDivision, Region
    from registry.rules import IndustryCode, is_service_industry

    programme = _programme_for(bank)
    excluded = _excluded_industries(programme)
    divisions = [
        d for d in IndustryDivision.objects.filter(is_service=True).order_by("code")
        if is_service_industry(IndustryCode(d.section_id, d.code, d.section_id + d.code), excluded=excluded)
    ]
    partners = GuarantorPartnership.objects.select_related("guarantor").order_by("guarantor__code")
    if programme is not None:
        partners = partners.filter(programme=programme)
    guarantors = tuple(dict.fromkeys(p.guarantor.name for p in partners))
    lists = {
        "region": LookupList("region", "所在市(州)", tuple(Region.objects.order_by("code").values_list("name", flat=True))),
        "industry": LookupList(
            "industry", "行业大类代码", tuple(d.section_id + d.code for d in divisions), tuple(d.name for d in divisions)
        ),
        "guarantor": LookupList("guarantor", "合作担保机构", guarantors),
    }
    for kind in F.KINDS:
        for field in fields_with_choices(kind):
            key = _choice_key(field)
            lists.setdefault(key, LookupList(key, field.header if field.type != F.BOOL else "是/否", field.labels))
    return lists


def fields_with_choices(kind: str) -> list[F.Field]:
    return [f for f in F.fields_for(kind) if f.choices]


def _choice_key(field: F.Field) -> str:
    return "bool" if field.type == F.BOOL else field.name


def _list_key(field: F.Field) -> str:
    if field.lookup:
        return field.lookup
    return _choice_key(field) if field.choices else ""


# --------------------------------------------------------------------------- template


def _column_width(field: F.Field) -> float:
    def width(text: str) -> float:
        return sum(2.1 if ord(ch) > 0x2E80 else 1.15 for ch in text)

    return max(10.0, min(36.0, max(width(field.header), width(field.example)) + 3))


def _number_format(field: F.Field) -> str:
    if field.type == F.DATE:
        return DATE_FORMAT
    if field.type in (F.CODE, F.MONTH, F.TEXT):
        return TEXT_FORMAT
    if field.type == F.MONEY:
        return MONEY_FORMAT
    return "General"


def _write_lookup_sheet(wb: Workbook, lists: Mapping[str, LookupList]) -> dict[str, str]:
    """Fill the hidden lookup sheet; return list key → absolute range for the dropdown formulas."""
    ws = wb.create_sheet(F.LOOKUP_SHEET)
    ws.sheet_state = "hidden"
    ranges: dict[str, str] = {}
    column = 1
    for key, item in lists.items():
        ws.cell(row=1, column=column, value=item.title).font = BOLD
        for i, value in enumerate(item.values, start=2):
            ws.cell(row=i, column=column, value=value)
        letter = get_column_letter(column)
        last = max(2, len(item.values) + 1)
        ranges[key] = f"{quote_sheetname(F.LOOKUP_SHEET)}!${letter}$2:${letter}${last}"
        ws.column_dimensions[letter].width = 16
        column += 1
        if item.names:
            ws.cell(row=1, column=column, value=f"{item.title}名称").font = BOLD
            for i, name in enumerate(item.names, start=2):
                ws.cell(row=i, column=column, value=name)
            ws.column_dimensions[get_column_letter(column)].width = 28
            column += 1
    return ranges


def _validation(field: F.Field, formula: str) -> DataValidation:
    """A dropdown. Choice and 是/否 columns refuse other values; region, industry and guarantor
    only warn, because codes and short names are accepted too (bank-workbooks.md §1)."""
    strict = field.type in (F.CHOICE, F.BOOL)
    dv = DataValidation(type="list", formula1=formula, allow_blank=True, showDropDown=False)
    dv.showErrorMessage = field.lookup != "industry"
    dv.errorStyle = "stop" if strict else "warning"
    dv.errorTitle = field.header
    dv.error = f"请从下拉列表中选择{field.header}" if strict else f"{field.help}（确认后仍可保留所填内容）"
    dv.showInputMessage = True
    dv.promptTitle = field.header[:32]
    dv.prompt = field.help[:250]
    return dv


def _write_data_sheet(ws, kind: str, ranges: Mapping[str, str]) -> None:
    ws.title = F.SHEET_NAMES[kind]
    for column, field in enumerate(F.fields_for(kind), start=1):
        cell = ws.cell(row=1, column=column, value=field.header)
        cell.font = WHITE_BOLD
        cell.fill = HEADER_FILL if field.required else OPTIONAL_HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = GRID
        note = "（必填）" if field.required else "（选填）"
        cell.comment = Comment(f"{field.header}{note}\n{field.help}\n示例：{field.example}", APP_NAME)
        letter = get_column_letter(column)
        dim = ws.column_dimensions[letter]
        dim.width = _column_width(field)
        dim.number_format = _number_format(field)
        key = _list_key(field)
        if key in ranges:
            dv = _validation(field, ranges[key])
            ws.add_data_validation(dv)
            dv.add(f"{letter}2:{letter}{DATA_ROWS + 1}")
    ws.row_dimensions[1].height = 32
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(F.fields_for(kind)))}1"


GENERAL_NOTES = {
    F.REGISTRATION: (
        "每笔贷款填写一行；同一银行的借款合同编号唯一，重复报送同一合同不会重复计入（R16）。",
        "放款后 30 天内备案（R15）；政银担模式须填写担保机构、担保合同编号和担保费率（R21）。",
    ),
    F.STATUS: (
        "每月报送所有未结清的已备案贷款，即使当月没有变化；同一贷款同一月份只报一行（R43）。",
        "对已报送月份的修改须勾选“更正上传”后重新上传。",
    ),
}
COMMON_NOTES = (
    "请勿修改表头文字和工作表名称；表头以外的列不要合并单元格，不要使用无缓存结果的公式。",
    "日期可填 2021-06-30、2021/6/30、2021年6月30日、20210630 或 Excel 日期；金额可带千分位；"
    "利率填百分数，如 4.35 或 4.35%（不要填 0.0435）。",
    "上传后系统一次列出全部问题；有任何错误的文件整体不导入。可下载带“处理结果/问题说明”列的标注文件，"
    "修改后直接重新上传。",
)
DICTIONARY_COLUMNS = (
    ("列名", "header", 20), ("含义与填写要求", "help", 60), ("类型", "type", 10), ("是否必填", "required", 10),
    ("可选值", "choices", 26), ("规则", "rule", 8), ("示例", "example", 24),
)


def _write_notes_sheet(wb: Workbook, kind: str, lists: Mapping[str, LookupList]) -> None:
    ws = wb.create_sheet(F.NOTES_SHEET)
    ws.cell(row=1, column=1, value=f"{KIND_TITLES[kind]}模板 填写说明（模板版本 {F.TEMPLATE_VERSION}）").font = Font(
        bold=True, size=14
    )
    row = 2
    for text in (*GENERAL_NOTES[kind], *COMMON_NOTES):
        ws.cell(row=row, column=1, value=f"· {text}")
        row += 1
    row += 1
    for column, (title, _key, width) in enumerate(DICTIONARY_COLUMNS, start=1):
        cell = ws.cell(row=row, column=column, value=title)
        cell.font, cell.fill, cell.border = BOLD, NOTE_HEADER_FILL, GRID
        ws.column_dimensions[get_column_letter(column)].width = width
    for entry in F.data_dictionary(kind):
        row += 1
        for column, (_title, key, _width) in enumerate(DICTIONARY_COLUMNS, start=1):
            cell = ws.cell(row=row, column=column, value=entry[key])
            if key == "help":
                cell.alignment = WRAP
    if kind == F.REGISTRATION:
        industry = lists["industry"]
        row += 2
        ws.cell(row=row, column=1, value="可选的行业大类（R8：服务业，不含本项目排除的行业；也可填写到中类或小类，如 F5123）").font = BOLD
        for code, name in zip(industry.values, industry.names, strict=True):
            row += 1
            ws.cell(row=row, column=1, value=code)
            ws.cell(row=row, column=2, value=name)
    ws.freeze_panes = None


def _set_properties(wb: Workbook, kind: str) -> None:
    props = wb.properties
    props.title = f"{KIND_TITLES[kind]}模板"
    props.subject = KIND_TITLES[kind]
    props.keywords = template_keywords(kind)
    props.version = F.TEMPLATE_VERSION
    props.category = "fundpool-template"
    props.creator = APP_NAME
    props.description = f"{APP_NAME} {KIND_TITLES[kind]}模板，版本 {F.TEMPLATE_VERSION}；表头与系统校验规则同源生成。"


def _template(kind: str, *, bank=None, lists: Mapping[str, LookupList] | None = None) -> Workbook:
    F.fields_for(kind)  # unknown kind → ValueError
    lists = lists if lists is not None else lookup_lists(bank=bank)
    wb = Workbook()
    data = wb.active
    ranges = _write_lookup_sheet(wb, lists)
    _write_data_sheet(data, kind, ranges)
    _write_notes_sheet(wb, kind, lists)
    wb.move_sheet(F.NOTES_SHEET, offset=-1)
    wb.active = 0
    _set_properties(wb, kind)
    return wb


def _to_bytes(wb: Workbook, *, timestamp: datetime | None = None) -> bytes:
    """The workbook as bytes; with ``timestamp`` the bytes depend only on the content (document
    dates and zip entry times fixed), so the same rows always give the same SHA-256."""
    if timestamp is not None:
        naive = timestamp.astimezone(UTC).replace(tzinfo=None) if timestamp.tzinfo else timestamp
        wb.properties.created = wb.properties.modified = naive
    buffer = io.BytesIO()
    wb.save(buffer)
    content = buffer.getvalue()
    return _fixed_zip_times(content, timestamp) if timestamp is not None else content


_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def _fixed_zip_times(content: bytes, timestamp: datetime) -> bytes:
    """Rewrite the zip with fixed entry times and the core properties' ``modified`` (which
    openpyxl sets to "now" on every save) set to ``timestamp``."""
    stamp = (max(timestamp.year, 1980), timestamp.month, timestamp.day, 0, 0, 0)
    iso = timestamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ").encode() if timestamp.tzinfo else (
        timestamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode())
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "docProps/core.xml":
                data = _MODIFIED.sub(lambda m: m.group(1) + iso + m.group(2), data)
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            dst.writestr(entry, data)
    return out.getvalue()


def template_workbook(*, kind: str, bank=None) -> bytes:
    """The downloadable template of ``kind`` ("registration" or "status") as .xlsx bytes."""
    return _to_bytes(_template(kind, bank=bank))


def rows_workbook(
    *, kind: str, rows: Iterable[Mapping[str, object]], bank=None, lists: Mapping[str, LookupList] | None = None,
    timestamp: datetime | None = None,
) -> bytes:
    """The template with ``rows`` (dicts keyed by the Chinese headers) written into the data sheet.

    ``lists`` reuses dropdown lists already read (:func:`lookup_lists`); ``timestamp`` makes the
    output reproducible byte for byte (the demo loader relies on it to recognise files it sent)."""
    wb = _template(kind, bank=bank, lists=lists)
    ws = wb[F.SHEET_NAMES[kind]]
    fields = F.fields_for(kind)
    for r, row in enumerate(rows, start=2):
        for c, field in enumerate(fields, start=1):
            value = row.get(field.header)
            if value is not None and value != "":
                ws.cell(row=r, column=c, value=value)  # a date gets openpyxl's yyyy-mm-dd format by itself
    return _to_bytes(wb, timestamp=timestamp)


# --------------------------------------------------------------------------- annotated workbook


LEVEL_ORDER = {"error": 0, "warning": 1, "info": 2}
RESULT_LABELS = {"error": "错误", "warning": "提示", "info": "通过", None: "通过"}


def _read_source(path: Path, file_format: str, kind: str) -> tuple[str, list[list[object]]]:
    """(sheet name, rows) of the uploaded file's data sheet, row 1 first (absolute row numbers)."""
    if file_format == "csv":
        return "", _read_csv(path.read_bytes())
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    try:
        name = _data_sheet_name(book.sheet_names, kind)
        sheet = book.get_sheet_by_name(name)
        return name, [list(r) for r in sheet.to_python(skip_empty_area=False)]
    finally:
        book.close()


def _data_sheet_name(names: Sequence[str], kind: str) -> str:
    kinds = [kind] if kind in F.KINDS else list(F.KINDS)
    wanted = {F.normalize_header(a) for k in kinds for a in F.SHEET_ALIASES[k]}
    for name in names:
        if F.normalize_header(name) in wanted:
            return name
    return names[0]


def _read_csv(raw: bytes) -> list[list[object]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        text = raw.decode("utf-8", errors="replace")
    return [list(r) for r in csv.reader(io.StringIO(text))]


def _header_row(rows: Sequence[Sequence[object]], kind: str) -> int:
    """0-based index of the header row, found as the reader finds it (the first of the first rows
    with at least two of the kind's headers); 0 when there is none."""
    lookup = F.header_lookup(kind) if kind in F.KINDS else {}
    for i, row in enumerate(rows[: F.HEADER_SEARCH_ROWS]):
        if sum(1 for v in row if isinstance(v, str) and F.normalize_header(v) in lookup) >= 2:
            return i
    return 0


def _issues_by_row(issues: Iterable[Mapping]) -> tuple[dict[int, list[Mapping]], list[Mapping]]:
    by_row: dict[int, list[Mapping]] = defaultdict(list)
    whole: list[Mapping] = []
    for issue in issues:
        row = issue.get("row")
        if isinstance(row, int):
            by_row[row].append(issue)
        else:
            whole.append(issue)
    return by_row, whole


def issue_text(issue: Mapping) -> str:
    rule = f"[{issue['rule']}] " if issue.get("rule") else ""
    column = f"{issue['column']}：" if issue.get("column") and not str(issue.get("message", "")).startswith(
        str(issue["column"])) else ""
    return f"{rule}{column}{issue.get('message', '')}"


def _worst(issues: Sequence[Mapping]) -> str | None:
    levels = [i.get("level", "error") for i in issues]
    return min(levels, key=lambda lv: LEVEL_ORDER.get(lv, 0)) if levels else None


def _source_path(batch) -> Path | None:
    if not batch.stored_path:
        return None
    path = Path(settings.MEDIA_ROOT) / batch.stored_path
    return path if path.is_file() else None


def _readable_rows(batch) -> tuple[str, list[list[object]]]:
    """The stored file's rows, after the same safety checks an upload passes; none if it fails them."""
    from banks.intake.issues import IntakeRefused
    from banks.intake.safety import preflight

    path = _source_path(batch)
    if path is None:
        return "", []
    try:
        fmt = preflight(path, filename=batch.filename or path.name)
        return _read_source(path, fmt, batch.kind)
    except IntakeRefused:
        return "", []
    except Exception:  # a file the reader refused as unreadable: return the findings only
        logger.warning("annotated workbook: stored file of batch %s is unreadable", batch.pk, exc_info=True)
        return "", []


def _plain(value: object) -> object:
    if isinstance(value, (str, int, float, bool, date, datetime, time)) or value is None:
        return value
    return str(value)


def annotated_workbook(*, batch) -> bytes:
    """The batch's uploaded data with a result and an issue column on every row (.xlsx bytes).

    The header row is found as the reader finds it; rows above it are copied unchanged. Annotation
    columns of an earlier annotated file are dropped and written afresh.  Rows carrying an error are
    red, rows with only warnings amber, clean data rows green; the offending cells are darker.
    Findings about the whole file go to a second sheet (问题汇总) with every finding."""
    sheet_name, rows = _readable_rows(batch)
    header_index = _header_row(rows, batch.kind) if rows else 0
    header = rows[header_index] if rows else []
    annotation_keys = F.annotation_headers()
    keep = [i for i, h in enumerate(header) if h is None or F.normalize_header(h) not in annotation_keys]
    keep = _trim_trailing_empty(keep, rows)
    column_of = {F.normalize_header(header[i]): pos for pos, i in enumerate(keep) if header[i] not in (None, "")}
    by_row, whole = _issues_by_row(batch.issues or [])

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet_name or F.SHEET_NAMES.get(batch.kind, "数据"))
    widths = [14] * len(keep) + [10, 60]
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = f"A{header_index + 2}"
    for index, row in enumerate(rows):
        excel_row = index + 1
        values = [_plain(row[i]) if i < len(row) else None for i in keep]
        if index < header_index:
            ws.append(values)
        elif index == header_index:
            ws.append(_header_cells(ws, values))
        elif not any(v not in (None, "") for v in values) and excel_row not in by_row:
            ws.append([])
        else:
            ws.append(_data_cells(ws, values, by_row.get(excel_row, []), column_of))
    if not rows:
        ws.append(["（原文件无法读取）", *[issue_text(i) for i in whole]])
    _summary_sheet(wb, batch, whole)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _trim_trailing_empty(keep: list[int], rows: Sequence[Sequence[object]]) -> list[int]:
    """Drop trailing columns that are empty in every row (calamine's padding)."""
    used = set()
    for row in rows:
        used.update(i for i, v in enumerate(row) if v not in (None, ""))
    while keep and keep[-1] not in used:
        keep.pop()
    return keep


def _header_cells(ws, values: list[object]) -> list[WriteOnlyCell]:
    cells = []
    for value in [*values, *F.ANNOTATION_HEADERS]:
        cell = WriteOnlyCell(ws, value=value)
        cell.font, cell.fill = WHITE_BOLD, HEADER_FILL
        cells.append(cell)
    return cells


def _data_cells(ws, values: list[object], issues: list[Mapping], column_of: Mapping[str, int]) -> list:
    level = _worst(issues)
    row_fill = {"error": ERROR_FILL, "warning": WARNING_FILL}.get(level, OK_FILL)
    cell_fill = {"error": ERROR_CELL_FILL, "warning": WARNING_CELL_FILL}
    marked: dict[int, str] = {}
    for issue in sorted(issues, key=lambda i: LEVEL_ORDER.get(i.get("level"), 0), reverse=True):
        pos = column_of.get(F.normalize_header(issue.get("column") or ""))
        if pos is not None:
            marked[pos] = issue.get("level", "error")
    cells: list[object] = []
    for pos, value in enumerate(values):
        if pos in marked:
            cell = WriteOnlyCell(ws, value=value)
            cell.fill = cell_fill.get(marked[pos], WARNING_CELL_FILL)
            cells.append(cell)
        else:
            cells.append(value)
    shown = sorted(issues, key=lambda i: LEVEL_ORDER.get(i.get("level"), 0))
    result = WriteOnlyCell(ws, value=RESULT_LABELS.get(level, "通过"))
    message = WriteOnlyCell(ws, value="\n".join(issue_text(i) for i in shown) or None)
    for cell in (result, message):
        cell.fill = row_fill
        cell.alignment = WRAP
    result.font = BOLD
    return [*cells, result, message]


def _summary_sheet(wb: Workbook, batch, whole: list[Mapping]) -> None:
    ws = wb.create_sheet("问题汇总")
    for i, width in enumerate((8, 10, 18, 18, 8, 70), start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.append([f"批次 {batch.pk}：{batch.get_kind_display()} {batch.filename}（{batch.get_status_display()}）"])
    ws.append([f"错误 {batch.error_count} 条，提示 {batch.warning_count} 条"])
    header = []
    for title in ("级别", "行号", "列", "所填内容", "规则", "说明"):
        cell = WriteOnlyCell(ws, value=title)
        cell.font, cell.fill = WHITE_BOLD, HEADER_FILL
        header.append(cell)
    ws.append(header)
    ordered = [*whole, *sorted((i for i in (batch.issues or []) if i not in whole),
                               key=lambda i: (i.get("row") or 0, LEVEL_ORDER.get(i.get("level"), 0)))]
    labels = {"error": "错误", "warning": "提示", "info": "说明"}
    for issue in ordered:
        level = issue.get("level", "error")
        cell = WriteOnlyCell(ws, value=labels.get(level, level))
        cell.fill = {"error": ERROR_FILL, "warning": WARNING_FILL}.get(level, OK_FILL)
        ws.append([cell, issue.get("row") or "整个文件", issue.get("column") or "",
                   _plain(issue.get("value")), issue.get("rule") or "", issue.get("message") or ""])
