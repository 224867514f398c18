"""The HTTP server's lifecycle: bind at build time, serve on a thread, stop on drain.

`build_http` binds the port at once (so a port in use fails `dragoman serve` before
anything loads, as the gRPC port does) and returns an `HttpServer`; `start` runs
uvicorn's event loop on its own thread; `stop` makes uvicorn close its listener and
its idle connections. `App.stop` calls it last, after the shutdown gate has refused
new calls and waited for the in-flight ones.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import ssl
import threading
from typing import TYPE_CHECKING, Any

import uvicorn
from dragoman.server.http.app import create_app
from dragoman.server.http.frontend import Frontend
from dragoman.server.tls import TLSSettings

if TYPE_CHECKING:
    from dragoman.engine.service import TranslationEngine
    from dragoman.server.access import AccessControl
    from dragoman.server.health import Health
    from dragoman.server.interceptors import ShutdownGate
    from dragoman.server.metrics import Metrics
    from dragoman.server.servicer import TranslationServicer
    from dragoman.server.settings import Settings

logger = logging.getLogger(__name__)


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to `host:port` (0 picks a free port), not listening yet.

    Raises:
        OSError: The address cannot be bound.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP: asyncio turns Nagle off (TCP_NODELAY) only on sockets that say
    # they are TCP; with proto 0 every keep-alive response waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise OSError(f"cannot listen for HTTP on {host}:{port}: {error.strerror}") from error
    return sock


class HttpServer:
    """uvicorn serving the HTTP application on its own thread.

    Args:
        app: The ASGI application.
        sock: The bound socket.
        frontend: The application's bridge to the engine (its threads stop with it).
    """

    def __init__(
        self, app: object, sock: socket.socket, frontend: Frontend, tls: TLSSettings | None = None
    ) -> None:
        self.socket = sock
        self.host, self.port = sock.getsockname()[:2]
        self.frontend = frontend
        self.scheme = "https" if tls is not None and tls.enabled else "http"
        config = uvicorn.Config(
            app,  # type: ignore[arg-type]
            log_config=None,
            access_log=False,
            lifespan="off",
            server_header=False,
            timeout_graceful_shutdown=5,
            **(_tls_options(tls) if tls is not None and tls.enabled else {}),
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The server's base URL (`http://127.0.0.1:8080`, `https://...` with TLS)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def start(self) -> None:
        """Serves on a daemon thread; returns once uvicorn accepts connections."""
        self._thread = threading.Thread(target=self._run, name="http", daemon=True)
        self._thread.start()
        while not self._server.started and self._thread.is_alive():
            self._thread.join(0.01)
        logger.info("HTTP on %s/ (web page, LibreTranslate and DeepL APIs, /v1)", self.url)

    def _run(self) -> None:
        # SIGTERM and SIGINT are the main thread's (it drains the whole server); this
        # thread and the worker threads it starts (they inherit the mask) never take them.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
        asyncio.run(self._server.serve(sockets=[self.socket]))

    def stop(self, timeout: float = 5.0) -> None:
        """Closes the listener and the connections, then stops the worker threads."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        self.socket.close()
        self.frontend.close()


def _tls_options(tls: TLSSettings) -> dict[str, Any]:
    """uvicorn's TLS options for the gRPC server's certificate (read once, at start)."""
    options: dict[str, Any] = {"ssl_certfile": tls.cert, "ssl_keyfile": tls.key}
    if tls.client_ca:
        options["ssl_ca_certs"] = tls.client_ca
        options["ssl_cert_reqs"] = (
            ssl.CERT_REQUIRED if tls.require_client_cert else ssl.CERT_OPTIONAL
        )
    return options


def build_http(
    settings: Settings,
    engine: TranslationEngine,
    access: AccessControl,
    gate: ShutdownGate,
    health: Health,
    metrics: Metrics | None,
    servicer: TranslationServicer,
) -> HttpServer:
    """The HTTP server for `settings.http`, bound and not started.

    Raises:
        OSError: The HTTP address cannot be bound.
    """
    frontend = Frontend(
        engine=engine,
        access=access,
        gate=gate,
        health=health,
        limits=settings.limits,
        metrics=metrics,
        workers=settings.http.workers,
        auth_required=settings.auth.enabled,
        frontend_timeout_ms=settings.http.frontend_timeout_ms,
    )
    app = create_app(frontend, servicer, settings.http.cors_origins)
    sock = bind(settings.http.host or settings.host, settings.http.port)
    return HttpServer(app, sock, frontend, settings.tls)
