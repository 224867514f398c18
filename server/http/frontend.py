"""The bridge from HTTP requests to the engine: the same gate, access, metrics and ids.

`Frontend.call` runs one engine call for an HTTP request the way the gRPC interceptors
run an RPC: the shutdown gate counts it (a drain waits for it), the access control
authenticates the caller and charges its budget under the gRPC method the call stands
for, the metrics count it under that method's name, and the work runs in a bounded
thread pool with the request id set, so the event loop never blocks. Whatever fails
becomes a `CallError` with a canonical code.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal, TypeVar

import grpc
from dragoman.engine import errors
from dragoman.engine.service import TranslationEngine
from dragoman.engine.types import CallContext
from dragoman.server.access import AccessControl, RateLimited, peer_name
from dragoman.server.auth import AuthError, Principal, Role
from dragoman.server.errors import OVERLOAD_RETRY_S, status_for
from dragoman.server.health import Health
from dragoman.server.http.errors import CallError
from dragoman.server.interceptors import SHUTTING_DOWN, ShutdownGate, request_id_scope
from dragoman.server.metrics import Metrics
from dragoman.server.servicer import ROUTING_KEY_HEADER, routing_key
from dragoman.server.settings import LimitSettings
from starlette.requests import Request

logger = logging.getLogger(__name__)

T = TypeVar("T")
#: How a call is let in: charged to the caller's budget, authenticated only, or open.
Admission = Literal["charge", "authenticate", "open"]
#: Metadata as gRPC carries it; HTTP credentials are turned into `authorization`.
Metadata = tuple[tuple[str, str], ...]
#: Retry delay suggested to callers refused because every worker is busy.
BUSY_RETRY_S = 1.0

NOT_READY = (
    "the server is not ready: its models are still loading or it is shutting down; retry "
    "shortly (GET /readyz answers 200 when it is ready)"
)


def bearer(key: str | None) -> Metadata:
    """The metadata that carries API key `key` (none when there is no key)."""
    return (("authorization", f"Bearer {key}"),) if key else ()


def _routing_header(request: Request) -> Metadata:
    value = request.headers.get(ROUTING_KEY_HEADER)
    return ((ROUTING_KEY_HEADER, value),) if value else ()


def client_peer(request: Request) -> str:
    """The caller's address, spelled as gRPC spells peers."""
    client = request.client
    return peer_name(client.host, client.port) if client else "unknown"


def request_id(request: Request) -> str:
    """The id the middleware gave this request."""
    return str(getattr(request.state, "request_id", ""))


@dataclass
class Call:
    """What one engine call knows about its caller, inside the worker thread.

    Attributes:
        principal: Who calls (authenticated, budget charged).
        context: Deadline, cancellation and request id for the engine.
        cancel_callbacks: Run when the client goes away (besides `context.cancelled`).
        labels: (model, language pair) for the call's metrics, once known.
        metadata: The call's credentials and routing key, as gRPC metadata.
    """

    principal: Principal
    context: CallContext
    cancel_callbacks: list[Callable[[], None]] = field(default_factory=list)
    labels: tuple[str, str] | None = None
    metadata: Metadata = ()


