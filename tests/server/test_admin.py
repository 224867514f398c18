"""AdminService's cache and circuit-breaker RPCs over a real gRPC server.

The cache and the breaker are the engine's real `MemoryCache` and `CircuitBreaker`;
the server carries only the access interceptor and AdminService, so these tests do
not depend on how the engine wires them in.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import pytest
from dragoman.engine.breaker import BreakerConfig, CircuitBreaker
from dragoman.engine.cache import CacheConfig, MemoryCache
from dragoman.server.access import AccessControl
from dragoman.server.admin import AdminServicer, add_admin_service
from dragoman.server.auth import Authenticator
from dragoman.server.edge import EdgeInterceptor
from dragoman.server.guard import AccessInterceptor
from dragoman.server.keystore import KeyStore

from dragoman.admin.v1 import admin_service_pb2 as apb
from dragoman.admin.v1 import admin_service_pb2_grpc as apb_grpc

TOKEN = "admin-test-token-of-32-characters!"
ADMIN = (("authorization", f"Bearer {TOKEN}"),)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def parts(tmp_path: Path) -> Iterator[dict[str, Any]]:
    keys = KeyStore(tmp_path / "keys.db")
    cache = MemoryCache(CacheConfig(ttl_seconds=600, max_entries=100))
    config = BreakerConfig(failure_threshold=2, reset_timeout=30.0)
    breaker = CircuitBreaker(config, clock=Clock())
    access = AccessInterceptor(AccessControl(Authenticator(keys, TOKEN, True)))
    readers = futures.ThreadPoolExecutor(max_workers=4)
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=4),
        interceptors=[EdgeInterceptor([access], {}, readers)],
    )
    add_admin_service(server, AdminServicer(keys, cache, breaker, config))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield {
            "stub": apb_grpc.AdminServiceStub(channel),
            "cache": cache,
            "breaker": breaker,
            "keys": keys,
        }
    server.stop(grace=None)
    readers.shutdown()
    keys.close()


def test_cache_stats_and_clear(parts: dict[str, Any]) -> None:
    stub, cache = parts["stub"], parts["cache"]
    cache.set_many({"a": "1", "b": "2"})
    assert cache.get_many(["a", "x"]) == ["1", None]
    stats = stub.GetCacheStats(apb.GetCacheStatsRequest(), metadata=ADMIN, timeout=10)
    assert (stats.enabled, stats.backend, stats.available) == (True, "memory", True)
    assert (stats.hits, stats.misses, stats.entries) == (1, 1, 2)
    cleared = stub.ClearCache(apb.ClearCacheRequest(), metadata=ADMIN, timeout=10)
    assert cleared.removed_entries == 2
    assert cache.get_many(["a"]) == [None]
    stats = stub.GetCacheStats(apb.GetCacheStatsRequest(), metadata=ADMIN, timeout=10)
    assert stats.entries == 0


def test_breaker_status_and_reset(parts: dict[str, Any]) -> None:
    stub, breaker = parts["stub"], parts["breaker"]
    status = stub.GetCircuitBreaker(apb.GetCircuitBreakerRequest(), metadata=ADMIN, timeout=10)
    assert status.state == apb.CIRCUIT_STATE_CLOSED
    assert (status.failure_threshold, status.reset_timeout_seconds) == (2, 30.0)
    for _ in range(2):
        breaker.record_failure(RuntimeError("device lost"))
    status = stub.GetCircuitBreaker(apb.GetCircuitBreakerRequest(), metadata=ADMIN, timeout=10)
    assert status.state == apb.CIRCUIT_STATE_OPEN and status.consecutive_failures == 2
    reset = stub.ResetCircuitBreaker(apb.ResetCircuitBreakerRequest(), metadata=ADMIN, timeout=10)
    assert reset.state == apb.CIRCUIT_STATE_CLOSED
    breaker.before_call()  # lets calls through again


@pytest.mark.parametrize(
    ("rpc", "request_message"),
    [
        ("GetCacheStats", apb.GetCacheStatsRequest()),
        ("ClearCache", apb.ClearCacheRequest()),
        ("GetCircuitBreaker", apb.GetCircuitBreakerRequest()),
        ("ResetCircuitBreaker", apb.ResetCircuitBreakerRequest()),
    ],
)
def test_user_keys_cannot_touch_cache_or_breaker(
    parts: dict[str, Any], rpc: str, request_message: Any
) -> None:
    _, key = parts["keys"].create("user")
    with pytest.raises(grpc.RpcError) as info:
        getattr(parts["stub"], rpc)(
            request_message, metadata=(("authorization", f"Bearer {key}"),), timeout=10
        )
    assert info.value.code() is grpc.StatusCode.PERMISSION_DENIED


def test_without_cache_and_breaker(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path / "k.db")
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    add_admin_service(server, AdminServicer(keys))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = apb_grpc.AdminServiceStub(channel)
            assert not stub.GetCacheStats(apb.GetCacheStatsRequest(), timeout=10).enabled
            assert not stub.GetCircuitBreaker(apb.GetCircuitBreakerRequest(), timeout=10).enabled
            for call, message in (
                (stub.ClearCache, apb.ClearCacheRequest()),
                (stub.ResetCircuitBreaker, apb.ResetCircuitBreakerRequest()),
            ):
                with pytest.raises(grpc.RpcError) as info:
                    call(message, timeout=10)
                assert info.value.code() is grpc.StatusCode.FAILED_PRECONDITION
            with pytest.raises(grpc.RpcError) as info:
                stub.CreateApiKey(apb.CreateApiKeyRequest(request_limit=-1), timeout=10)
            assert info.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    finally:
        server.stop(grace=None)
        keys.close()


def test_admin_sees_the_served_cache_and_breaker(server_factory: Any, tmp_path: Path) -> None:
    from dragoman.translation.v1 import translation_service_pb2 as pb
    from dragoman.translation.v1 import translation_service_pb2_grpc as pb_grpc

    app = server_factory(
        auth={"key_db": str(tmp_path / "k.db"), "admin_token": TOKEN},
        circuit_breaker={"failure_threshold": 3, "reset_timeout_s": 12.5},
    )
    with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        stub = pb_grpc.TranslationServiceStub(channel)
        admin = apb_grpc.AdminServiceStub(channel)
        request = pb.TranslateTextRequest(
            contents=["the red tree sings"],
            source_language_code="eng_Latn",
            target_language_code="fra_Latn",
        )
        first = stub.TranslateText(request, timeout=30).translations[0]
        second = stub.TranslateText(request, timeout=30).translations[0]
        assert (first.cached, second.cached) == (False, True)
        stats = admin.GetCacheStats(apb.GetCacheStatsRequest(), metadata=ADMIN, timeout=10)
        assert stats.enabled and stats.backend == "memory" and stats.available
        assert stats.hits >= 1 and stats.entries >= 1
        cleared = admin.ClearCache(apb.ClearCacheRequest(), metadata=ADMIN, timeout=10)
        assert cleared.removed_entries == stats.entries
        assert not stub.TranslateText(request, timeout=30).translations[0].cached
        breaker = admin.GetCircuitBreaker(apb.GetCircuitBreakerRequest(), metadata=ADMIN)
        assert (breaker.enabled, breaker.state) == (True, apb.CIRCUIT_STATE_CLOSED)
        assert (breaker.failure_threshold, breaker.reset_timeout_seconds) == (3, 12.5)
