"""Settings of the HTTP front end (`http:` in YAML, `DRAGOMAN_HTTP__*` in the environment)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class HttpSettings(BaseModel):
    """The HTTP server: LibreTranslate/DeepL-compatible APIs, JSON API and web page.

    Attributes:
        enabled: Serve HTTP beside gRPC (`--no-http` turns it off).
        host: Address to listen on; empty = the gRPC `host`.
        port: HTTP port; 0 picks a free one.
        workers: Threads that run engine calls; requests beyond this many at once get
            429 (RESOURCE_EXHAUSTED) at once instead of queueing.
        cors_origins: Origins browsers may call the APIs from (`*` = any, as
            LibreTranslate allows); empty = no CORS headers.
        frontend_timeout_ms: How long the web page waits after typing before it
            translates (LibreTranslate's `frontendTimeout`).
    """

    enabled: bool = True
    host: str = ""
    port: int = Field(default=8080, ge=0, le=65535)
    workers: int = Field(default=64, ge=1)
    cors_origins: list[str] = Field(default_factory=lambda: ["*"])
    frontend_timeout_ms: int = Field(default=500, ge=0)
