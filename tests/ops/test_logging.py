"""Structured logs and request ids (issue 8, part 7): config.logging and config.middleware."""

import json
import logging

import pytest

from config.logging import JsonFormatter, RequestContextFilter, build_logging, request_id_var
from config.middleware import VALID_REQUEST_ID


def _json_line(record: logging.LogRecord) -> dict:
    RequestContextFilter().filter(record)
    return json.loads(JsonFormatter().format(record))


def test_json_line_carries_the_fields_operators_search_by():
    record = logging.LogRecord("fundpool.access", logging.INFO, __file__, 1, "GET %s", ("/healthz",), None)
    record.path, record.status, record.duration_ms = "/healthz", 200, 1.5
    token = request_id_var.set("abc123")
    try:
        line = _json_line(record)
    finally:
        request_id_var.reset(token)
    assert line["message"] == "GET /healthz"
    assert line["level"] == "INFO"
    assert line["logger"] == "fundpool.access"
    assert line["request_id"] == "abc123"
    assert line["user_id"] is None
    assert (line["path"], line["status"], line["duration_ms"]) == ("/healthz", 200, 1.5)
    assert line["time"].endswith("+00:00")


def test_json_line_keeps_chinese_text_and_the_exception():
    try:
        raise ValueError("坏数据")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "导入失败", (), sys.exc_info())
    text = JsonFormatter().format(record)
    assert "导入失败" in text
    assert "ValueError: 坏数据" in json.loads(text)["exc"]


def test_build_logging_refuses_an_unknown_format():
    with pytest.raises(ValueError, match="json or plain"):
        build_logging(fmt="xml")


@pytest.mark.django_db
def test_response_returns_the_clients_request_id(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="edge-42.a_b")
    assert response["X-Request-ID"] == "edge-42.a_b"


@pytest.mark.django_db
def test_a_malformed_request_id_is_replaced_by_a_new_one(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")
    rid = response["X-Request-ID"]
    assert rid != "bad id\nwith newline"
    assert VALID_REQUEST_ID.fullmatch(rid)


@pytest.mark.django_db
def test_every_request_writes_one_access_line_with_status_and_duration(client, caplog):
    caplog.set_level(logging.INFO, logger="fundpool.access")
    response = client.get("/healthz", HTTP_X_REQUEST_ID="rid-1")
    lines = [r for r in caplog.records if r.name == "fundpool.access"]
    assert len(lines) == 1
    assert lines[0].status == response.status_code
    assert lines[0].path == "/healthz"
    assert lines[0].duration_ms >= 0
    assert lines[0].request_id == "rid-1"


@pytest.mark.django_db
def test_access_line_names_the_logged_in_user(client, caplog, django_user_model):
    user = django_user_model.objects.create_user(username="ops_user", password="x-Pass-123456")
    client.force_login(user)
    caplog.set_level(logging.INFO, logger="fundpool.access")
    client.get("/admin/")
    line = next(r for r in caplog.records if r.name == "fundpool.access")
    assert line.user_id == user.pk


@pytest.mark.django_db
def test_request_id_context_is_cleared_after_the_request(client):
    client.get("/healthz", HTTP_X_REQUEST_ID="rid-2")
    assert request_id_var.get() is None
