"""One small application error type: a Chinese message plus structured detail."""

from __future__ import annotations

from typing import Any


class BusinessError(Exception):
    """A refusal by the programme's rules. ``message`` is shown to users as is."""

    def __init__(self, message: str, *, code: str = "invalid", rule: str = "", **detail: Any) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.rule = rule
        self.detail = detail

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.rule:
            data["rule"] = self.rule
        if self.detail:
            data["detail"] = self.detail
        return data
