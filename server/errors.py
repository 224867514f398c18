"""The one table that maps engine errors to canonical gRPC status codes.

Every error the engine raises on purpose is a caller's mistake or a server state the
caller can act on, so none of them is INTERNAL; only bugs are.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn

import grpc
from dragoman.engine import errors
from dragoman.server.guard import resource_exhausted_status

logger = logging.getLogger(__name__)

#: Retry delay suggested to callers refused because the engine queue is full.
OVERLOAD_RETRY_S = 1.0

#: Engine error class -> status code. Subclasses inherit their nearest ancestor's code.
STATUS_BY_ERROR: dict[type[errors.EngineError], grpc.StatusCode] = {
    errors.InvalidRequest: grpc.StatusCode.INVALID_ARGUMENT,
    errors.UnsupportedLanguage: grpc.StatusCode.INVALID_ARGUMENT,
    errors.InputTooLong: grpc.StatusCode.INVALID_ARGUMENT,
    errors.InvalidOption: grpc.StatusCode.INVALID_ARGUMENT,
    errors.InvalidMarkup: grpc.StatusCode.INVALID_ARGUMENT,
    errors.ModelNotFound: grpc.StatusCode.NOT_FOUND,
    errors.Overloaded: grpc.StatusCode.RESOURCE_EXHAUSTED,
    errors.DeadlineExceeded: grpc.StatusCode.DEADLINE_EXCEEDED,
    errors.Cancelled: grpc.StatusCode.CANCELLED,
    errors.ShuttingDown: grpc.StatusCode.UNAVAILABLE,
    errors.CircuitOpen: grpc.StatusCode.UNAVAILABLE,
    errors.ModelLoadError: grpc.StatusCode.UNAVAILABLE,
    errors.VersionExists: grpc.StatusCode.ALREADY_EXISTS,
    errors.RolloutRefused: grpc.StatusCode.FAILED_PRECONDITION,
    errors.NotEnoughMemory: grpc.StatusCode.RESOURCE_EXHAUSTED,
    errors.BadModelDirectory: grpc.StatusCode.INVALID_ARGUMENT,
    errors.EngineError: grpc.StatusCode.INTERNAL,
}


def status_for(error: BaseException) -> grpc.StatusCode:
    """The status code for `error`: its own class's entry or its nearest ancestor's."""
    for cls in type(error).__mro__:
        code = STATUS_BY_ERROR.get(cls)
        if code is not None:
            return code
    return grpc.StatusCode.INTERNAL


def abort(context: grpc.ServicerContext, error: BaseException, request_id: str = "") -> NoReturn:
    """Ends the RPC with the status that `error` maps to.

    Engine errors carry a message written for the caller; anything else is a bug,
    logged with its traceback and reported as INTERNAL without internals.
    """
    code = status_for(error)
    if isinstance(error, errors.EngineError):
        message = str(error) or type(error).__name__
    else:
        logger.error("unexpected error in request %s", request_id, exc_info=error)
        message = f"internal error; quote request id {request_id!r} when reporting it"
    if isinstance(error, errors.Overloaded):
        # Same shape as a rate-limit refusal: RetryInfo says when to come back.
        context.abort_with_status(resource_exhausted_status(message, OVERLOAD_RETRY_S))
    context.abort(code, message)
    raise AssertionError("context.abort returned")  # pragma: no cover - abort always raises


@contextmanager
def engine_errors(context: grpc.ServicerContext, request_id: str = "") -> Iterator[None]:
    """Turns exceptions raised inside the block into the RPC's status.

    The exception `context.abort` raises passes through untouched.
    """
    try:
        yield
    except errors.EngineError as error:
        abort(context, error, request_id)
    except Exception as error:
        if _is_abort(context):
            raise
        abort(context, error, request_id)


def _is_abort(context: grpc.ServicerContext) -> bool:
    # context.abort raises a bare Exception after setting the code; let it through.
    code: Callable[[], grpc.StatusCode | None] | None = getattr(context, "code", None)
    return code is not None and code() not in (None, grpc.StatusCode.OK)
