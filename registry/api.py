"""DRF glue shared by every app's API: the exception handler and the choice-label field."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, status
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


@extend_schema_field(OpenApiTypes.STR)
class ChoiceLabelField(serializers.Field):
    """The Chinese label of a choice field's value, read-only: ``ChoiceLabelField(LoanStatus, source="status")``.

    Same output as ``CharField(source="get_status_display")`` without the per-row cost of that
    call through DRF (a signature inspection, ``make_hashable`` and a choices walk per value:
    a third of the time of a 50-loan page).
    """

    def __init__(self, choices: type[models.Choices], **kwargs: Any) -> None:
        self.labels = dict(choices.choices)
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str:
        return str(self.labels.get(value, value))
