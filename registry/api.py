"""DRF glue shared by every app's API: the exception handler."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import BusinessError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Business refusals and model validation errors become 400 with the Chinese message."""
    if isinstance(exc, BusinessError):
        return Response({"errors": [exc.as_dict()]}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        errors = [{"code": "invalid", "message": m} for m in exc.messages]
        return Response({"errors": errors}, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)
