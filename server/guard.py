"""The access interceptor: authentication and per-caller rate limits.

`intercept_service` runs on gRPC's polling thread, so it only wraps the handler; the
checks (a SQLite lookup, the token buckets) run in the RPC's worker thread, where a
refusal aborts the call with its status:

- UNAUTHENTICATED / PERMISSION_DENIED from `Authenticator`;
- RESOURCE_EXHAUSTED with a `google.rpc.RetryInfo` (and a `QuotaFailure`) in
  `grpc-status-details-bin`, plus a plain `retry-after` trailer in whole seconds.

A stream pays one request when it opens and its characters segment by segment. A
segment over the budget ends the request side (the segments before it are still
answered), then the stream ends with RESOURCE_EXHAUSTED.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
from dragoman.server.access import (
    STREAM_TRANSLATE_TEXT,
    TRANSLATE_TEXT,
    AccessControl,
    RateLimited,
)
from dragoman.server.auth import AuthError, Principal
from dragoman.server.interceptors import behavior_of, with_behavior
from dragoman.server.ratelimit import Decision
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

logger = logging.getLogger(__name__)


def _translate_chars(request: Any) -> int:
    return sum(len(text) for text in request.contents)


def _segment_chars(request: Any) -> int:
    return len(request.segment.text) if request.HasField("segment") else 0


#: Input characters of one request message, per method. Methods not listed cost 0.
CHARACTER_COUNTERS: dict[str, Callable[[Any], int]] = {
    TRANSLATE_TEXT: _translate_chars,
    STREAM_TRANSLATE_TEXT: _segment_chars,
}


@dataclass(frozen=True)
class _Status(grpc.Status):
    code: grpc.StatusCode
    details: str
    trailing_metadata: tuple[tuple[str, str | bytes], ...]


def resource_exhausted_status(
    message: str, retry_after_s: float | None, subject: str = ""
) -> grpc.Status:
    """RESOURCE_EXHAUSTED with the standard error details.

    `grpc-status-details-bin` carries a `google.rpc.RetryInfo` (when a retry can
    help) and a `QuotaFailure` naming `subject` (when given); a plain `retry-after`
    trailer (whole seconds) serves clients that do not decode the details.
    """
    status = status_pb2.Status(code=code_pb2.RESOURCE_EXHAUSTED, message=message)
    trailers: tuple[tuple[str, str | bytes], ...] = ()
    if retry_after_s is not None:
        info = error_details_pb2.RetryInfo()
        info.retry_delay.FromNanoseconds(math.ceil(retry_after_s * 1e9))
        status.details.add().Pack(info)
        trailers = (("retry-after", str(max(1, math.ceil(retry_after_s)))),)
    if subject:
        quota = error_details_pb2.QuotaFailure()
        quota.violations.add(subject=subject, description=message)
        status.details.add().Pack(quota)
    rich = rpc_status.to_status(status)
    return _Status(rich.code, rich.details, tuple(rich.trailing_metadata) + trailers)


def rate_limited_status(decision: Decision, caller: str) -> grpc.Status:
    """The status of a call refused by a rate limit."""
    return resource_exhausted_status(decision.message, decision.retry_after_s, caller)


class AccessInterceptor(grpc.ServerInterceptor):
    """Authenticates every call and applies per-caller rate limits (`AccessControl`).

    Args:
        access: The server's access control, shared with the HTTP front end.
        counters: Characters of a request message, per method.
    """

    def __init__(
        self, access: AccessControl, counters: dict[str, Callable[[Any], int]] | None = None
    ) -> None:
        self.access = access
        self._counters = CHARACTER_COUNTERS if counters is None else counters

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        """Wraps the method's handler with the access checks."""
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        metadata = tuple(handler_call_details.invocation_metadata or ())
        if handler.request_streaming:
            return _wrap_streaming_request(handler, self, method, metadata)
        return _wrap_unary_request(handler, self, method, metadata)

    def admit(
        self, method: str, metadata: tuple, context: grpc.ServicerContext, request: Any
    ) -> Principal:
        """Authenticates the call and charges its first message; aborts on refusal."""
        characters = self.characters(method, request) if request is not None else 0
        try:
            return self.access.admit(method, metadata, context.peer(), characters)
        except AuthError as error:
            context.abort(error.code, error.message)
            raise  # unreachable: abort raises
        except RateLimited as refusal:
            context.abort_with_status(rate_limited_status(refusal.decision, refusal.caller))
            raise  # unreachable: abort raises

    def characters(self, method: str, request: Any) -> int:
        """Input characters of one request message."""
        counter = self._counters.get(method)
        return counter(request) if counter else 0


def _wrap_unary_request(
    handler: grpc.RpcMethodHandler, guard: AccessInterceptor, method: str, metadata: tuple
) -> grpc.RpcMethodHandler:
    inner = behavior_of(handler)

    def admitted(request: Any, context: grpc.ServicerContext) -> Any:
        guard.admit(method, metadata, context, request)
        return inner(request, context)

    return with_behavior(handler, admitted)


class _StreamMeter:
    """Charges a stream's messages; ends the request side when the budget runs out."""

    def __init__(self, guard: AccessInterceptor, principal: Principal, method: str) -> None:
        self._guard = guard
        self._principal = principal
        self._method = method
        self.refusal: Decision | None = None

    def requests(self, iterator: Iterator[Any]) -> Iterator[Any]:
        for request in iterator:
            characters = self._guard.characters(self._method, request)
            decision = self._guard.access.charge(self._principal, self._method, 0, characters)
            if not decision.allowed:
                self.refusal = decision
                return
            yield request

    def responses(self, iterator: Iterator[Any], context: grpc.ServicerContext) -> Iterator[Any]:
        yield from iterator
        self.check(context)

    def check(self, context: grpc.ServicerContext) -> None:
        if self.refusal is not None:
            context.abort_with_status(rate_limited_status(self.refusal, self._principal.caller))


def _wrap_streaming_request(
    handler: grpc.RpcMethodHandler, guard: AccessInterceptor, method: str, metadata: tuple
) -> grpc.RpcMethodHandler:
    def start(requests: Iterator[Any], context: grpc.ServicerContext) -> tuple[Any, _StreamMeter]:
        principal = guard.admit(method, metadata, context, None)
        meter = _StreamMeter(guard, principal, method)
        if guard.access.limited(principal, method):
            requests = meter.requests(requests)
        return requests, meter

    if handler.response_streaming:
        inner_stream = handler.stream_stream

        def stream_stream(requests: Iterator[Any], context: grpc.ServicerContext) -> Any:
            requests, meter = start(requests, context)
            return meter.responses(inner_stream(requests, context), context)

        return with_behavior(handler, stream_stream)
    inner_unary = handler.stream_unary

    def stream_unary(requests: Iterator[Any], context: grpc.ServicerContext) -> Any:
        requests, meter = start(requests, context)
        response = inner_unary(requests, context)
        meter.check(context)
        return response

    return with_behavior(handler, stream_unary)
