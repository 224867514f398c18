"""Python client of dragoman: sync (`TranslationClient`) and asyncio (`AsyncTranslationClient`).

Typed results, deadlines by default, retries on UNAVAILABLE / RESOURCE_EXHAUSTED only
(exponential backoff, full jitter), keepalive, TLS and API keys, client-side round_robin
over several addresses or a DNS name, and a resumable streaming helper.

The names load on first use, so `dragoman --help` does not import grpc.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dragoman.clients.aio import AsyncTranslationClient
    from dragoman.clients.base import ClientSettings
    from dragoman.clients.channel import ChannelConfig, KeepaliveConfig, TlsConfig, build_target
    from dragoman.clients.errors import (
        Cancelled,
        DeadlineExceeded,
        DragomanError,
        InvalidArgument,
        NotFound,
        PermissionDenied,
        ResourceExhausted,
        Unauthenticated,
        Unavailable,
    )
    from dragoman.clients.retry import ClientStats, RetryPolicy
    from dragoman.clients.sync import TranslationClient
    from dragoman.clients.types import (
        Alternative,
        DetectedLanguage,
        DocumentTranslation,
        Glossary,
        GlossaryEntry,
        Language,
        Model,
        Segment,
        StreamResult,
        Translation,
        TranslationOptions,
    )

#: Public name -> module that defines it.
_EXPORTS: dict[str, str] = {
    "Alternative": "types",
    "AsyncTranslationClient": "aio",
    "Cancelled": "errors",
    "DetectedLanguage": "types",
    "DocumentTranslation": "types",
    "Glossary": "types",
    "GlossaryEntry": "types",
    "ChannelConfig": "channel",
    "ClientSettings": "base",
    "ClientStats": "retry",
    "DeadlineExceeded": "errors",
    "DragomanError": "errors",
    "InvalidArgument": "errors",
    "KeepaliveConfig": "channel",
    "Language": "types",
    "Model": "types",
    "NotFound": "errors",
    "PermissionDenied": "errors",
    "ResourceExhausted": "errors",
    "RetryPolicy": "retry",
    "Segment": "types",
    "StreamResult": "types",
    "TlsConfig": "channel",
    "Translation": "types",
    "TranslationClient": "sync",
    "TranslationOptions": "types",
    "Unauthenticated": "errors",
    "Unavailable": "errors",
    "build_target": "channel",
}

__all__ = [
    "Alternative",
    "AsyncTranslationClient",
    "Cancelled",
    "ChannelConfig",
    "ClientSettings",
    "ClientStats",
    "DeadlineExceeded",
    "DetectedLanguage",
    "DocumentTranslation",
    "DragomanError",
    "Glossary",
    "GlossaryEntry",
    "InvalidArgument",
    "KeepaliveConfig",
    "Language",
    "Model",
    "NotFound",
    "PermissionDenied",
    "ResourceExhausted",
    "RetryPolicy",
    "Segment",
    "StreamResult",
    "TlsConfig",
    "Translation",
    "TranslationClient",
    "TranslationOptions",
    "Unauthenticated",
    "Unavailable",
    "build_target",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
