"""Small HTTP helpers shared by the REST and control APIs."""

from __future__ import annotations

import json
from contextvars import ContextVar
from typing import Any

from aiohttp import web

PREFIX = "/api/v10"


class ApiError(Exception):
    """A Discord error answer: HTTP status plus Discord's JSON error code and message."""

    def __init__(self, status: int, code: int, message: str, errors: dict[str, Any] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        data: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            data["errors"] = self.errors
        return data


def unknown(what: str, code: int) -> ApiError:
    return ApiError(404, code, f"Unknown {what}")


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    # exactly "application/json": discord.py treats "application/json; charset=utf-8" as text
    all_headers = {"Content-Type": "application/json"}
    if headers:
        all_headers.update(headers)
    return web.Response(
        body=json.dumps(data, separators=(",", ":")).encode(), status=status, headers=all_headers
    )


def no_content(headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=204, headers=headers or {})


def snowflake_arg(request: web.Request, name: str, what: str, code: int) -> int:
    try:
        return int(request.match_info[name])
    except (KeyError, ValueError):
        raise unknown(what, code) from None


def form_error(field: str, message: str, code: str = "BASE_TYPE_BAD") -> ApiError:
    return ApiError(
        400,
        50035,
        "Invalid Form Body",
        {field: {"_errors": [{"code": code, "message": message}]}},
    )


# the parsed body of the request being handled (handlers run in the middleware's task)
REQUEST_BODY: ContextVar[Any] = ContextVar("standin_request_body", default=None)
# set by the message handler when a nonce was answered with the earlier message, for the log
NONCE_DEDUPED: ContextVar[bool] = ContextVar("standin_nonce_deduped", default=False)


def body_of(request: web.Request) -> Any:
    return REQUEST_BODY.get()


def body_dict(request: web.Request) -> dict[str, Any]:
    """The JSON object body ({} when there is none); anything else is 50035."""
    body = body_of(request)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ApiError(400, 50035, "Invalid Form Body")
    return body


def invalid(path: str, message: str, code: str = "BASE_TYPE_MAX_LENGTH") -> ApiError:
    """400 50035 with the error at a dotted path of the body ("embeds.0.title")."""
    errors: dict[str, Any] = {}
    node = errors
    parts = path.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = {"_errors": [{"code": code, "message": message}]}
    return ApiError(400, 50035, "Invalid Form Body", errors)


def text_len(value: Any) -> int:
    return len(value) if isinstance(value, str) else 0
