"""Typed client errors: one class per gRPC status code, picked from a registry."""

from __future__ import annotations

import grpc


class DragomanError(Exception):
    """A call failed; `code` is the gRPC status code, `details` the server's message.

    Attributes:
        code: The gRPC status code.
        details: What the server (or gRPC) said, usually what to fix.
        attempts: How many attempts were made before giving up.
    """

    def __init__(self, code: grpc.StatusCode, details: str, attempts: int = 1) -> None:
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details
        self.attempts = attempts


class InvalidArgument(DragomanError):
    """Bad or missing language, empty or oversized input, bad option."""


class NotFound(DragomanError):
    """Unknown model."""


class ResourceExhausted(DragomanError):
    """Server queue full or rate limit hit (retried before it is raised)."""


class Unavailable(DragomanError):
    """No server reachable, or shutting down (retried before it is raised)."""


class Unauthenticated(DragomanError):
    """Missing or unknown API key."""


class PermissionDenied(DragomanError):
    """The API key may not do this."""


class DeadlineExceeded(DragomanError):
    """The call's deadline passed."""


class Cancelled(DragomanError):
    """The call was cancelled."""


#: gRPC status code -> error class; codes not listed raise DragomanError itself.
ERRORS_BY_CODE: dict[grpc.StatusCode, type[DragomanError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhausted,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
    grpc.StatusCode.CANCELLED: Cancelled,
}


def from_rpc_error(error: grpc.RpcError, attempts: int = 1) -> DragomanError:
    """Turns a grpc.RpcError (sync or asyncio) into the matching DragomanError."""
    code_fn = getattr(error, "code", None)
    details_fn = getattr(error, "details", None)
    code = code_fn() if callable(code_fn) else grpc.StatusCode.UNKNOWN
    details = (details_fn() if callable(details_fn) else None) or str(error)
    cls = ERRORS_BY_CODE.get(code, DragomanError)
    return cls(code, details, attempts)
