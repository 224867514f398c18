"""`dragoman.admin.v1.AdminService`: API keys, the cache, the circuit breaker, models.

Access is checked by `AccessInterceptor` (the admin token); this servicer only does
the work. The cache and the breaker are optional: without them their RPCs report
`enabled: false` (stats, status) or FAILED_PRECONDITION (clear, reset). The model
version RPCs live in `dragoman.server.admin_models`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import grpc
from dragoman.server.admin_models import ModelAdmin
from dragoman.server.keystore import ApiKeyRecord, KeyNotFound, KeyState, KeyStore

if TYPE_CHECKING:
    from dragoman.engine.breaker import BreakerConfig, BreakerStatus
    from dragoman.engine.cache import CacheStats
    from dragoman.engine.registry import ModelRegistry
from google.protobuf import timestamp_pb2

from dragoman.admin.v1 import admin_service_pb2 as pb
from dragoman.admin.v1 import admin_service_pb2_grpc as pb_grpc

logger = logging.getLogger(__name__)


class CacheControl(Protocol):
    """What the admin service needs from the translation cache."""

    def stats(self) -> CacheStats:
        """Counters and size."""
        ...

    def clear(self) -> int:
        """Removes every entry; returns how many (-1 if unknown)."""
        ...


class BreakerControl(Protocol):
    """What the admin service needs from the circuit breaker."""

    def status(self) -> BreakerStatus:
        """A snapshot."""
        ...

    def reset(self) -> BreakerStatus:
        """Closes the breaker; returns the new snapshot."""
        ...


_KEY_STATES = {KeyState.ACTIVE: pb.API_KEY_STATE_ACTIVE, KeyState.REVOKED: pb.API_KEY_STATE_REVOKED}
#: `BreakerState` member name -> API enum.
_CIRCUIT_STATES = {
    "CLOSED": pb.CIRCUIT_STATE_CLOSED,
    "OPEN": pb.CIRCUIT_STATE_OPEN,
    "HALF_OPEN": pb.CIRCUIT_STATE_HALF_OPEN,
}


def _timestamp(seconds: float | None) -> timestamp_pb2.Timestamp | None:
    if seconds is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromNanoseconds(int(seconds * 1e9))
    return stamp


def key_to_proto(record: ApiKeyRecord) -> pb.ApiKey:
    """An `ApiKeyRecord` as the API's `ApiKey`."""
    return pb.ApiKey(
        key_id=record.key_id,
        display_name=record.display_name,
        state=_KEY_STATES[record.state],
        create_time=_timestamp(record.create_time),
        revoke_time=_timestamp(record.revoke_time),
        request_limit=record.request_limit,
        character_limit=record.character_limit,
    )


