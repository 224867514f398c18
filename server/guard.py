"""gRPC side of access control: status details, request costs, the access layer.

The access layer runs inside the edge (server/edge.py), before a call's request is
read: it authenticates the caller (`AccessControl.authenticate`) and holds one of
the slots of the method's class (`AccessControl.hold`). Each request message is then
priced as it is read (`COSTS`: input characters and decoding work) and charged to the
caller's budgets. Refusals end the call with

- UNAUTHENTICATED / PERMISSION_DENIED from `Authenticator`;
- RESOURCE_EXHAUSTED with a `google.rpc.RetryInfo` (and a `QuotaFailure`) in
  `grpc-status-details-bin`, plus a plain `retry-after` trailer in whole seconds, for
  rate limits, slots and throttled credentials.

A unary call pays one request, its characters and its work together, once its
message is read (so a refused call costs nothing). A stream pays one request when it
opens, then each message's cost as it arrives; a message over the budget ends the
request side (the messages before it are still answered), then the stream ends with
RESOURCE_EXHAUSTED.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import grpc
from dragoman.engine.validation import DEFAULT_BEAM_SIZE, OPTION_BOUNDS
from dragoman.server.access import (
    DETECT_LANGUAGE,
    STREAM_TRANSLATE_DOCUMENT,
    STREAM_TRANSLATE_TEXT,
    TRANSLATE_DOCUMENT,
    TRANSLATE_TEXT,
    AccessControl,
    RateLimited,
    translation_work,
)
from dragoman.server.auth import AuthError, Principal
from dragoman.server.interceptors import Behavior, CallInterceptor
from dragoman.server.ratelimit import Decision
from dragoman.server.wire import BEAM_BY_QUALITY
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

logger = logging.getLogger(__name__)

#: (characters, work) of one request message, given the call's first message.
Coster = Callable[[Any, Any], tuple[int, int]]


def _bounded(value: float, option: str) -> int:
    # Unvalidated fields: an absurd value is refused by validation with
    # INVALID_ARGUMENT, not priced out of every budget with RESOURCE_EXHAUSTED.
    return int(min(max(value, 0), OPTION_BOUNDS[option].high))


def _work(lengths: list[int], options: Any, glossary: Any, do_not_translate: Any) -> int:
    beam = _bounded(options.beam_size, "beam_size") or BEAM_BY_QUALITY.get(options.quality, 0)
    return translation_work(
        lengths,
        beam_size=beam or DEFAULT_BEAM_SIZE,
        num_alternatives=_bounded(options.num_alternatives, "num_alternatives"),
        max_output_tokens=_bounded(options.max_output_tokens, "max_output_tokens"),
        glossary_entries=len(glossary.entries) + len(do_not_translate),
    )


def _translate_cost(request: Any, first: Any) -> tuple[int, int]:
    lengths = [len(text) for text in request.contents]
    work = _work(lengths, request.options, request.glossary_config, request.do_not_translate)
    return sum(lengths), work


def _stream_cost(request: Any, first: Any) -> tuple[int, int]:
    config = first.config
    if request.HasField("config"):  # the glossary is compiled once per stream
        return 0, len(config.glossary_config.entries) + len(config.do_not_translate)
    text = request.segment.text if request.HasField("segment") else ""
    return len(text), _work([len(text)], config.options, _NO_GLOSSARY, ())


def _detect_cost(request: Any, first: Any) -> tuple[int, int]:
    return sum(len(text) for text in request.contents), 0


def _document_cost(request: Any, first: Any) -> tuple[int, int]:
    # Bytes stand in for characters: the text is only known once the file is read.
    size = len(request.document.content)
    work = _work([size], request.options, request.glossary_config, request.do_not_translate)
    return size, work


class _NoGlossary:
    entries: tuple[()] = ()


_NO_GLOSSARY = _NoGlossary()

#: Cost of one request message, per method. Methods not listed pay their request only.
COSTS: dict[str, Coster] = {
    TRANSLATE_TEXT: _translate_cost,
    STREAM_TRANSLATE_TEXT: _stream_cost,
    DETECT_LANGUAGE: _detect_cost,
    TRANSLATE_DOCUMENT: _document_cost,
    STREAM_TRANSLATE_DOCUMENT: lambda request, first: _document_cost(request.request, first),
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


def abort_refused(context: grpc.ServicerContext, refusal: AuthError | RateLimited) -> None:
    """Ends the call with the status of an access refusal."""
    if isinstance(refusal, AuthError):
        context.abort(refusal.code, refusal.message)
    else:
        context.abort_with_status(rate_limited_status(refusal.decision, refusal.caller))


class AccessInterceptor(CallInterceptor):
    """The access layer of the edge: authentication, slots and budgets (`AccessControl`).

    Args:
        access: The server's access control, shared with the HTTP front end.
        costs: Characters and work of a request message, per method.
    """

    def __init__(self, access: AccessControl, costs: Mapping[str, Coster] | None = None) -> None:
        self.access = access
        self._costs = COSTS if costs is None else costs

    def layer(self, behavior: Behavior, method: str, handler: grpc.RpcMethodHandler) -> Behavior:
        """`behavior` behind the access checks; see the module docstring."""
        streaming = handler.request_streaming or handler.response_streaming

        def metered(requests: Iterator[Any], meter: _Meter) -> Iterator[Any]:
            return meter.stream(requests) if handler.request_streaming else meter.unary(requests)

        if handler.response_streaming:

            def stream(requests: Iterator[Any], context: grpc.ServicerContext) -> Iterator[Any]:
                with self._admitted(method, context, streaming) as meter:
                    yield from behavior(metered(requests, meter), context)
                    meter.check()

            return stream

        def unary(requests: Iterator[Any], context: grpc.ServicerContext) -> Any:
            with self._admitted(method, context, streaming) as meter:
                response = behavior(metered(requests, meter), context)
                meter.check()
                return response

        return unary

    @contextmanager
    def _admitted(
        self, method: str, context: grpc.ServicerContext, streaming: bool
    ) -> Iterator[_Meter]:
        metadata = context.invocation_metadata()
        try:
            principal = self.access.authenticate(method, metadata, context.peer())
            with self.access.hold(principal, method, streaming):
                meter = _Meter(self, principal, method, context, streaming)
                if streaming:
                    self.access.pay(principal, method, 1, 0)
                yield meter
        except (AuthError, RateLimited) as refusal:
            abort_refused(context, refusal)

    def cost(self, method: str, request: Any, first: Any) -> tuple[int, int]:
        """(characters, work) of one request message."""
        coster = self._costs.get(method)
        return coster(request, first) if coster is not None else (0, 0)


class _Meter:
    """Charges a call's request messages as they are read."""

    def __init__(
        self,
        layer: AccessInterceptor,
        principal: Principal,
        method: str,
        context: grpc.ServicerContext,
        paid_request: bool,
    ) -> None:
        self.layer, self.principal, self.method, self.context = layer, principal, method, context
        self._requests = 0 if paid_request else 1
        self._first: Any = None
        self.refusal: RateLimited | None = None

    def _pay(self, request: Any) -> None:
        if self._first is None:
            self._first = request
        characters, work = self.layer.cost(self.method, request, self._first)
        self.layer.access.pay(self.principal, self.method, self._requests, characters, work)
        self._requests = 0

    def unary(self, requests: Iterator[Any]) -> Iterator[Any]:
        for request in requests:
            try:
                self._pay(request)
            except RateLimited as refusal:
                abort_refused(self.context, refusal)
            yield request

    def stream(self, requests: Iterator[Any]) -> Iterator[Any]:
        for request in requests:
            try:
                self._pay(request)
            except RateLimited as refusal:
                self.refusal = refusal
                return
            yield request

    def check(self) -> None:
        if self.refusal is not None:
            abort_refused(self.context, self.refusal)
