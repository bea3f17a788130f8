"""Structured logs: one JSON object per line, with the request id of the request being served.

- ``request_context`` (a ``ContextVar``) holds the current request id and request; the
  middleware in ``config.middleware`` sets it, Celery tasks inherit the id of the request that
  queued them (``connect_celery_signals``).
- ``RequestContextFilter`` puts ``request_id`` and ``user_id`` on every record.
- ``JsonFormatter`` writes ``time, level, logger, message, request_id, user_id`` and, where the
  record carries them (the access line of ``config.middleware``), ``method, path, status,
  duration_ms``; exceptions as ``exc``.
- ``build_logging(level=, fmt=)`` returns the ``LOGGING`` dict of the settings; ``fmt`` is
  ``json`` (default, what production ships to its log collector) or ``plain`` (for a terminal).
"""

from __future__ import annotations

import json
import logging
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from django.utils.functional import empty

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
request_var: ContextVar[Any] = ContextVar("request", default=None)

# attributes a caller may pass with ``extra=`` that the JSON line carries
EXTRA_FIELDS = ("method", "path", "status", "duration_ms", "task", "task_id", "batch_id")
# request-id header of HTTP requests and Celery task messages
REQUEST_ID_HEADER = "X-Request-ID"
TASK_HEADER = "request_id"


def new_request_id() -> str:
    return uuid.uuid4().hex


def current_user_id(request: Any) -> int | None:
    """The id of the request's user, only when authentication has already resolved it.

    ``request.user`` is lazy (``SimpleLazyObject``); evaluating it here would cost a session
    query inside a log call, so an unresolved user is reported as ``None``.
    """
    if request is None:
        return None
    user = request.__dict__.get("user")
    if user is None or getattr(user, "_wrapped", None) is empty:
        return None
    if not getattr(user, "is_authenticated", False):
        return None
    return user.pk


class RequestContextFilter(logging.Filter):
    """Adds ``request_id`` and ``user_id`` (from the context variables) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        if not hasattr(record, "user_id"):
            record.user_id = current_user_id(request_var.get())
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line (UTF-8 text as is, never ``\\u`` escapes)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "user_id": getattr(record, "user_id", None),
        }
        for field in EXTRA_FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                entry[field] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def build_logging(*, level: str = "INFO", fmt: str = "json") -> dict[str, Any]:
    """The ``LOGGING`` setting: everything to stderr through one handler, JSON or plain."""
    if fmt not in {"json", "plain"}:
        raise ValueError(f"DJANGO_LOG_FORMAT must be json or plain, not {fmt!r}")
    formatter = {"()": JsonFormatter} if fmt == "json" else {"format": PLAIN_FORMAT}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_context": {"()": RequestContextFilter}},
        "formatters": {"main": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "main",
                "filters": ["request_context"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # the request middleware writes the access line; Django's own would repeat it
            "django.server": {"level": "WARNING"},
            # Django logs every 4xx/5xx as a warning/error with the request: keep errors only
            "django.request": {"level": "ERROR"},
        },
    }


def connect_celery_signals() -> None:
    """Carry the request id from the web request into the Celery task it queues.

    Publish: the current id goes into the message headers. Run: the worker puts it back into
    the context variable, so the task's log lines show the request that caused them.
    """
    from celery import signals

    def on_publish(headers: dict | None = None, **_: Any) -> None:
        rid = request_id_var.get()
        if headers is not None and rid and TASK_HEADER not in headers:
            headers[TASK_HEADER] = rid

    def on_prerun(task: Any = None, **_: Any) -> None:
        request = getattr(task, "request", None)
        if getattr(request, "is_eager", False):
            return  # runs inside the web request: keep its id
        request_id_var.set(getattr(request, TASK_HEADER, None) or new_request_id())

    def on_postrun(task: Any = None, **_: Any) -> None:
        if not getattr(getattr(task, "request", None), "is_eager", False):
            request_id_var.set(None)

    signals.before_task_publish.connect(on_publish, weak=False, dispatch_uid="fundpool-rid-publish")
    signals.task_prerun.connect(on_prerun, weak=False, dispatch_uid="fundpool-rid-prerun")
    signals.task_postrun.connect(on_postrun, weak=False, dispatch_uid="fundpool-rid-postrun")
