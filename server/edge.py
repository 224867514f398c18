"""The gRPC edge: one interceptor that shapes every call before anything reads it.

The sync gRPC server reads a unary request in a pool thread before any interceptor
code runs, and a stream's messages whenever the servicer asks, without a time limit:
a caller that sends headers and never the message, or opens a stream and goes quiet,
holds a thread (and a slot) for as long as its connection lives. So the edge

- registers every method as request-streaming, so that gRPC reads nothing by itself;
- runs the layers (request log, metrics, shutdown gate, access: authentication,
  slots, budgets) around each call *before* its first message is read;
- reads messages through `BoundedRequests`: the first must arrive within
  `receive_timeout_s` of the call's start, each later one within
  `stream_idle_timeout_s` of the server asking for it, else the call ends with
  DEADLINE_EXCEEDED (`_Receiver` waits with a timeout);
- ends streams between two messages with UNAVAILABLE once the server drains, so that a
  drain lasts as long as the work in progress, not the grace period;
- answers request bytes that do not parse with INVALID_ARGUMENT (gRPC's own answer is
  INTERNAL "Exception deserializing request!");
- runs each class of method (`Surface`) on its own thread pool, so that health checks
  answer while every translation slot is taken.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent import futures
from dataclasses import dataclass
from typing import Any, Protocol

import grpc
from dragoman.server.access import Surface, surface_of
from dragoman.server.interceptors import Behavior, behavior_of

logger = logging.getLogger(__name__)


class Layer(Protocol):
    """Something the edge wraps around every call (see `CallInterceptor.layer`)."""

    def layer(self, behavior: Behavior, method: str, handler: grpc.RpcMethodHandler) -> Behavior:
        """`behavior` wrapped; `handler` is the method's own (its streaming kinds)."""
        ...


@dataclass(frozen=True)
class Malformed:
    """Stands for request bytes that are not the method's request message."""

    type_name: str
    error: str


def _type_name(deserializer: Callable[[bytes], Any] | None) -> str:
    owner = getattr(deserializer, "__self__", None)
    descriptor = getattr(owner, "DESCRIPTOR", None)
    return str(getattr(descriptor, "full_name", "") or "request")


def safe_deserializer(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any]:
    """`deserializer`, returning `Malformed` instead of raising on bad bytes."""
    type_name = _type_name(deserializer)

    def parse(data: bytes) -> Any:
        if deserializer is None:
            return data
        try:
            return deserializer(data)
        except Exception as error:  # DecodeError, or anything a custom parser raises
            return Malformed(type_name, str(error) or type(error).__name__)

    return parse


@dataclass(frozen=True)
class Timeouts:
    """How long the edge waits for a caller's messages.

    Attributes:
        receive_s: From the call's start to its first message.
        stream_idle_s: From the server asking for a stream's next message to it.
    """

    receive_s: float = 15.0
    stream_idle_s: float = 60.0


_END = object()
_WAITING = object()
#: How often a waiting read looks whether the server started draining.
_POLL_S = 0.25
#: What `_Receiver` uses of gRPC's request iterator to wait with a timeout.
_GRPC_ITERATOR = ("_state", "_raise_or_start_receive_message", "_look_for_request")


def _pull(requests: Iterator[Any]) -> Any:
    return next(requests, _END)


class _Receiver:
    """Receives a call's next message, waiting at most a given time.

    gRPC's request iterator has no timeout. When it is gRPC's own (`_RequestIterator`,
    grpcio 1.85), this waits on the iterator's condition with a timeout, in the call's
    thread; otherwise a reader thread waits on the iterator and this on its future.
    """

    def __init__(self, raw: Iterator[Any], readers: futures.Executor) -> None:
        self._raw, self._readers = raw, readers
        self._inline = all(hasattr(raw, name) for name in _GRPC_ITERATOR)
        self._pending: Any = None  # the receive in progress, when one is

    def receive(self, timeout: float) -> Any:
        """The next message, `_END` after the last one, or `_WAITING` after `timeout`."""
        if self._inline:
            return self._receive_inline(timeout)
        if self._pending is None:
            self._pending = self._readers.submit(_pull, self._raw)
        try:
            message = self._pending.result(timeout=max(timeout, 0.0))
        except futures.TimeoutError:
            return _WAITING
        self._pending = None
        return message

    def _receive_inline(self, timeout: float) -> Any:
        raw: Any = self._raw
        state = raw._state
        end = time.monotonic() + timeout
        with state.condition:
            try:
                if self._pending is None:
                    raw._raise_or_start_receive_message()
                    self._pending = True
                while (message := raw._look_for_request()) is None:
                    left = end - time.monotonic()
                    if left <= 0:
                        return _WAITING
                    state.condition.wait(left)
            except StopIteration:
                message = _END
        self._pending = None
        return message


