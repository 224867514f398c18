"""Wiring: the gRPC server, its services and interceptors, and its lifecycle.

`create_server(settings)` returns a ready `(server, port)` for tests and embedding;
`serve(settings)` is `dragoman serve`: it listens at once (health NOT_SERVING), loads
and warms the models, reports SERVING, and drains gracefully on SIGTERM/SIGINT.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
from dragoman.engine.errors import ModelLoadError
from dragoman.engine.glossary_store import GlossaryStore
from dragoman.engine.service import BatchingConfig, ModelSpec, TranslationEngine
from dragoman.engine.validation import RequestLimits
from dragoman.server.edge import EdgeInterceptor, Timeouts
from dragoman.server.guard import AccessInterceptor
from dragoman.server.health import TRANSLATION_SERVICE, Health
from dragoman.server.interceptors import ShutdownGate, build_interceptors
from dragoman.server.logs import configure_logging
from dragoman.server.metrics import LabelValues, Metrics, MetricsInterceptor
from dragoman.server.reliability import health_follows_breaker, make_guardrails
from dragoman.server.security import Security
from dragoman.server.servicer import TranslationServicer
from dragoman.server.settings import Settings
from dragoman.server.transport import Capacity, slot_limits
from dragoman.server.watch import ModelsDirWatcher, newest_versions
from grpc_health.v1 import health, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from dragoman.translation.v1 import translation_service_pb2_grpc as pb_grpc

if TYPE_CHECKING:
    from dragoman.server.http.server import HttpServer

logger = logging.getLogger(__name__)

#: A drain closes connections once no call arrived for this long (callers have moved to
#: other replicas; a call that reaches a closing server is CANCELLED, not refused).
DRAIN_QUIET_S = 0.5


def build_engine(settings: Settings, metrics: Metrics | None = None) -> TranslationEngine:
    """An engine for the models in `settings` (not loaded yet), reporting to `metrics`."""
    specs = [
        ModelSpec(
            name=m.name,
            path=m.resolved_path(),
            device=m.device,
            compute_type=m.compute_type,
            device_index=m.device_index,
            inter_threads=m.inter_threads,
            intra_threads=m.intra_threads,
            max_segment_tokens=m.max_segment_tokens,
            version=m.version,
        )
        for m in settings.models
    ]
    specs += models_dir_specs(settings)
    b = settings.batching
    batching = BatchingConfig(
        enabled=b.enabled,
        max_batch_tokens=b.max_batch_tokens,
        max_batch_size=b.max_batch_size,
        max_wait_ms=b.max_wait_ms,
        max_queue_segments=b.max_queue_segments,
    )
    limits = RequestLimits(
        max_contents=settings.limits.max_contents,
        max_text_chars=settings.limits.max_text_chars,
        max_request_chars=settings.limits.max_request_chars,
    )
    cache, breaker = make_guardrails(
        settings.cache, settings.cache_url, settings.circuit_breaker, metrics,
        settings.cache_secret.get_secret_value(),
    )  # fmt: skip
    engine = TranslationEngine(
        specs, settings.default_model, batching, observer=metrics, cache=cache, breaker=breaker,
        memory_headroom=settings.rollout.memory_headroom,
        limits=limits,
    )  # fmt: skip
    if settings.glossary_dir:
        engine.glossaries = GlossaryStore(settings.glossary_dir)
    return engine


def models_dir_specs(settings: Settings) -> list[ModelSpec]:
    """Each name's newest version under `settings.models_dir` (none without one).

    Raises:
        ModelLoadError: The directory is missing, or holds no model and nothing else
            is configured.
    """
    if not settings.models_dir:
        return []
    root = Path(settings.models_dir)
    if not root.is_dir():
        raise ModelLoadError(f"--models-dir {str(root)!r} is not a directory")
    found = newest_versions(root)
    if not found and not settings.models:
        raise ModelLoadError(
            f"--models-dir {str(root)!r} holds no finished model: lay models out as "
            "DIR/<name>/<version>/ (dragoman convert MODEL --output DIR/<name>/<version>)"
        )
    return [ModelSpec(name=f.name, path=str(f.path), version=f.version) for f in found]


@dataclass
class App:
    """A built server and everything its lifecycle touches."""

    settings: Settings
    server: grpc.Server
    port: int
    engine: TranslationEngine
    health: Health
    gate: ShutdownGate
    security: Security | None = None
    metrics: Metrics | None = None
    watcher: ModelsDirWatcher | None = None
    http: HttpServer | None = None
    capacity: Capacity | None = None

    def start(self) -> None:
        """Starts answering RPCs and HTTP (health reports NOT_SERVING until `load`)."""
        self.server.start()
        if self.http is not None:
            self.http.start()

    def load(self) -> None:
        """Loads (and warms up) every model, then reports SERVING.

        Raises:
            ModelLoadError: A model could not be loaded.
        """
        self.engine.load()
        if self.settings.warmup:
            self.engine.warmup()
        if self.settings.models_dir:
            rollout = self.settings.rollout
            self.watcher = ModelsDirWatcher(
                self.engine.registry, Path(self.settings.models_dir),
                rollout.promote_new_versions, rollout.poll_interval_s,
            )  # fmt: skip
            self.watcher.start()
        self.health.set_serving()
        if self.engine.breaker is not None:
            self.engine.breaker.add_listener(health_follows_breaker(self.health))

    def stop(self, grace: float | None = None) -> None:
        """Drains: NOT_SERVING, refuse new RPCs and HTTP calls, finish in-flight ones, stop.

        Args:
            grace: Seconds in-flight RPCs may take; default `settings.grace_period_s`.
        """
        grace = self.settings.grace_period_s if grace is None else grace
        end = time.monotonic() + grace
        self.health.enter_graceful_shutdown()
        if self.watcher is not None:
            self.watcher.stop()
        self.gate.close()
        logger.info("draining %d in-flight RPCs (grace %.1fs)", self.gate.in_flight, grace)
        if not self.gate.wait_quiet(DRAIN_QUIET_S, grace) and self.gate.in_flight:
            logger.warning("%d RPCs still running after the grace period", self.gate.in_flight)
        self.engine.shutdown(timeout=max(end - time.monotonic(), 0.0))
        # Only open streams exempt from the gate are left (health Watch): end them.
        self.server.stop(grace=min(max(end - time.monotonic(), 0.0), 1.0)).wait()
        if self.http is not None:
            self.http.stop(timeout=max(end - time.monotonic(), 1.0))
        if self.capacity is not None:
            self.capacity.shutdown()
        if self.security is not None:
            self.security.close()
        logger.info("stopped")


def build_app(settings: Settings, engine: TranslationEngine | None = None) -> App:
    """Builds and binds the server; starts nothing and loads nothing.

    Raises:
        OSError: The address cannot be bound.
    """
    metrics = Metrics()
    engine = engine or build_engine(settings, metrics)
    metrics.label_values = LabelValues(engine.list_models, engine.list_languages)
    gate = ShutdownGate()
    security = Security.from_settings(
        settings.auth, settings.rate_limit, settings.tls, settings.cache_url or settings.cache.url
    )
    max_bytes = settings.limits.max_message_bytes
    capacity = Capacity.plan(
        slot_limits(
            settings.max_concurrent_rpcs or settings.workers,
            settings.max_rpcs_per_caller,
            settings.max_streams_per_caller,
        )
    )
    access = security.access(on_reject=metrics.on_reject, slots=capacity.slots)
    connections = settings.connections
    edge = EdgeInterceptor(
        [*build_interceptors(gate, MetricsInterceptor(metrics)), AccessInterceptor(access)],
        capacity.pools,
        capacity.readers,
        Timeouts(connections.receive_timeout_s, connections.stream_idle_timeout_s),
        draining=lambda: gate.closed,
    )
    server = grpc.server(
        # Every method runs on its surface's pool (capacity.pools); this one idles.
        futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="rpc"),
        interceptors=[edge],
        options=[
            ("grpc.max_receive_message_length", max_bytes),
            ("grpc.max_send_message_length", max_bytes),
            # Without this a second server could bind the same port and share traffic.
            ("grpc.so_reuseport", 0),
            *connections.grpc_options(),
        ],
    )
    servicer = TranslationServicer(engine, settings.limits)
    pb_grpc.add_TranslationServiceServicer_to_server(servicer, server)
    health_status = Health()
    health_pb2_grpc.add_HealthServicer_to_server(health_status.servicer, server)
    admin = security.add_services(
        server, engine.cache, engine.breaker, settings.circuit_breaker.to_config(), engine.registry
    )
    reflection.enable_server_reflection(
        (TRANSLATION_SERVICE, health.SERVICE_NAME, *admin, reflection.SERVICE_NAME), server
    )
    address = f"{settings.host}:{settings.port}"
    try:
        port = security.add_port(server, address)
    except RuntimeError as error:
        raise OSError(f"cannot listen on {address}: {error}") from error
    if port == 0:
        raise OSError(f"cannot listen on {address}: is the port in use?")
    http = None
    if settings.http.enabled:
        from dragoman.server.http.server import build_http

        http = build_http(settings, engine, access, gate, health_status, metrics, servicer)
    return App(
        settings, server, port, engine, health_status, gate, security, metrics,
        http=http, capacity=capacity,
    )  # fmt: skip


def create_server(
    settings: Settings, engine: TranslationEngine | None = None
) -> tuple[grpc.Server, int]:
    """A bound server with its models loaded and health SERVING; call `.start()`.

    Args:
        settings: Server settings (`port=0` picks a free port).
        engine: An engine to serve; by default one is built from `settings`.

    Returns:
        The server (not started) and the port it is bound to.
    """
    app = build_app(settings, engine)
    app.load()
    return app.server, app.port


def _start_metrics(settings: Settings, app: App) -> None:
    if settings.metrics_port and app.metrics is not None:
        app.metrics.serve(settings.metrics_port, settings.host, process=True)


def serve(settings: Settings) -> int:
    """Runs the server until SIGTERM or SIGINT; returns the process exit code.

    Raises:
        ModelLoadError: A model could not be loaded (logged; the server is stopped).
        OSError: The address cannot be bound.
    """
    configure_logging(settings.log_format, settings.log_level)
    stop = threading.Event()
    try:
        app = build_app(settings)
    except ModelLoadError as error:
        logger.error("cannot load the models: %s", error)
        raise

    def on_signal(signum: int, frame: object) -> None:
        if stop.is_set():
            # A second signal: stop waiting for in-flight RPCs (they are cancelled).
            logger.warning("second %s: stopping without waiting", signal.Signals(signum).name)
            app.server.stop(0)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, on_signal)
    _start_metrics(settings, app)
    app.start()
    logger.info(
        "listening on %s:%d; loading %s",
        settings.host,
        app.port,
        ", ".join(m.name for m in settings.models),
        extra={"port": app.port},
    )
    try:
        app.load()
    except ModelLoadError as error:
        logger.error("cannot load the models: %s", error)
        app.stop(grace=0)
        raise
    http_port = app.http.port if app.http is not None else None
    logger.info(
        "serving on %s:%d",
        settings.host,
        app.port,
        extra={"port": app.port, "http_port": http_port},
    )
    # Wake up now and then: a signal delivered to another thread only runs its Python
    # handler once this (main) thread executes bytecode again.
    while not stop.wait(1.0):
        pass
    logger.info("shutting down")
    app.stop()
    return 0
