"""The transport-neutral access core: keys, budgets and usage, shared by gRPC and HTTP."""

from __future__ import annotations

import grpc
import pytest
from dragoman.server.access import TRANSLATE_TEXT, AccessControl, RateLimited, peer_name
from dragoman.server.auth import Authenticator, AuthError, Role
from dragoman.server.keystore import KeyStore
from dragoman.server.ratelimit import Limits, RateLimiter

DETECT = "/dragoman.translation.v1.TranslationService/DetectLanguage"
HEALTH = "/grpc.health.v1.Health/Check"


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def keys() -> KeyStore:
    return KeyStore(":memory:")


def test_keys_are_checked_the_same_way_for_every_transport(keys: KeyStore) -> None:
    _, key = keys.create("ci", character_limit=100)
    access = AccessControl(Authenticator(keys, None, require_keys=True))
    principal = access.admit(TRANSLATE_TEXT, [("authorization", f"Bearer {key}")], "ipv4:1.2.3.4:9")
    assert principal.role is Role.USER and principal.limits == Limits(0, 100)
    with pytest.raises(AuthError) as missing:
        access.admit(TRANSLATE_TEXT, [], "ipv4:1.2.3.4:9")
    assert missing.value.code is grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(AuthError, match="unknown API key"):
        access.admit(TRANSLATE_TEXT, [("authorization", "Bearer dgm_x_y")], "ipv4:1.2.3.4:9")


def test_a_refused_call_raises_with_its_decision_and_pays_nothing() -> None:
    clock = Clock()
    rejected: list[tuple[str, str]] = []
    limiter = RateLimiter(10.0, Limits(requests=2, characters=100), clock=clock)
    access = AccessControl(None, limiter, on_reject=lambda m, k: rejected.append((m, k)))
    access.admit(TRANSLATE_TEXT, None, "ipv4:10.0.0.1:1", characters=60)
    with pytest.raises(RateLimited) as refused:
        access.admit(TRANSLATE_TEXT, None, "ipv4:10.0.0.1:2", characters=60)
    assert refused.value.decision.limit == "characters"
    assert refused.value.caller == "peer:ipv4:10.0.0.1", "the port is not part of the caller"
    assert rejected == [(TRANSLATE_TEXT, "characters")]
    principal = access.authenticate(TRANSLATE_TEXT, None, "ipv4:10.0.0.1:3")
    assert access.usage(principal) == (60, 100)
    clock.now += 3.0  # 10 characters per second come back
    assert access.usage(principal) == (30, 100)
    # Every TranslationService method is metered (DetectLanguage reads up to 1M
    # characters); health checks are not.
    with pytest.raises(RateLimited):
        access.admit(DETECT, None, "ipv4:10.0.0.1:4", characters=1000)
    for _ in range(5):
        access.admit(HEALTH, None, "ipv4:10.0.0.1:4")


def test_usage_without_limits_is_zero() -> None:
    access = AccessControl(None, RateLimiter(10.0, Limits(requests=5)))
    principal = access.admit(TRANSLATE_TEXT, None, "ipv4:10.0.0.1:1", characters=40)
    assert access.usage(principal) == (0, 0)
    assert AccessControl().usage(principal) == (0, 0)


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [("127.0.0.1", 5000, "ipv4:127.0.0.1:5000"), ("::1", 5000, "ipv6:[::1]:5000")],
    ids=["ipv4", "ipv6"],
)
def test_peer_names_match_grpc_spelling(host: str, port: int, expected: str) -> None:
    assert peer_name(host, port) == expected
