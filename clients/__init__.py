"""Python client of dragoman: sync (`TranslationClient`) and asyncio (`AsyncTranslationClient`).

Typed results, deadlines by default, retries on UNAVAILABLE / RESOURCE_EXHAUSTED only
(exponential backoff, full jitter), keepalive, TLS and API keys, client-side round_robin
over several addresses or a DNS name, and a resumable streaming helper.
"""

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
    Language,
    Model,
    Segment,
    StreamResult,
    Translation,
    TranslationOptions,
)

__all__ = [
    "Alternative",
    "AsyncTranslationClient",
    "Cancelled",
    "ChannelConfig",
    "ClientSettings",
    "ClientStats",
    "DeadlineExceeded",
    "DragomanError",
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
