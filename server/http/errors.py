"""Errors of the HTTP front end, and how each API shows them.

Everything that can go wrong in a call becomes one `CallError` carrying a canonical
gRPC status code (the same codes `server/errors.py` gives engine errors), then the API
the path belongs to renders it its own way: LibreTranslate `{"error": ...}`, DeepL
`{"message": ...}` with its status codes (456 for an exhausted character budget), the
native API `{"error": {"code", "message", "status"}}` as Google's JSON APIs do.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import grpc
from starlette.responses import JSONResponse, Response

#: The HTTP status of each canonical code, as gRPC-JSON transcoding maps them.
HTTP_STATUS: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
    grpc.StatusCode.UNAUTHENTICATED: 401,
}

#: HTTP status -> canonical code, for errors raised by the framework (404, 405, 413...).
CODE_OF_STATUS: dict[int, grpc.StatusCode] = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    405: grpc.StatusCode.UNIMPLEMENTED,
    413: grpc.StatusCode.INVALID_ARGUMENT,
    415: grpc.StatusCode.INVALID_ARGUMENT,
    422: grpc.StatusCode.INVALID_ARGUMENT,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
    503: grpc.StatusCode.UNAVAILABLE,
}


@dataclass
class CallError(Exception):
    """A failed HTTP call, before an API gives it its shape.

    Attributes:
        code: The canonical status code.
        message: What the caller should change, as the gRPC API would say it.
        retry_after_s: Seconds until a retry can succeed (`Retry-After`), if known.
        http_status: A status that wins over the code's (413 for a huge body,
            405 for a wrong method).
        limit: For rate-limit refusals, the budget that refused: `requests` or
            `characters`.
    """

    code: grpc.StatusCode
    message: str
    retry_after_s: float | None = None
    http_status: int | None = None
    limit: str = ""

    def __post_init__(self) -> None:
        super().__init__(self.message)

    @property
    def status(self) -> int:
        """The HTTP status this error has in the native API."""
        return self.http_status or HTTP_STATUS.get(self.code, 500)

    def headers(self) -> dict[str, str]:
        """`Retry-After` (whole seconds) when a retry can help."""
        if self.retry_after_s is None:
            return {}
        return {"Retry-After": str(max(1, math.ceil(self.retry_after_s)))}


def native_error(error: CallError) -> Response:
    """The native JSON API's error: `{"error": {"code", "message", "status"}}`."""
    body = {"error": {"code": error.status, "message": error.message, "status": error.code.name}}
    return JSONResponse(body, error.status, headers=error.headers())


#: Where the status LibreTranslate documents differs from the native one.
_LIBRE_STATUS: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.NOT_FOUND: 400,
    grpc.StatusCode.UNAUTHENTICATED: 400,  # "Please contact the server operator..."
    grpc.StatusCode.PERMISSION_DENIED: 403,
}


def libre_error(error: CallError) -> Response:
    """LibreTranslate's error: `{"error": "..."}` with 400, 403, 429 or 500 (503 draining)."""
    status = error.http_status or _LIBRE_STATUS.get(error.code) or error.status
    message = f"Slowdown: {error.message}" if status == 429 else error.message
    return JSONResponse({"error": message}, status, headers=error.headers())


#: DeepL's status codes where they differ from the native ones.
_DEEPL_STATUS: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.UNAUTHENTICATED: 403,
    grpc.StatusCode.PERMISSION_DENIED: 403,
}
#: DeepL: a character budget that is spent is "quota exceeded".
DEEPL_QUOTA_EXCEEDED = 456


def deepl_error(error: CallError) -> Response:
    """DeepL's error: `{"message": "..."}` with 400, 403, 404, 413, 429, 456, 5xx."""
    status = error.http_status or _DEEPL_STATUS.get(error.code) or error.status
    if error.code is grpc.StatusCode.RESOURCE_EXHAUSTED and error.limit == "characters":
        status = DEEPL_QUOTA_EXCEEDED
    return JSONResponse({"message": error.message}, status, headers=error.headers())


Renderer = Callable[[CallError], Response]

#: Path prefix -> the error shape of the API served there; the longest prefix wins.
RENDERERS: dict[str, Renderer] = {
    "/v1/": native_error,
    "/v2/": deepl_error,
    "/": libre_error,
}


def render(path: str, error: CallError) -> Response:
    """`error` in the shape of the API that serves `path`."""
    for prefix in sorted(RENDERERS, key=len, reverse=True):
        if path.startswith(prefix):
            return RENDERERS[prefix](error)
    return native_error(error)
