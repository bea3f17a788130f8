"""Logs never carry ID numbers or mobile numbers: the redaction itself, its installation on every
handler and at record creation, and a canary ID number run through the main flows (admin
enterprise add/edit, a workbook upload for that enterprise, exports) that must appear in no log,
no file written under var/ or MEDIA_ROOT, and nowhere in the database but its encrypted column."""

import io
import logging
import time
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from registry import roles
from registry.models import Enterprise
from registry.security import log_redaction
from registry.security.log_redaction import RedactPIIFilter, redact
from tests.factories import EnterpriseFactory, UserFactory

CANARY_ID = "11010519491231002X"
CANARY_PHONE = "13912345678"


# --- the redaction ----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("id 11010519491231002X ok", "id [身份证号已脱敏] ok"),
    ("id 11010519491231002x.", "id [身份证号已脱敏]."),
    ("id=510105199001011234&x", "id=[身份证号已脱敏]&x"),
    ("phone 13912345678", "phone [手机号已脱敏]"),
    ("tel:+86 13912345678", "tel:[手机号已脱敏]"),
    ("手机13912345678，", "手机[手机号已脱敏]，"),
])
def test_id_and_mobile_numbers_are_redacted(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize("text", [
    "credit code 91510100MA0000001X", "amount 1000000.00", "contract HT00000001", "request 8f3a0c1e9b",
    "1732800000000 ms", "2024-01-01 12:00:00",
])
def test_other_numbers_are_left_alone(text):
    assert redact(text) == text


def test_every_configured_handler_has_the_filter():
    assert settings.LOGGING_CONFIG == "registry.security.log_redaction.configure_logging"
    for name, handler in settings.LOGGING["handlers"].items():
        assert "redact_pii" in handler.get("filters", []), name
    handlers = logging.getLogger().handlers
    configured = [h for h in handlers if any(isinstance(f, RedactPIIFilter) for f in h.filters)]
    assert configured


def test_records_are_redacted_when_created_so_every_handler_sees_it(caplog):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("anything.at.all").warning("user %s phone %s", CANARY_ID, CANARY_PHONE)
    assert CANARY_ID not in caplog.text
    assert CANARY_PHONE not in caplog.text
    assert "[身份证号已脱敏]" in caplog.text


def test_exception_text_and_extra_fields_are_redacted():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactPIIFilter())
    from config.logging import JsonFormatter

    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("redaction.test")
    logger.addHandler(handler)
    try:
        try:
            raise ValueError(f"bad id {CANARY_ID}")
        except ValueError:
            logger.exception("failed for %s", CANARY_PHONE, extra={"path": f"/lookup/{CANARY_ID}/"})
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert CANARY_ID not in output
    assert CANARY_PHONE not in output
    assert "ValueError" in output


def test_a_record_factory_is_installed_once():
    factory = logging.getLogRecordFactory()
    log_redaction.install_record_factory()
    assert logging.getLogRecordFactory() is factory


# --- the canary -------------------------------------------------------------------------------


def _files_written_since(roots, started):
    for root in roots:
        if not root.exists():
            continue
        for path in root.rglob("*"):
            if path.is_file() and path.stat().st_mtime >= started:
                yield path


def _contents(path: Path) -> bytes:
    data = path.read_bytes()
    if zipfile.is_zipfile(io.BytesIO(data)):  # .xlsx / .docx: the text is compressed inside
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return b"".join(archive.read(name) for name in archive.namelist())
    return data


def _database_text():
    """Every text value of every table except the two encrypted columns."""
    skip = {"legal_rep_id_encrypted", "legal_rep_phone_encrypted"}
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            names = [c[0] for c in cursor.description]
            for row in cursor.fetchall():
                found += [str(v) for n, v in zip(names, row, strict=True) if n not in skip and v is not None]
    return "\n".join(found)


def _upload_workbook_for(enterprise):
    """A registration workbook naming the enterprise, through the intake pipeline (if present)."""
    try:
        from banks import services as bank_services
        from tests.banks.factories import make_world, registration_row
        from tests.banks.workbooks import registration_workbook
    except ImportError:
        return None
    world = make_world(code="CN")
    row = registration_row(credit_code=enterprise.credit_code, enterprise_name=enterprise.name)
    batch = bank_services.intake_upload(
        bank=world.bank, kind="registration", fileobj=io.BytesIO(registration_workbook([row])),
        filename="报送.xlsx", uploaded_by=world.user,
    )
    return batch


@pytest.mark.django_db
def test_the_canary_id_number_appears_in_no_log_no_file_and_only_encrypted_in_the_database(
    client, caplog, settings, tmp_path, django_capture_on_commit_callbacks, pii_keys
):
    # given: everything at DEBUG, SQL included
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django")
    connection.force_debug_cursor = True
    started = time.time() - 1
    boss = UserFactory(username="boss", role=roles.ADMINISTRATOR)
    client.force_login(boss)
    template = EnterpriseFactory.build()
    form = {
        "credit_code": template.credit_code, "name": "金丝雀商贸有限公司", "region": "510100",
        "industry_code": "F5123", "employees": 12, "revenue_10k": "1200", "assets_10k": "500",
        "is_private": "on", "legal_rep_name": "王五", "legal_rep_id": CANARY_ID, "legal_rep_phone": CANARY_PHONE,
    }
    try:
        # when: added and edited in the admin, its pages viewed, a workbook names it
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post("/admin/registry/enterprise/add/", form).status_code == 302
            enterprise = Enterprise.objects.get(credit_code=template.credit_code)
            change = f"/admin/registry/enterprise/{enterprise.pk}/change/"
            assert client.post(change, {**form, "name": "金丝雀商贸有限公司（更名）", "legal_rep_id": "",
                                        "legal_rep_phone": ""}).status_code == 302
            pages = [client.get(url).content for url in (
                change, "/admin/registry/enterprise/", f"/admin/registry/enterprise/{enterprise.pk}/history/",
                "/admin/registry/domainevent/",
            )]
            batch = _upload_workbook_for(enterprise)
    finally:
        connection.force_debug_cursor = False

    # then
    assert any(r.name == "django.db.backends" for r in caplog.records)  # SQL was logged too
    if batch is not None:
        batch.refresh_from_db()
        assert batch.status == "applied"
    enterprise.refresh_from_db()
    assert enterprise.legal_rep_id_masked == "110***********002X"
    for secret in (CANARY_ID, CANARY_PHONE):
        assert secret not in caplog.text
        assert all(secret not in record.getMessage() for record in caplog.records)
        assert all(secret.encode() not in page for page in pages)
        roots = [Path(settings.MEDIA_ROOT), Path(settings.BASE_DIR) / "var", tmp_path]
        leaked = [str(p) for p in _files_written_since(roots, started) if secret.encode() in _contents(p)]
        assert leaked == []
        assert secret not in _database_text()
