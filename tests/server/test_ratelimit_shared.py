"""Rate limits shared through Redis: three replicas against one real redis-server enforce
one limit per caller, not three; with Redis gone each replica limits in process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
import pytest
from dragoman.server.app import App
from dragoman.server.auth import Principal, Role

from dragoman.translation.v1 import translation_service_pb2 as pb
from dragoman.translation.v1 import translation_service_pb2_grpc as pb_grpc

WINDOW_S = 600.0  # no token comes back during a test


def _replicas(server_factory: Callable[..., App], url: str, **limits: Any) -> list[App]:
    rate_limit = {"enabled": True, "window_s": WINDOW_S, **limits}
    return [
        server_factory(rate_limit=rate_limit, cache_url=url, cache={"enabled": False})
        for _ in range(3)
    ]


def _list_models(app: App) -> grpc.StatusCode:
    with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        try:
            pb_grpc.TranslationServiceStub(channel).ListModels(pb.ListModelsRequest(), timeout=30)
            return grpc.StatusCode.OK
        except grpc.RpcError as error:
            return error.code()  # type: ignore[no-any-return]


def _translate(app: App, text: str) -> tuple[grpc.StatusCode, str]:
    request = pb.TranslateTextRequest(contents=[text], target_language_code="fr")
    with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        try:
            pb_grpc.TranslationServiceStub(channel).TranslateText(request, timeout=60)
            return grpc.StatusCode.OK, ""
        except grpc.RpcError as error:
            return error.code(), error.details()  # type: ignore[attr-defined]


def test_three_replicas_enforce_one_request_limit(
    server_factory: Callable[..., App], redis_server: Any
) -> None:
    replicas = _replicas(server_factory, redis_server.url, requests=5)
    codes = [_list_models(replicas[i % 3]) for i in range(5)]
    assert codes == [grpc.StatusCode.OK] * 5
    # The caller (127.0.0.1) spent its 5 requests across the replicas: each refuses now.
    assert [_list_models(app) for app in replicas] == [grpc.StatusCode.RESOURCE_EXHAUSTED] * 3


def test_characters_and_usage_are_shared(
    server_factory: Callable[..., App], redis_server: Any
) -> None:
    first, second, third = _replicas(server_factory, redis_server.url, characters=100)
    assert _translate(first, "a" * 60)[0] is grpc.StatusCode.OK
    code, details = _translate(second, "b" * 60)
    assert code is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "rate limit of 100 characters" in details
    caller = Principal("peer:ipv4:127.0.0.1", Role.ANONYMOUS)
    assert third.security is not None
    assert third.security.access().usage(caller) == (60, 100)


def test_without_redis_each_replica_limits_in_process(
    server_factory: Callable[..., App], redis_server: Any
) -> None:
    replicas = _replicas(server_factory, redis_server.url, requests=3)
    redis_server.stop()
    first, second, _ = replicas
    assert [_list_models(first) for _ in range(3)] == [grpc.StatusCode.OK] * 3
    assert _list_models(first) is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert _list_models(second) is grpc.StatusCode.OK  # its own budget now
    assert first.health.serving


@pytest.mark.parametrize("shared", [True, False], ids=["shared", "in-process"])
def test_the_setting_chooses_where_buckets_live(
    server_factory: Callable[..., App], redis_server: Any, shared: bool
) -> None:
    from dragoman.server.ratelimit import RateLimiter
    from dragoman.server.ratelimit_redis import SharedRateLimiter

    app = server_factory(rate_limit={"enabled": True, "shared": shared}, cache_url=redis_server.url)
    assert app.security is not None
    expected = SharedRateLimiter if shared else RateLimiter
    assert type(app.security.limiter) is expected
