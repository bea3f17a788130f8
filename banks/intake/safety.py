"""Checks made on an uploaded file before any parser sees it (bank-workbooks.md §3).

Nothing here decompresses more than a few kilobytes per part: a zip bomb, an XML entity
bomb, a renamed PDF or a macro workbook is refused in milliseconds, with a Chinese message.

- size cap: ``settings.INTAKE_MAX_UPLOAD_BYTES`` (default 20 MB);
- magic bytes: xlsx = zip ``PK\\x03\\x04``, xls = OLE ``D0CF11E0A1B11AE1``, csv = text without NUL;
- zip pre-flight with :mod:`zipfile` (no extraction): ≤ 1000 entries, ≤ 200 MB uncompressed in
  total, compression ratio ≤ 100 per entry, no VBA project or macro-enabled content type, the
  parts ``[Content_Types].xml`` and ``xl/workbook.xml`` present;
- every XML part: no ``<!DOCTYPE`` / ``<!ENTITY`` before its root element.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from django.conf import settings

from .issues import IntakeRefused

DEFAULT_MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_ZIP_ENTRIES = 1000
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
RATIO_CHECK_MIN_BYTES = 64 * 1024  # tiny parts compress well and harm nobody
XML_PROLOG_SCAN_BYTES = 64 * 1024

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
REQUIRED_PARTS = ("[Content_Types].xml", "xl/workbook.xml")
_FOREIGN_MAGIC = (
    (b"%PDF", "PDF 文档"),
    (b"\x89PNG", "PNG 图片"),
    (b"\xff\xd8\xff", "JPEG 图片"),
    (b"GIF8", "GIF 图片"),
    (b"Rar!", "RAR 压缩包"),
    (b"7z\xbc\xaf", "7z 压缩包"),
    (b"\x1f\x8b", "gzip 压缩包"),
    (b"MZ", "可执行程序"),
    (b"{\\rtf", "RTF 文档"),
    (b"<html", "网页文件"),
    (b"<!DOCTYPE", "网页或 XML 文件"),
)
_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_ROOT_START = re.compile(rb"<[A-Za-z_]")
SPREADSHEET_HINT = "请上传 Excel 工作簿（.xlsx 或 .xls）或 CSV 文件"


def max_upload_bytes() -> int:
    return int(getattr(settings, "INTAKE_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MB"


def _extension(filename: str) -> str:
    return Path(filename or "").suffix.lower().lstrip(".")


def check_size(size: int) -> None:
    limit = max_upload_bytes()
    if size > limit:
        raise IntakeRefused(f"文件大小 {_mb(size)} 超过上限 {_mb(limit)}，请拆分后分批上传", code="too_large")
    if size == 0:
        raise IntakeRefused("文件是空的", code="empty")


def detect_format(head: bytes, filename: str) -> str:
    """``xlsx`` / ``xls`` / ``csv`` from the first bytes (the extension only decides csv vs. refusal)."""
    ext = _extension(filename)
    if ext in ("xlsm", "xltm", "xlam", "xlsb"):
        raise IntakeRefused(
            f"不接受 .{ext} 文件（含宏或二进制格式），请另存为 .xlsx 后上传", code="macro_workbook"
        )
    if head.startswith(ZIP_MAGIC):
        return "xlsx"
    if head.startswith(OLE_MAGIC):
        return "xls"
    for magic, label in _FOREIGN_MAGIC:
        if head[: len(magic)].lower() == magic.lower():
            raise IntakeRefused(f"文件内容是{label}，不是电子表格。{SPREADSHEET_HINT}", code="not_spreadsheet")
    if ext in ("csv", "txt"):
        if b"\x00" in head:
            raise IntakeRefused(f"CSV 文件中含有二进制内容，不是文本表格。{SPREADSHEET_HINT}", code="not_text")
        return "csv"
    if ext in ("xlsx", "xls"):
        raise IntakeRefused(
            f"文件扩展名是 .{ext}，但内容不是 Excel 工作簿（可能是改了扩展名的其他文件）。{SPREADSHEET_HINT}",
            code="not_spreadsheet",
        )
    raise IntakeRefused(f"无法识别的文件类型。{SPREADSHEET_HINT}", code="not_spreadsheet")


def _check_entries(zf: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    entries = zf.infolist()
    if len(entries) > MAX_ZIP_ENTRIES:
        raise IntakeRefused(f"工作簿包含 {len(entries)} 个部件，超过上限 {MAX_ZIP_ENTRIES}", code="zip_entries")
    total = 0
    for info in entries:
        total += info.file_size
        if info.flag_bits & 0x1:
            raise IntakeRefused("工作簿已加密或设置了打开密码，请取消密码后上传", code="encrypted")
        if info.file_size > RATIO_CHECK_MIN_BYTES and info.file_size > MAX_COMPRESSION_RATIO * max(
            info.compress_size, 1
        ):
            raise IntakeRefused(
                f"工作簿部件 {info.filename} 的压缩比异常（疑似压缩炸弹），已拒绝", code="zip_bomb"
            )
    if total > MAX_UNCOMPRESSED_BYTES:
        raise IntakeRefused(
            f"工作簿解压后 {_mb(total)} 超过上限 {_mb(MAX_UNCOMPRESSED_BYTES)}（疑似压缩炸弹），已拒绝",
            code="zip_bomb",
        )
    return entries


def _check_macros(zf: zipfile.ZipFile, names: set[str]) -> None:
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise IntakeRefused("工作簿包含宏（VBA），不予接收，请另存为不含宏的 .xlsx 后上传", code="macro_workbook")
    with zf.open("[Content_Types].xml") as fh:
        types = fh.read(1024 * 1024).lower()
    if b"macroenabled" in types or b"vbaproject" in types:
        raise IntakeRefused("工作簿是启用宏的格式（.xlsm），不予接收，请另存为 .xlsx 后上传", code="macro_workbook")


def xml_prolog_problem(head: bytes) -> str:
    """"" if the XML's prolog is harmless, else the reason (DOCTYPE/ENTITY, or no root in sight)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", errors="ignore").encode("utf-8")
    root = _ROOT_START.search(head)
    prolog = head if root is None else head[: root.start()]
    match = _DECLARATION.search(prolog)
    if match:
        return f"含有 <!{match.group(1).decode().upper()} 声明"
    if root is None and len(head) >= XML_PROLOG_SCAN_BYTES:
        return "开头过长，找不到根元素"
    return ""