class BoundedRequests:
    """A call's request messages, each of which must arrive in time and parse.

    Args:
        raw: gRPC's request iterator.
        context: The call's context (aborted on a timeout or bad bytes).
        readers: Threads that wait on `raw` when it is not gRPC's own iterator.
        timeouts: The waits allowed.
    """

    def __init__(
        self,
        raw: Iterator[Any],
        context: grpc.ServicerContext,
        readers: futures.Executor,
        timeouts: Timeouts,
        draining: Callable[[], bool] = lambda: False,
    ) -> None:
        self._receiver = _Receiver(raw, readers)
        self._context = context
        self._timeouts = timeouts
        self._draining = draining
        self._received = 0

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        first = self._received == 0
        timeout = self._timeouts.receive_s if first else self._timeouts.stream_idle_s
        deadline = time.monotonic() + timeout
        while True:
            if not first and self._draining():
                # A stream never ends by itself: end it between two messages, so that
                # a drain waits for the work in progress, not for the grace period.
                self._context.abort(grpc.StatusCode.UNAVAILABLE, _DRAINING)
            message = self._receiver.receive(min(_POLL_S, deadline - time.monotonic()))
            if message is not _WAITING:
                break
            if time.monotonic() >= deadline:
                # Ending the call also ends the receive in progress (it fails).
                self._context.abort(
                    grpc.StatusCode.DEADLINE_EXCEEDED, _idle_message(first, timeout)
                )
        if message is _END:
            raise StopIteration
        if isinstance(message, Malformed):
            self._context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"request message {self._received + 1} is not a valid {message.type_name} "
                f"({message.error[:200]}): send the message the method's .proto defines "
                "(server reflection lists it)",
            )
        self._received += 1
        return message


_DRAINING = (
    "the server is shutting down: open the stream again (on another replica) and send "
    "again the segments that got no final result"
)


def _idle_message(first: bool, timeout: float) -> str:
    if first:
        return (
            f"no request message arrived within {timeout:g} s of the call's start: send the "
            "request together with the call"
        )
    return (
        f"the stream sent nothing for {timeout:g} s while the server waited for its next "
        "message: send segments more often, or end the stream and open a new one later"
    )


def _single(method: str, behavior: Behavior) -> Behavior:
    """A unary-request behaviour fed by the first message of a request iterator."""
    name = method.rsplit("/", 1)[-1]

    def single(requests: Iterator[Any], context: grpc.ServicerContext) -> Any:
        request = next(iter(requests), _END)
        if request is _END:
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"{name} takes one request message and the call sent none",
            )
        return behavior(request, context)

    return single


class EdgeInterceptor(grpc.ServerInterceptor):
    """Bounds every call's reading and runs `layers` (outermost first) before it.

    Args:
        layers: Wrapped around every call, outermost first (log, metrics, gate, access).
        pools: The thread pool of each surface; surfaces without one use the server's.
        readers: Threads that wait for request messages.
        timeouts: The waits allowed for messages.
        draining: True once the server drains: streams then end at their next read.
    """

    def __init__(
        self,
        layers: Sequence[Layer],
        pools: Mapping[Surface, futures.ThreadPoolExecutor],
        readers: futures.Executor,
        timeouts: Timeouts = Timeouts(),
        draining: Callable[[], bool] = lambda: False,
    ) -> None:
        self._layers = tuple(layers)
        self._pools = pools
        self._readers = readers
        self._timeouts = timeouts
        self._draining = draining

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        """The method's handler, request-streaming, inside the layers."""
        handler = continuation(handler_call_details)
        if handler is None:
            return None  # UNIMPLEMENTED, answered without a thread
        method = handler_call_details.method
        inner = behavior_of(handler)
        behavior = inner if handler.request_streaming else _single(method, inner)
        for layer in reversed(self._layers):
            behavior = layer.layer(behavior, method, handler)
        return self._handler(handler, self._bounded(behavior), surface_of(method))

    def _bounded(self, behavior: Behavior) -> Behavior:
        readers, timeouts, draining = self._readers, self._timeouts, self._draining

        def bounded(raw: Iterator[Any], context: grpc.ServicerContext) -> Any:
            requests = BoundedRequests(raw, context, readers, timeouts, draining)
            return behavior(requests, context)

        return bounded

    def _handler(
        self, handler: grpc.RpcMethodHandler, behavior: Behavior, surface: Surface
    ) -> grpc.RpcMethodHandler:
        pool = self._pools.get(surface)
        if pool is not None:
            # The sync server runs a behaviour on this pool instead of its own.
            behavior.experimental_thread_pool = pool
        factory = (
            grpc.stream_stream_rpc_method_handler
            if handler.response_streaming
            else grpc.stream_unary_rpc_method_handler
        )
        return factory(
            behavior,
            request_deserializer=safe_deserializer(handler.request_deserializer),
            response_serializer=handler.response_serializer,
        )
