"""The layers every call runs inside, built as one list in `build_interceptors`.

Each is a `CallInterceptor`: a context manager entered around the whole RPC (for
streaming responses, until the last message is sent), so that auth, rate limiting or
metrics plug in by adding one class to the list; `server/edge.py` wraps them around
every method.
"""

from __future__ import annotations

import contextvars
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import grpc

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = "x-request-id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:/+=-]{1,128}$")
_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

Behavior = Callable[[Any, grpc.ServicerContext], Any]
Scope = Callable[[str, grpc.ServicerContext], AbstractContextManager[None]]

#: (request_streaming, response_streaming) -> the handler attribute holding the behaviour.
_BEHAVIOR_ATTRIBUTES: dict[tuple[bool, bool], str] = {
    (False, False): "unary_unary",
    (False, True): "unary_stream",
    (True, False): "stream_unary",
    (True, True): "stream_stream",
}


def behavior_of(handler: grpc.RpcMethodHandler) -> Behavior:
    """The function behind `handler` (its `unary_unary`, `stream_stream`, ... attribute)."""
    return getattr(
        handler, _BEHAVIOR_ATTRIBUTES[(handler.request_streaming, handler.response_streaming)]
    )


def current_request_id() -> str:
    """The request id of the RPC this thread is serving ("" outside of one)."""
    return _request_id.get()


def request_id_for(sent: object) -> str:
    """The id of a new request: the caller's `x-request-id` when it is sane, else a new one."""
    return sent if isinstance(sent, str) and _VALID_REQUEST_ID.match(sent) else uuid.uuid4().hex


@contextmanager
def request_id_scope(request_id: str) -> Iterator[None]:
    """Makes `request_id` this thread's current request id inside the block (logs read it)."""
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)


