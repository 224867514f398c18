"""What the sync and asyncio clients share: settings, metadata, deadlines."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from dragoman.clients.channel import ChannelConfig, KeepaliveConfig, TlsConfig, build_target
from dragoman.clients.errors import from_rpc_error
from dragoman.clients.retry import ClientStats, RetryPolicy

logger = logging.getLogger(__name__)

#: Default deadline of a unary call, retries included, in seconds.
DEFAULT_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class ClientSettings:
    """How a client calls dragoman.

    Attributes:
        channel: Connection settings (target, TLS, keepalive, load balancing).
        api_key: Sent as `authorization: Bearer <key>`; None sends none.
        timeout_s: Default deadline of a unary call, retries included; a stream's
            default deadline is `stream_timeout_s`.
        stream_timeout_s: Default deadline of a stream; None is no deadline.
        retry: Retry policy for UNAVAILABLE and RESOURCE_EXHAUSTED.
        wait_for_ready: Queue calls while no server is reachable (until the deadline)
            instead of failing them at once.
        metadata: More metadata sent with every call.
    """

    channel: ChannelConfig
    api_key: str | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S
    stream_timeout_s: float | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    wait_for_ready: bool = False
    metadata: tuple[tuple[str, str], ...] = ()

    @classmethod
    def build(
        cls,
        address: str | Sequence[str],
        *,
        api_key: str | None = None,
        tls: TlsConfig | bool | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        stream_timeout: float | None = None,
        retry: RetryPolicy | None = None,
        keepalive: KeepaliveConfig | None = None,
        load_balancing: str = "round_robin",
        health_check_service: str | None = None,
        wait_for_ready: bool = False,
        metadata: Sequence[tuple[str, str]] = (),
    ) -> ClientSettings:
        """Builds settings from the clients' keyword arguments (see TranslationClient)."""
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, not {timeout}")
        tls_config = TlsConfig() if tls is True else (tls or None)
        channel = ChannelConfig(
            target=build_target(address),
            tls=tls_config,
            keepalive=keepalive or KeepaliveConfig(),
            load_balancing=load_balancing,
            health_check_service=health_check_service,
        )
        return cls(
            channel=channel,
            api_key=api_key,
            timeout_s=timeout,
            stream_timeout_s=stream_timeout,
            retry=retry or RetryPolicy(),
            wait_for_ready=wait_for_ready,
            metadata=tuple(metadata),
        )

    def call_metadata(self) -> tuple[tuple[str, str], ...]:
        """Metadata for every call: the API key and the extra entries."""
        auth = (("authorization", f"Bearer {self.api_key}"),) if self.api_key else ()
        return auth + self.metadata


class ClientBase:
    """Settings and counters of a client."""

    def __init__(self, settings: ClientSettings) -> None:
        self.settings = settings
        self.stats = ClientStats()
        self.metadata = settings.call_metadata()

    @property
    def target(self) -> str:
        """The gRPC target the client's channel resolves."""
        return self.settings.channel.target

    def deadline(self, timeout: float | None, stream: bool = False) -> float | None:
        """Absolute (monotonic) deadline of a call."""
        if timeout is None:
            timeout = self.settings.stream_timeout_s if stream else self.settings.timeout_s
        return None if timeout is None else time.monotonic() + timeout

    @staticmethod
    def remaining(deadline: float | None) -> float | None:
        """Seconds left until `deadline` (at least 1 ms), or None for no deadline."""
        return None if deadline is None else max(0.001, deadline - time.monotonic())

    def call_options(self, deadline: float | None) -> dict[str, Any]:
        """Keyword arguments of one RPC attempt: time left, metadata, wait_for_ready."""
        return {
            "timeout": self.remaining(deadline),
            "metadata": self.metadata,
            "wait_for_ready": self.settings.wait_for_ready,
        }

    def stream_backoff(
        self, error: grpc.RpcError, failures: int, deadline: float | None, pending: int
    ) -> float:
        """After a stream's `failures`-th failure in a row: seconds to wait before reopening.

        Raises:
            DragomanError: The error is not retryable, attempts or time ran out.
        """
        policy = self.settings.retry
        out_of_time = deadline is not None and time.monotonic() >= deadline
        if not policy.is_retryable(error) or failures >= policy.max_attempts or out_of_time:
            raise from_rpc_error(error, failures) from error
        logger.info("stream lost (%s); reopening with %d segments pending", error, pending)
        self.stats.add(stream_reconnects=1)
        return policy.backoff(failures, error)
