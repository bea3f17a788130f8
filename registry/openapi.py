"""OpenAPI post-processing for drf-spectacular: the error answers every API operation can give.

Views document their successful answers and their business refusals; the answers DRF and Django
give on their own (bad input, not signed in, not allowed, no such object, wrong media type) are
added here to every operation that does not document them, so clients (and the schemathesis
tests in tests/security/test_schemathesis.py) can rely on the document.  A documented 400 with a
body schema also admits DRF's field-error shape, which any serializer can answer.
"""

from __future__ import annotations

from typing import Any

ERROR_COMPONENT = "ErrorResponse"
ERROR_REF = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "错误：DRF 的 {detail: 说明} 或 {字段名: [错误信息]}，或业务规则拒绝 {errors: [{code, message, rule, detail}]}",
    "properties": {
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "rule": {"type": "string"},
                    "detail": {"type": "object", "additionalProperties": True},
                },
                "required": ["code", "message"],
            },
        },
    },
    "additionalProperties": True,
}
JSON_ERROR = {"application/json": {"schema": ERROR_REF}}
ANSWERS = {
    "400": "请求内容有误或被业务规则拒绝",
    "401": "未登录或令牌无效",
    "403": "无权执行（角色、机构或双因素认证不符，或密码已过期）",
    "404": "对象不存在或不属于本机构；路径格式不符时为 HTML 页面",
    "415": "请求的媒体类型不受支持",
}


def _is_public(operation: dict[str, Any]) -> bool:
    return {} in operation.get("security", [{}])


def _answers_for(operation: dict[str, Any]) -> list[str]:
    codes = ["400", "404"]
    if not _is_public(operation):
        codes += ["401", "403"]
    if "requestBody" in operation:
        codes.append("415")
    return codes


def _content_for(code: str) -> dict[str, Any]:
    if code == "404":  # the URL resolver's own 404 (a path that does not match) is Django's HTML page
        return {**JSON_ERROR, "text/html": {"schema": {"type": "string"}}}
    return dict(JSON_ERROR)


def _admit_field_errors(response: dict[str, Any]) -> None:
    """A documented 400 body may also be DRF's field errors (any serializer can answer them)."""
    media = (response.get("content") or {}).get("application/json")
    if media and "schema" in media and media["schema"] != ERROR_REF:
        media["schema"] = {"anyOf": [media["schema"], ERROR_REF]}


def document_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular POSTPROCESSING_HOOKS entry."""
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = ERROR_SCHEMA
    for methods in result.get("paths", {}).values():
        for operation in methods.values():
            responses = operation.setdefault("responses", {})
            for code in _answers_for(operation):
                if code not in responses:
                    responses[code] = {"description": ANSWERS[code], "content": _content_for(code)}
            if "400" in responses:
                _admit_field_errors(responses["400"])
    return result
