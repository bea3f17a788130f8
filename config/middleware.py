"""Request ids and the access log line.

``RequestIdMiddleware`` (first in ``MIDDLEWARE``) takes the request id from the
``X-Request-ID`` header (set by nginx or a client; accepted when it is 1–128 characters of
letters, digits, ``.``, ``_``, ``-``) or makes one, exposes it as ``request.request_id``, puts
it in the logging context (``config.logging``) for every log line written while the request is
served, returns it in the ``X-Request-ID`` response header, and writes one access line to the
``fundpool.access`` logger: method, path, status, duration_ms, user_id.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from config.logging import REQUEST_ID_HEADER, current_user_id, new_request_id, request_id_var, request_var

access_log = logging.getLogger("fundpool.access")

VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
META_KEY = "HTTP_" + REQUEST_ID_HEADER.upper().replace("-", "_")


def request_id_from(request: HttpRequest) -> str:
    """The client's id when it is well formed, otherwise a new one."""
    given = request.META.get(META_KEY, "").strip()
    return given if VALID_REQUEST_ID.fullmatch(given) else new_request_id()


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request)
        request.request_id = request_id
        rid_token = request_id_var.set(request_id)
        req_token = request_var.set(request)
        started = time.perf_counter()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            response[REQUEST_ID_HEADER] = request_id
            return response
        finally:
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            level = logging.ERROR if status >= 500 else logging.INFO
            access_log.log(
                level,
                "%s %s %s %.1fms",
                request.method,
                request.path,
                status,
                duration_ms,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": status,
                    "duration_ms": duration_ms,
                    "user_id": current_user_id(request),
                },
            )
            request_var.reset(req_token)
            request_id_var.reset(rid_token)
