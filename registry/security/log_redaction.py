"""Keep ID numbers and mobile numbers out of every log line.

- ``redact(text)``: 18-character resident ID numbers (17 digits + digit/X) and 11-digit
  mainland mobile numbers become ``[身份证号已脱敏]`` / ``[手机号已脱敏]``.
- ``RedactPIIFilter``: a logging filter (settings.LOGGING installs it on every handler).
- ``configure_logging``: settings.LOGGING_CONFIG; besides dictConfig it installs a log-record
  factory that redacts each record when it is created, so handlers not configured here
  (gunicorn's, pytest's caplog, an error tracker) never see the numbers either.

Imported while settings are configured: no model, no app registry.
"""

from __future__ import annotations

import logging
import logging.config
import re
from typing import Any

ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])")
ANY_18 = re.compile(r"(?<!\d)\d{17}[\dXx](?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d{9}(?!\d)")
ID_MASK = "[身份证号已脱敏]"
PHONE_MASK = "[手机号已脱敏]"
_FLAG = "_pii_redacted"


def redact(text: str) -> str:
    if not text:
        return text
    text = ID_NUMBER.sub(ID_MASK, text)
    text = ANY_18.sub(ID_MASK, text)
    return MOBILE.sub(PHONE_MASK, text)


_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Replace the record's message and exception text by their redacted form (once).

    The traceback is rendered to ``exc_text`` now and ``exc_info`` dropped, so no formatter
    can render the unredacted original again.
    """
    if getattr(record, _FLAG, False):
        return record
    try:
        message = record.getMessage()
    except Exception:  # a broken format: leave it to the handler's error path
        return record
    record.msg = redact(message)
    record.args = ()
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
        record.exc_info = None
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    setattr(record, _FLAG, True)
    return record


def redact_extra(record: logging.LogRecord) -> None:
    """Text attributes passed with ``extra=`` (a request path, a file name…)."""
    for key, value in list(record.__dict__.items()):
        if key not in _STANDARD and isinstance(value, str):
            record.__dict__[key] = redact(value)


class RedactPIIFilter(logging.Filter):
    """Handler filter: the message (unless the record factory did it) and the extra fields."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        redact_extra(record)
        return True


def install_record_factory() -> None:
    current = logging.getLogRecordFactory()
    if getattr(current, _FLAG, False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact_record(current(*args, **kwargs))

    setattr(factory, _FLAG, True)
    logging.setLogRecordFactory(factory)


def configure_logging(config: dict[str, Any]) -> None:
    install_record_factory()
    if config:
        logging.config.dictConfig(config)
