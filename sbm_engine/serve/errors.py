"""The one shape of every error answer: `{"error": {"code": ..., "message": ...}}`."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error meant for the client: its status, a stable code for machines and a
    message for people. Anything else raised while answering is a 500 with a
    request id and nothing more (the details go to the log only)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, **self.extra)


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


#: A code for each status Starlette itself may answer with (an unknown route, a
#: method the route does not take), so that those answers have the same shape.
STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    500: "internal_error",
    504: "timeout",
}