def _check_xml_parts(zf: zipfile.ZipFile, entries: list[zipfile.ZipInfo]) -> None:
    for info in entries:
        if not info.filename.lower().endswith((".xml", ".rels", ".vml")):
            continue
        with zf.open(info) as fh:
            head = fh.read(XML_PROLOG_SCAN_BYTES)
        problem = xml_prolog_problem(head)
        if problem:
            raise IntakeRefused(
                f"工作簿部件 {info.filename} {problem}（可能是 XML 实体攻击），已拒绝", code="xml_entities"
            )


def check_xlsx(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            entries = _check_entries(zf)
            names = {i.filename for i in entries}
            missing = [p for p in REQUIRED_PARTS if p not in names]
            if missing:
                raise IntakeRefused(
                    f"文件不是有效的 Excel 工作簿：缺少 {'、'.join(missing)}。{SPREADSHEET_HINT}", code="not_xlsx"
                )
            _check_macros(zf, names)
            _check_xml_parts(zf, entries)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError, OSError) as exc:
        raise IntakeRefused(f"工作簿已损坏，无法读取（{type(exc).__name__}）。{SPREADSHEET_HINT}",
                            code="bad_zip") from None


def check_csv(path: Path) -> None:
    data = path.read_bytes()
    if b"\x00" in data:
        raise IntakeRefused(f"CSV 文件中含有二进制内容，不是文本表格。{SPREADSHEET_HINT}", code="not_text")


def preflight(path: Path, *, filename: str) -> str:
    """Every check above on a stored upload; returns ``xlsx`` / ``xls`` / ``csv`` or raises IntakeRefused."""
    size = path.stat().st_size
    check_size(size)
    with path.open("rb") as fh:
        head = fh.read(512)
    fmt = detect_format(head, filename)
    if fmt == "xlsx":
        check_xlsx(path)
    elif fmt == "csv":
        check_csv(path)
    return fmt


def assert_defusedxml() -> None:
    """Start-up check (``BanksConfig.ready``): defusedxml is importable and openpyxl parses
    through it.  The standard library is not monkey-patched (``defuse_stdlib``) because that
    would change every other library's XML parsing in the process; our own XML reads use
    ``defusedxml.ElementTree`` explicitly."""
    import defusedxml.ElementTree  # noqa: F401
    from openpyxl.xml import DEFUSEDXML

    if not DEFUSEDXML:  # pragma: no cover
        raise RuntimeError("openpyxl 未使用 defusedxml：请安装 requirements.txt 中的 defusedxml")