def _around(behavior: Behavior, streaming: bool, method: str, scope: Scope) -> Behavior:
    if streaming:

        def stream_behavior(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            with scope(method, context):
                yield from behavior(request, context)

        return stream_behavior

    def unary_behavior(request: Any, context: grpc.ServicerContext) -> Any:
        with scope(method, context):
            return behavior(request, context)

    return unary_behavior


class CallInterceptor:
    """Base class: a layer that runs `scope(method, context)` around every RPC it applies to.

    `server/edge.py` composes the layers (`layer`); the edge is the one gRPC interceptor.
    """

    def applies_to(self, method: str) -> bool:
        """Whether this interceptor handles `method` (`/package.Service/Method`)."""
        return True

    def scope(self, method: str, context: grpc.ServicerContext) -> AbstractContextManager[None]:
        """The context manager entered around one RPC."""
        raise NotImplementedError

    def layer(self, behavior: Behavior, method: str, handler: grpc.RpcMethodHandler) -> Behavior:
        """`behavior` inside this interceptor's `scope`, as the edge composes it.

        Args:
            behavior: What runs inside: takes the request iterator and the context.
            method: `/package.Service/Method`.
            handler: The method's own handler (its streaming kinds).
        """
        if not self.applies_to(method):
            return behavior
        return _around(behavior, handler.response_streaming, method, self.scope)


def _status_name(context: grpc.ServicerContext, error: BaseException | None) -> str:
    code = context.code()
    if code is None:
        if error is not None:
            return grpc.StatusCode.UNKNOWN.name
        return "OK" if context.is_active() else grpc.StatusCode.CANCELLED.name
    return str(code.name)


class RequestLogInterceptor(CallInterceptor):
    """Gives every RPC a request id and logs one line when it ends.

    The id comes from the caller's `x-request-id` metadata when it is sane, else a
    new one; it is sent back as `x-request-id` response metadata.
    """

    @contextmanager
    def scope(self, method: str, context: grpc.ServicerContext) -> Iterator[None]:
        """Sets the request id, echoes it, and logs the outcome."""
        request_id = request_id_for(dict(context.invocation_metadata()).get(REQUEST_ID_HEADER))
        _request_id.set(request_id)
        context.send_initial_metadata(((REQUEST_ID_HEADER, str(request_id)),))
        start = time.perf_counter()
        error: BaseException | None = None
        try:
            yield
        except BaseException as exc:
            error = exc
            raise
        finally:
            # Health probes arrive every few seconds: keep them out of the INFO log.
            quiet = method.startswith("/grpc.health.v1.")
            logger.log(
                logging.DEBUG if quiet else logging.INFO,
                "%s %s",
                method,
                _status_name(context, error),
                extra={
                    "request_id": request_id,
                    "method": method,
                    "code": _status_name(context, error),
                    "duration_ms": round((time.perf_counter() - start) * 1000, 3),
                    "peer": context.peer(),
                },
            )
            _request_id.set("")


#: What a caller refused by a draining server is told.
SHUTTING_DOWN = (
    "the server is shutting down and accepts no new requests; retry on another replica or "
    "after it restarts"
)


class ShutdownGate(CallInterceptor):
    """Counts in-flight RPCs and, once closed, refuses new ones with UNAVAILABLE.

    Health checks and reflection pass through, so that load balancers can still see
    NOT_SERVING while the server drains.
    """

    EXEMPT_PREFIXES = ("/grpc.health.v1.", "/grpc.reflection.")

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._in_flight = 0
        self._closed = False
        self._last_arrival = time.monotonic()

    @property
    def in_flight(self) -> int:
        """RPCs running now."""
        with self._cond:
            return self._in_flight

    def applies_to(self, method: str) -> bool:
        """Everything but health and reflection."""
        return not method.startswith(self.EXEMPT_PREFIXES)

    @property
    def closed(self) -> bool:
        """True once `close` was called (the server drains)."""
        with self._cond:
            return self._closed

    def close(self) -> None:
        """Refuses every RPC from now on."""
        with self._cond:
            self._closed = True

    def wait_idle(self, timeout: float) -> bool:
        """Waits until no RPC is in flight; returns False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._in_flight == 0, timeout=timeout)

    def wait_quiet(self, quiet_s: float, timeout: float) -> bool:
        """Waits until no RPC is in flight and none arrived for `quiet_s`; False on timeout.

        A drain uses it before closing connections: callers that still send calls here
        (refused with UNAVAILABLE, which they retry elsewhere) have not noticed the
        drain yet, and a call that reaches a closing server is CANCELLED instead.
        """
        end = time.monotonic() + timeout
        with self._cond:
            while True:
                now = time.monotonic()
                waited = now - self._last_arrival
                if self._in_flight == 0 and waited >= quiet_s:
                    return True
                if now >= end:
                    return False
                self._cond.wait(min(end - now, max(quiet_s - waited, 0.01)))

    def enter(self) -> bool:
        """Counts one more call in flight; False (nothing counted) once closed.

        Every True must be matched by one `leave()`. The HTTP front end uses this pair,
        so that a drain waits for its requests too.
        """
        with self._cond:
            self._last_arrival = time.monotonic()
            if self._closed:
                return False
            self._in_flight += 1
            return True

    def leave(self) -> None:
        """Ends a call counted by `enter()`."""
        with self._cond:
            self._in_flight -= 1
            self._cond.notify_all()

    @contextmanager
    def scope(self, method: str, context: grpc.ServicerContext) -> Iterator[None]:
        """Admits the RPC unless closed, counting it while it runs."""
        if not self.enter():
            context.abort(grpc.StatusCode.UNAVAILABLE, SHUTTING_DOWN)
        try:
            yield
        finally:
            self.leave()


def build_interceptors(gate: ShutdownGate, *inner: CallInterceptor) -> list[CallInterceptor]:
    """The edge's outer layers, outermost first: the request log, `inner`, the gate."""
    return [RequestLogInterceptor(), *inner, gate]
