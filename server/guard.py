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
from dragoman.server.auth import Authenticator, AuthError, Principal, Role, peer_host
from dragoman.server.interceptors import behavior_of, with_behavior
from dragoman.server.ratelimit import ALLOWED, Decision, RateLimiter
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

logger = logging.getLogger(__name__)

#: Called with (method, limit) for every call refused by a rate limit.
RejectHook = Callable[[str, str], None]


def _translate_chars(request: Any) -> int:
    return sum(len(text) for text in request.contents)


def _segment_chars(request: Any) -> int:
    return len(request.segment.text) if request.HasField("segment") else 0


#: Input characters of one request message, per method. Methods not listed cost 0.
CHARACTER_COUNTERS: dict[str, Callable[[Any], int]] = {
    "/dragoman.translation.v1.TranslationService/TranslateText": _translate_chars,
    "/dragoman.translation.v1.TranslationService/StreamTranslateText": _segment_chars,
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
    """Authenticates every call and applies per-caller rate limits.

    Args:
        authenticator: Decides who calls; None lets everyone in as anonymous.
        limiter: Rate limits; None disables them. Admin calls and open services
            (health, reflection) are never limited.
        on_reject: Told about every rate-limit refusal (metrics).
        counters: Characters of a request message, per method.
    """

    def __init__(
        self,
        authenticator: Authenticator | None,
        limiter: RateLimiter | None = None,
        on_reject: RejectHook | None = None,
        counters: dict[str, Callable[[Any], int]] | None = None,
    ) -> None:
        self._authenticator = authenticator
        self._limiter = limiter
        self._on_reject = on_reject
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
        try:
            if self._authenticator is None:
                principal = Principal(f"peer:{peer_host(context.peer())}", Role.ANONYMOUS)
            else:
                principal = self._authenticator.authenticate(method, metadata, context.peer())
        except AuthError as error:
            logger.info("refused %s from %s: %s", method, context.peer(), error.message)
            context.abort(error.code, error.message)
            raise  # unreachable: abort raises
        characters = self.characters(method, request) if request is not None else 0
        decision = self.charge(principal, method, requests=1, characters=characters)
        if not decision.allowed:
            context.abort_with_status(rate_limited_status(decision, principal.caller))
        return principal

    def limited(self, principal: Principal, method: str) -> bool:
        """Whether rate limits apply to this caller on this method."""
        return (
            self._limiter is not None
            and principal.role is not Role.ADMIN
            and method in self._counters
        )

    def characters(self, method: str, request: Any) -> int:
        """Input characters of one request message."""
        counter = self._counters.get(method)
        return counter(request) if counter else 0

    def charge(self, principal: Principal, method: str, requests: int, characters: int) -> Decision:
        """Takes the caller's tokens; reports a refusal to `on_reject`."""
        if not self.limited(principal, method):
            return ALLOWED
        assert self._limiter is not None
        decision = self._limiter.acquire(principal.caller, requests, characters, principal.limits)
        if not decision.allowed:
            logger.info("rate limited %s for %s: %s", method, principal.caller, decision.message)
            if self._on_reject is not None:
                self._on_reject(method, decision.limit)
        return decision


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
            decision = self._guard.charge(self._principal, self._method, 0, characters)
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
        if guard.limited(principal, method):
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
