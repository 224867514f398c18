"""The FastAPI application: every HTTP route, the error shapes, request ids and limits.

`create_app(frontend, servicer)` assembles the LibreTranslate-compatible API (at the
root), the DeepL-compatible subset (/v2), the native JSON API (/v1), /healthz and
/readyz, the web page (/) and OpenAPI (/docs, /openapi.json). `RequestMiddleware`
gives every request an id (the caller's `X-Request-Id` when sane), echoes it, logs
one line per request as the gRPC server does, and refuses bodies over
`limits.max_message_bytes` (the gRPC message limit) with 413 in the API's shape.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import grpc
from dragoman.server.http import (
    deepl,
    deepl_documents,
    deepl_glossaries,
    libre,
    libre_files,
    native,
)
from dragoman.server.http.errors import CODE_OF_STATUS, CallError, render
from dragoman.server.http.frontend import Frontend
from dragoman.server.interceptors import REQUEST_ID_HEADER, request_id_for
from dragoman.server.servicer import TranslationServicer
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.staticfiles import StaticFiles

logger = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
#: Paths probed every few seconds: logged at DEBUG, as gRPC health checks are.
QUIET_PATHS = frozenset({"/healthz", "/readyz"})
#: Most bytes of a refused body read and dropped before the connection is closed.
DRAIN_LIMIT_BYTES = 256 * 1024 * 1024


def _too_large(limit: int) -> CallError:
    return CallError(
        grpc.StatusCode.INVALID_ARGUMENT,
        f"the request body is larger than the limit of {limit:,} bytes: send less text per request",
        http_status=413,
    )


class _CountedBody:
    """A request body read through a byte limit; the rest of a refused body is drained.

    Draining matters: a server that closes a connection with unread request bytes sends
    a TCP reset, and the client may lose the 413 it was sent.
    """

    def __init__(self, receive: Receive, limit: int) -> None:
        self._receive = receive
        self._limit = limit
        self._received = 0
        self._done = False
        self.exceeded = False

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self._received += len(message.get("body", b""))
            self._done = not message.get("more_body", False)
            if self._received > self._limit:
                self.exceeded = True
                # Raised inside the route that reads the body: rendered in its shape.
                raise _too_large(self._limit)
        return message

    async def drain(self) -> None:
        """Reads and drops what is left of the body, up to `DRAIN_LIMIT_BYTES`."""
        drained = 0
        while not self._done and drained <= DRAIN_LIMIT_BYTES:
            message = await self._receive()
            if message["type"] != "http.request":
                return
            drained += len(message.get("body", b""))
            self._done = not message.get("more_body", False)


class RequestMiddleware:
    """Request ids, one log line per request, and the body size limit (pure ASGI).

    Args:
        app: The application.
        max_body_bytes: Largest request body accepted.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serves one request."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        rid = request_id_for(headers.get(REQUEST_ID_HEADER))
        scope.setdefault("state", {})["request_id"] = rid
        status = 0
        start = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            declared = int(headers.get("content-length") or 0)
        except ValueError:
            declared = 0
        counted = _CountedBody(receive, self.max_body_bytes)
        try:
            if declared > self.max_body_bytes:
                response = render(scope["path"], _too_large(self.max_body_bytes))
                await response(scope, receive, send_with_id)
                counted.exceeded = True
            else:
                await self.app(scope, counted.receive, send_with_id)
            if counted.exceeded:
                await counted.drain()
        finally:
            self._log(scope, rid, status, start)

    @staticmethod
    def _log(scope: Scope, rid: str, status: int, start: float) -> None:
        path = scope["path"]
        method = f"{scope['method']} {path}"
        client = scope.get("client")
        logger.log(
            logging.DEBUG if path in QUIET_PATHS else logging.INFO,
            "%s %d",
            method,
            status,
            extra={
                "request_id": rid,
                "method": method,
                "code": status,
                "duration_ms": round((time.perf_counter() - start) * 1000, 3),
                "peer": f"{client[0]}:{client[1]}" if client else "",
            },
        )


def _add_error_handlers(app: FastAPI) -> None:
    async def call_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, CallError)
        return render(request.url.path, error)

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        code = CODE_OF_STATUS.get(error.status_code, grpc.StatusCode.UNKNOWN)
        if error.status_code == 404:
            message = f"no such endpoint: {request.method} {request.url.path} (see /docs)"
        elif error.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path} (see /docs)"
        else:
            message = str(error.detail)
        wrapped = CallError(code, message, http_status=error.status_code)
        return render(request.url.path, wrapped)

    async def validation_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        wrapped = CallError(grpc.StatusCode.INVALID_ARGUMENT, f"Invalid request: {problems}")
        return render(request.url.path, wrapped)

    app.add_exception_handler(CallError, call_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)


def _add_health_and_page(app: FastAPI, frontend: Frontend) -> None:
    def status() -> JSONResponse:
        health = frontend.health
        return JSONResponse({"status": health.status}, 200 if health.serving else 503)

    @app.get("/healthz", tags=["health"], summary="The gRPC health state (overall)")
    async def healthz() -> JSONResponse:
        """200 `{"status": "SERVING"}` while serving, else 503 `NOT_SERVING`."""
        return status()

    @app.get("/readyz", tags=["health"], summary="Ready for traffic (HTTP probes)")
    async def readyz() -> JSONResponse:
        """200 once the models are loaded and warm; 503 while loading or draining."""
        return status()

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")


def create_app(
    frontend: Frontend, servicer: TranslationServicer, cors_origins: list[str] | None = None
) -> ASGIApp:
    """The whole HTTP application over `frontend` (and `servicer` for /v1)."""
    # FastAPIOffline: /docs (Swagger UI) and /redoc from assets in a package, no CDN.
    app = FastAPIOffline(
        title="dragoman",
        summary="Machine translation: LibreTranslate- and DeepL-compatible APIs and "
        "the gRPC API's JSON mapping",
        version="1",
    )
    _add_error_handlers(app)
    app.include_router(native.routes(frontend, servicer))
    app.include_router(deepl.routes(frontend))
    app.include_router(deepl_glossaries.routes(frontend))
    app.include_router(deepl_documents.routes(frontend))
    app.include_router(libre.routes(frontend))
    app.include_router(libre_files.routes(frontend, servicer))
    _add_health_and_page(app, frontend)
    wrapped: ASGIApp = app
    if cors_origins:
        wrapped = CORSMiddleware(
            wrapped,
            allow_origins=cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", REQUEST_ID_HEADER],
            expose_headers=[REQUEST_ID_HEADER],
        )
    return RequestMiddleware(wrapped, frontend.limits.max_message_bytes)