class AdminServicer(ModelAdmin, pb_grpc.AdminServiceServicer):
    """Implements AdminService over a key store, a cache, a circuit breaker and models.

    Args:
        keystore: Where API keys live.
        cache: The translation cache; None when the server runs without one.
        breaker: The engine's circuit breaker; None when it has none.
        breaker_config: The breaker's threshold and timeout, for status replies.
        models: The engine's model versions; None for a servicer without an engine.
    """

    def __init__(
        self,
        keystore: KeyStore,
        cache: CacheControl | None = None,
        breaker: BreakerControl | None = None,
        breaker_config: BreakerConfig | None = None,
        models: ModelRegistry | None = None,
    ) -> None:
        self._keys = keystore
        self._models = models
        self._cache = cache
        self._breaker = breaker
        self._breaker_config = breaker_config

    def CreateApiKey(
        self, request: pb.CreateApiKeyRequest, context: grpc.ServicerContext
    ) -> pb.CreateApiKeyResponse:
        """Creates a key and returns its secret once."""
        if request.request_limit < 0 or request.character_limit < 0:
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                "request_limit and character_limit must be >= 0 (0 = the server's default)",
            )
        record, secret = self._keys.create(
            request.display_name, request.request_limit, request.character_limit
        )
        return pb.CreateApiKeyResponse(api_key=key_to_proto(record), secret=secret)

    def ListApiKeys(
        self, request: pb.ListApiKeysRequest, context: grpc.ServicerContext
    ) -> pb.ListApiKeysResponse:
        """Lists keys, without secrets."""
        records = self._keys.list(show_revoked=request.show_revoked)
        return pb.ListApiKeysResponse(api_keys=[key_to_proto(r) for r in records])

    def RevokeApiKey(
        self, request: pb.RevokeApiKeyRequest, context: grpc.ServicerContext
    ) -> pb.RevokeApiKeyResponse:
        """Revokes a key."""
        record = self._change_key(self._keys.revoke, request.key_id, context)
        return pb.RevokeApiKeyResponse(api_key=key_to_proto(record))

    def ReactivateApiKey(
        self, request: pb.ReactivateApiKeyRequest, context: grpc.ServicerContext
    ) -> pb.ReactivateApiKeyResponse:
        """Reactivates a revoked key."""
        record = self._change_key(self._keys.reactivate, request.key_id, context)
        return pb.ReactivateApiKeyResponse(api_key=key_to_proto(record))

    def GetCacheStats(
        self, request: pb.GetCacheStatsRequest, context: grpc.ServicerContext
    ) -> pb.GetCacheStatsResponse:
        """Reports the cache's counters."""
        if self._cache is None:
            return pb.GetCacheStatsResponse(enabled=False)
        stats = self._cache.stats()
        return pb.GetCacheStatsResponse(
            enabled=True,
            backend=stats.backend,
            hits=stats.hits,
            misses=stats.misses,
            errors=stats.errors,
            entries=stats.entries,
            available=stats.available,
        )

    def ClearCache(
        self, request: pb.ClearCacheRequest, context: grpc.ServicerContext
    ) -> pb.ClearCacheResponse:
        """Empties the cache."""
        if self._cache is None:
            context.abort(
                grpc.StatusCode.FAILED_PRECONDITION, "this server runs without a translation cache"
            )
        assert self._cache is not None
        removed = self._cache.clear()
        logger.info("translation cache cleared by admin: %d entries", removed)
        return pb.ClearCacheResponse(removed_entries=removed)

    def GetCircuitBreaker(
        self, request: pb.GetCircuitBreakerRequest, context: grpc.ServicerContext
    ) -> pb.GetCircuitBreakerResponse:
        """Reports the breaker's state."""
        if self._breaker is None:
            return pb.GetCircuitBreakerResponse(enabled=False)
        status = self._breaker.status()
        response = pb.GetCircuitBreakerResponse(
            enabled=True,
            state=_CIRCUIT_STATES[status.state.name],
            consecutive_failures=status.consecutive_failures,
        )
        if self._breaker_config is not None:
            response.enabled = self._breaker_config.enabled
            response.failure_threshold = self._breaker_config.failure_threshold
            response.reset_timeout_seconds = self._breaker_config.reset_timeout
        return response

    def ResetCircuitBreaker(
        self, request: pb.ResetCircuitBreakerRequest, context: grpc.ServicerContext
    ) -> pb.ResetCircuitBreakerResponse:
        """Closes the breaker."""
        if self._breaker is None:
            context.abort(
                grpc.StatusCode.FAILED_PRECONDITION, "this server runs without a circuit breaker"
            )
        assert self._breaker is not None
        status = self._breaker.reset()
        logger.info("circuit breaker reset by admin")
        return pb.ResetCircuitBreakerResponse(state=_CIRCUIT_STATES[status.state.name])

    @staticmethod
    def _change_key(
        change: Callable[[str], ApiKeyRecord], key_id: str, context: grpc.ServicerContext
    ) -> ApiKeyRecord:
        if not key_id:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "key_id is required")
        try:
            return change(key_id)
        except KeyNotFound as error:
            context.abort(grpc.StatusCode.NOT_FOUND, str(error))
            raise  # unreachable: abort raises


def add_admin_service(server: grpc.Server, servicer: AdminServicer) -> str:
    """Registers AdminService on `server`; returns its full name (for reflection)."""
    pb_grpc.add_AdminServiceServicer_to_server(servicer, server)
    return str(pb.DESCRIPTOR.services_by_name["AdminService"].full_name)
