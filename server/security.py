"""Wiring of the access guardrails into a server, in one place.

`Security.from_settings` builds the key store, the authenticator, the rate limiter
and the admin service from settings; `create_server` then asks it for its
interceptor, registers its services and binds its port (TLS or plaintext).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import grpc
from dragoman.server.access import AccessControl, RejectHook, Surface
from dragoman.server.admin import AdminServicer, BreakerControl, CacheControl, add_admin_service
from dragoman.server.auth import Authenticator, AuthSettings, FailureThrottle
from dragoman.server.concurrency import Slots
from dragoman.server.keystore import KeyStore
from dragoman.server.ratelimit import Limiter, RateLimiter, RateLimitSettings
from dragoman.server.tls import TLSSettings, server_credentials

if TYPE_CHECKING:
    from dragoman.engine.breaker import BreakerConfig
    from dragoman.engine.registry import ModelRegistry

logger = logging.getLogger(__name__)


@dataclass
class Security:
    """The access guardrails of one server.

    Attributes:
        auth: API key and admin token settings.
        rate_limit: Per-caller limits.
        tls: Transport security.
        keystore: Open key store (None when neither auth nor the admin service
            needs one).
        limiter: Rate limiter (None when off).
        authenticator: Who calls.
    """

    auth: AuthSettings = field(default_factory=AuthSettings)
    rate_limit: RateLimitSettings = field(default_factory=RateLimitSettings)
    tls: TLSSettings = field(default_factory=TLSSettings)
    keystore: KeyStore | None = None
    limiter: Limiter | None = None
    authenticator: Authenticator | None = None
    _access: AccessControl | None = field(default=None, init=False, repr=False)

    @classmethod
    def from_settings(
        cls,
        auth: AuthSettings,
        rate_limit: RateLimitSettings,
        tls: TLSSettings,
        cache_url: str = "",
    ) -> Security:
        """Builds the guardrails; opens the key store when auth or admin needs it.

        With rate limits on and `cache_url` set, the buckets live in that Redis or
        Dragonfly, shared by every replica (`rate_limit.shared`).
        """
        keystore = None
        if auth.enabled or auth.admin_token is not None:
            keystore = KeyStore(auth.key_db)
        return cls(
            auth=auth,
            rate_limit=rate_limit,
            tls=tls,
            keystore=keystore,
            limiter=_limiter(rate_limit, cache_url),
            authenticator=Authenticator.from_settings(auth, keystore),
        )

    @property
    def admin_enabled(self) -> bool:
        """True when an admin token is configured (AdminService is served)."""
        return self.auth.admin_token is not None and self.keystore is not None

    def access(
        self, on_reject: RejectHook | None = None, slots: Mapping[Surface, Slots] | None = None
    ) -> AccessControl:
        """The server's one access control, which every transport shares.

        Args:
            on_reject: Told about refusals by a limit; only the first call's counts.
            slots: Bounds on calls held at once, per surface; only the first call's count.
        """
        if self._access is None:
            self._access = AccessControl(
                self.authenticator,
                self.limiter,
                on_reject,
                slots=dict(slots or {}),
                throttle=FailureThrottle.from_settings(self.auth),
            )
        return self._access

    def add_services(
        self,
        server: grpc.Server,
        cache: CacheControl | None = None,
        breaker: BreakerControl | None = None,
        breaker_config: BreakerConfig | None = None,
        models: ModelRegistry | None = None,
    ) -> list[str]:
        """Registers AdminService when enabled; returns service names for reflection."""
        if not self.admin_enabled:
            return []
        assert self.keystore is not None
        servicer = AdminServicer(self.keystore, cache, breaker, breaker_config, models)
        return [add_admin_service(server, servicer)]

    def add_port(self, server: grpc.Server, address: str) -> int:
        """Binds `address` with TLS when configured; returns the port (0 on failure)."""
        if not self.tls.enabled:
            if (self.auth.enabled or self.admin_enabled) and not _loopback(address):
                logger.warning(
                    "API keys and the admin token cross the network in clear text on %s: "
                    "serve TLS (tls.cert, tls.key) or terminate TLS in front of the server",
                    address,
                )
            return int(server.add_insecure_port(address))
        port = int(server.add_secure_port(address, server_credentials(self.tls)))
        mode = "mutual TLS" if self.tls.require_client_cert else "TLS"
        logger.info("listening with %s on %s", mode, address)
        return port

    def close(self) -> None:
        """Closes the key store."""
        if self.keystore is not None:
            self.keystore.close()


def _limiter(settings: RateLimitSettings, cache_url: str) -> Limiter | None:
    if not settings.enabled:
        return None
    if cache_url and settings.shared:
        from dragoman.server.ratelimit_redis import SharedRateLimiter

        logger.info("rate limits shared by every replica through the cache's Redis")
        return SharedRateLimiter.from_settings(settings, cache_url)
    return RateLimiter.from_settings(settings)


def _loopback(address: str) -> bool:
    host = address.rsplit(":", 1)[0].strip("[]")
    return host in ("localhost", "127.0.0.1", "::1") or host.startswith("127.")