@dataclass
class Frontend:
    """Everything the HTTP routes share with the gRPC server.

    Attributes:
        engine: The engine (the same object the gRPC servicer uses).
        access: Authentication and rate limits (`Security.access()`).
        gate: The shutdown gate (`App.stop` closes it, then waits for in-flight calls).
        health: The gRPC health state, which /healthz and /readyz report.
        limits: Request limits (texts per request, characters, body bytes).
        metrics: Call counts and latencies, under the gRPC method names.
        workers: Engine calls run at once; beyond it, RESOURCE_EXHAUSTED.
        auth_required: API keys are required (for /frontend/settings and the page).
    """

    engine: TranslationEngine
    access: AccessControl
    gate: ShutdownGate
    health: Health
    limits: LimitSettings
    metrics: Metrics | None = None
    workers: int = 64
    auth_required: bool = False
    frontend_timeout_ms: int = 500
    #: Called by `close` (background work of the routes, such as document jobs).
    on_close: list[Callable[[], None]] = field(default_factory=list)
    _pool: ThreadPoolExecutor | None = field(default=None, init=False, repr=False)
    _busy: int = field(default=0, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def pool(self) -> ThreadPoolExecutor:
        """The worker threads (created on first use, so that building starts nothing)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="http")
        return self._pool

    def close(self) -> None:
        """Stops the worker threads once their calls are done, then runs `on_close`."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        for close in self.on_close:
            close()

    async def call(
        self,
        request: Request,
        method: str,
        work: Callable[[Call], T],
        *,
        metadata: Iterable[tuple[str, str]] = (),
        characters: int = 0,
        admission: Admission = "charge",
    ) -> T:
        """Runs `work` for `request` as a call of gRPC `method`; raises `CallError`.

        Args:
            request: The HTTP request (peer, request id, disconnects).
            method: The gRPC method the call stands for (auth, limits, metrics).
            work: The blocking engine work, run in a worker thread.
            metadata: Credentials as gRPC metadata (see `bearer`).
            characters: Input characters the call costs.
            admission: `charge` the caller's budget, only `authenticate` the caller, or
                let everyone in (`open`, for what LibreTranslate serves openly).
        """
        self._enter_slot()
        record = self.metrics.call(method) if self.metrics is not None else None
        metadata = (*metadata, *_routing_header(request))
        context = CallContext(
            cancelled=threading.Event(),
            request_id=request_id(request),
            routing_key=routing_key(dict(metadata)),
        )
        call = Call(Principal("", Role.ANONYMOUS), context, metadata=tuple(metadata))
        code = grpc.StatusCode.OK
        try:
            if not self.gate.enter():
                raise CallError(grpc.StatusCode.UNAVAILABLE, SHUTTING_DOWN)
            try:
                job = self._job(request, method, work, tuple(metadata), characters, admission)
                return await _run(self.pool, request, job, call)
            finally:
                self.gate.leave()
        except CallError as error:
            code = error.code
            raise
        finally:
            with self._lock:
                self._busy -= 1
            if record is not None:
                if call.labels is not None:
                    record.labels = call.labels
                record.end(code.name)

    def _enter_slot(self) -> None:
        with self._lock:
            if self._busy >= self.workers:
                raise CallError(
                    grpc.StatusCode.RESOURCE_EXHAUSTED,
                    f"the server is serving its maximum of {self.workers} concurrent HTTP "
                    "requests; retry with backoff or on another replica",
                    retry_after_s=BUSY_RETRY_S,
                )
            self._busy += 1

    def _job(
        self,
        request: Request,
        method: str,
        work: Callable[[Call], T],
        metadata: Metadata,
        characters: int,
        admission: Admission,
    ) -> Callable[[Call], T]:
        peer = client_peer(request)
        rid = request_id(request)

        def job(call: Call) -> T:
            with request_id_scope(rid):
                try:
                    if not self.engine.ready:
                        raise CallError(grpc.StatusCode.UNAVAILABLE, NOT_READY)
                    if admission == "charge":
                        call.principal = self.access.admit(method, metadata, peer, characters)
                    elif admission == "authenticate":
                        call.principal = self.access.authenticate(method, metadata, peer)
                    return work(call)
                except CallError:
                    raise
                except Exception as error:
                    raise call_error(error, rid) from error

        return job


async def _run(
    pool: ThreadPoolExecutor, request: Request, job: Callable[[Call], T], call: Call
) -> T:
    """Runs `job` in `pool`, cancelling the call when the client disconnects meanwhile."""
    watcher = asyncio.create_task(_watch_disconnect(request, call))
    try:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(pool, contextvars.copy_context().run, job, call)
    finally:
        watcher.cancel()


async def _watch_disconnect(request: Request, call: Call) -> None:
    """Cancels the call (and runs its cancel callbacks) when the client goes away."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            call.context.cancelled.set()
            for callback in call.cancel_callbacks:
                callback()
            return


def call_error(error: BaseException, request_id: str = "") -> CallError:
    """The `CallError` for an exception raised while serving a call."""
    if isinstance(error, CallError):
        return error
    if isinstance(error, AuthError):
        return CallError(error.code, error.message)
    if isinstance(error, RateLimited):
        decision = error.decision
        return CallError(
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            decision.message,
            retry_after_s=decision.retry_after_s,
            limit=decision.limit,
        )
    if isinstance(error, errors.EngineError):
        retry = OVERLOAD_RETRY_S if isinstance(error, errors.Overloaded) else None
        return CallError(status_for(error), str(error) or type(error).__name__, retry)
    logger.error("unexpected error in request %s", request_id, exc_info=error)
    return CallError(
        grpc.StatusCode.INTERNAL,
        f"internal error; quote request id {request_id!r} when reporting it",
    )
