"""Targets, channel options and retry policy: the client's pure logic."""

from __future__ import annotations

import json

import grpc
import pytest
from dragoman.clients import (
    ChannelConfig,
    KeepaliveConfig,
    RetryPolicy,
    TlsConfig,
    TranslationOptions,
    build_target,
)


@pytest.mark.parametrize(
    ("addresses", "target"),
    [
        ("127.0.0.1:50051", "127.0.0.1:50051"),
        ("dns:///dragoman-headless.ml.svc.cluster.local:50051",
         "dns:///dragoman-headless.ml.svc.cluster.local:50051"),
        ("ipv4:10.0.0.1:1,10.0.0.2:1", "ipv4:10.0.0.1:1,10.0.0.2:1"),
        ("127.0.0.1:1,127.0.0.1:2", "ipv4:127.0.0.1:1,127.0.0.1:2"),
        (["127.0.0.1:1", " 127.0.0.2:2 "], "ipv4:127.0.0.1:1,127.0.0.2:2"),
        (["[::1]:1", "[::1]:2"], "ipv6:[::1]:1,[::1]:2"),
        (["localhost:7", "127.0.0.1:8"], "ipv4:127.0.0.1:7,127.0.0.1:8"),
        (["127.0.0.1:1", "127.0.0.1:1"], "ipv4:127.0.0.1:1"),
    ],
    ids=["one", "dns-headless", "ipv4-scheme", "comma", "list", "ipv6", "name", "duplicate"],
)  # fmt: skip
def test_build_target(addresses: str | list[str], target: str) -> None:
    assert build_target(addresses) == target


@pytest.mark.parametrize(
    ("addresses", "message"),
    [
        ("", "no server address"),
        (["127.0.0.1", "127.0.0.2:1"], "host:port"),
        (["127.0.0.1:1", "[::1]:2"], "mix IPv4 and IPv6"),
        (["no-such-host.invalid:1", "127.0.0.1:2"], "cannot resolve"),
    ],
    ids=["empty", "no-port", "mixed-families", "unresolvable"],
)
def test_build_target_rejects(addresses: str | list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_target(addresses)


def test_service_config_balances_round_robin_and_health_checks() -> None:
    config = ChannelConfig(target="dns:///svc:1", health_check_service="")
    service_config = json.loads(config.service_config())
    assert service_config == {
        "loadBalancingConfig": [{"round_robin": {}}],
        "healthCheckConfig": {"serviceName": ""},
    }
    options = dict(config.options())
    assert options["grpc.keepalive_time_ms"] == 60_000
    assert options["grpc.keepalive_timeout_ms"] == 20_000
    assert options["grpc.max_receive_message_length"] == 8 * 1024 * 1024
    assert "grpc.ssl_target_name_override" not in options
    assert config.credentials() is None


def test_options_carry_keepalive_and_tls_name() -> None:
    config = ChannelConfig(
        target="ipv4:10.0.0.1:1",
        tls=TlsConfig(server_name="dragoman.example"),
        keepalive=KeepaliveConfig(time_s=5, timeout_s=1, permit_without_calls=True),
    )
    options = dict(config.options())
    assert options["grpc.keepalive_time_ms"] == 5000
    assert options["grpc.keepalive_permit_without_calls"] == 1
    assert options["grpc.ssl_target_name_override"] == "dragoman.example"
    assert isinstance(config.credentials(), grpc.ChannelCredentials)


def test_tls_needs_cert_and_key_together() -> None:
    with pytest.raises(ValueError, match="needs its key"):
        TlsConfig.from_files(cert="client.pem")


def test_backoff_is_jittered_and_bounded() -> None:
    policy = RetryPolicy(initial_backoff_s=0.1, max_backoff_s=0.4)
    waits = [policy.backoff(attempt) for attempt in (1, 2, 3, 8) for _ in range(200)]
    assert all(0 <= w <= 0.4 for w in waits)
    first = [policy.backoff(1) for _ in range(200)]
    assert max(first) <= 0.1
    assert len({round(w, 6) for w in first}) > 100  # jitter, not a fixed schedule


class _Error(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode) -> None:
        self._code = code

    def code(self) -> grpc.StatusCode:
        return self._code


@pytest.mark.parametrize(
    ("code", "retryable"),
    [
        (grpc.StatusCode.UNAVAILABLE, True),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, True),
        (grpc.StatusCode.INVALID_ARGUMENT, False),
        (grpc.StatusCode.DEADLINE_EXCEEDED, False),
        (grpc.StatusCode.INTERNAL, False),
        (grpc.StatusCode.UNAUTHENTICATED, False),
    ],
    ids=lambda value: getattr(value, "name", str(value)),
)
def test_only_unavailable_and_resource_exhausted_are_retried(
    code: grpc.StatusCode, retryable: bool
) -> None:
    assert RetryPolicy().is_retryable(_Error(code)) is retryable
    assert RetryPolicy().is_retryable(ValueError("not an RPC error")) is False


def test_request_level_options_are_not_decoding_options() -> None:
    from dragoman.clients import Glossary, convert

    assert convert.options_to_proto(None) is None
    only_request_level = TranslationOptions(
        mime_type="text/html", glossary=Glossary("terms"), do_not_translate=("Acme",),
        protect_placeholders=False,
    )  # fmt: skip
    assert convert.options_to_proto(only_request_level) is None
    request = convert.translate_request(["x"], "fr", options=only_request_level)
    assert request.mime_type == "text/html"
    assert request.glossary_config.glossary == "terms"
    assert list(request.do_not_translate) == ["Acme"]
    assert request.disable_placeholder_protection is True
    assert not request.HasField("options")
    best = convert.translate_request(["x"], "fr", options=TranslationOptions(quality="best"))
    assert best.options.quality == 3 and best.disable_placeholder_protection is False
    with pytest.raises(ValueError, match="'fast', 'balanced', 'best'"):
        convert.options_to_proto(TranslationOptions(quality="slow"))
