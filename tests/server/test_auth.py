"""API keys and the admin service against a real server with real (tiny) models."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from dragoman.server import admin_cli
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from dragoman.admin.v1 import admin_service_pb2 as apb
from dragoman.admin.v1 import admin_service_pb2_grpc as apb_grpc
from dragoman.translation.v1 import translation_service_pb2 as pb
from dragoman.translation.v1 import translation_service_pb2_grpc as pb_grpc

ADMIN_TOKEN = "test-admin-token-0123456789abcdefghij"
ADMIN = (("authorization", f"Bearer {ADMIN_TOKEN}"),)


def bearer(key: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {key}"),)


def translate(
    stub: pb_grpc.TranslationServiceStub, metadata: Any = None
) -> pb.TranslateTextResponse:
    request = pb.TranslateTextRequest(
        contents=["the cat sees the dog"],
        source_language_code="eng_Latn",
        target_language_code="fra_Latn",
    )
    return stub.TranslateText(request, metadata=metadata, timeout=30)


@pytest.fixture(scope="module")
def key_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("auth") / "keys.sqlite3"


@pytest.fixture(scope="module")
def secured(server_factory: Any, key_db: Path) -> Any:
    return server_factory(auth={"enabled": True, "key_db": str(key_db), "admin_token": ADMIN_TOKEN})


@pytest.fixture(scope="module")
def chan(secured: Any) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(f"127.0.0.1:{secured.port}") as channel:
        yield channel


@pytest.fixture(scope="module")
def stub(chan: grpc.Channel) -> pb_grpc.TranslationServiceStub:
    return pb_grpc.TranslationServiceStub(chan)


@pytest.fixture(scope="module")
def admin(chan: grpc.Channel) -> apb_grpc.AdminServiceStub:
    return apb_grpc.AdminServiceStub(chan)


def new_key(admin: apb_grpc.AdminServiceStub, **fields: Any) -> apb.CreateApiKeyResponse:
    return admin.CreateApiKey(apb.CreateApiKeyRequest(**fields), metadata=ADMIN, timeout=10)


@pytest.mark.parametrize(
    "metadata",
    [
        None,
        bearer("dgm_0123456789abcdef_not-a-real-secret"),
        bearer(""),
        (("authorization", "Basic dXNlcjpwYXNz"),),
        bearer(ADMIN_TOKEN + "x"),
    ],
    ids=["no-key", "bad-key", "empty-key", "basic-scheme", "near-admin-token"],
)
def test_translation_needs_a_valid_key(stub: pb_grpc.TranslationServiceStub, metadata: Any) -> None:
    with pytest.raises(grpc.RpcError) as info:
        translate(stub, metadata)
    assert info.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert "authorization: Bearer" in info.value.details()
    with pytest.raises(grpc.RpcError) as info:
        stub.ListModels(pb.ListModelsRequest(), metadata=metadata, timeout=10)
    assert info.value.code() is grpc.StatusCode.UNAUTHENTICATED


def test_stream_needs_a_key(stub: pb_grpc.TranslationServiceStub) -> None:
    requests = iter(
        [
            pb.StreamTranslateTextRequest(
                config=pb.StreamingTranslationConfig(target_language_code="fra_Latn")
            ),
            pb.StreamTranslateTextRequest(segment=pb.TranslationSegment(text="the cat")),
        ]
    )
    with pytest.raises(grpc.RpcError) as info:
        list(stub.StreamTranslateText(requests, timeout=30))
    assert info.value.code() is grpc.StatusCode.UNAUTHENTICATED


def test_key_lifecycle(
    stub: pb_grpc.TranslationServiceStub, admin: apb_grpc.AdminServiceStub
) -> None:
    created = new_key(admin, display_name="lifecycle")
    key = created.secret
    assert key.startswith(f"dgm_{created.api_key.key_id}_")
    assert created.api_key.state == apb.API_KEY_STATE_ACTIVE
    response = translate(stub, bearer(key))
    assert len(response.translations) == 1 and response.translations[0].translated_text

    revoked = admin.RevokeApiKey(
        apb.RevokeApiKeyRequest(key_id=created.api_key.key_id), metadata=ADMIN, timeout=10
    )
    assert revoked.api_key.state == apb.API_KEY_STATE_REVOKED
    assert revoked.api_key.HasField("revoke_time")
    with pytest.raises(grpc.RpcError) as info:
        translate(stub, bearer(key))
    assert info.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert "revoked" in info.value.details()

    admin.ReactivateApiKey(
        apb.ReactivateApiKeyRequest(key_id=created.api_key.key_id), metadata=ADMIN, timeout=10
    )
    assert translate(stub, bearer(key)).translations[0].translated_text


def test_list_never_shows_secrets(admin: apb_grpc.AdminServiceStub) -> None:
    created = new_key(admin, display_name="listed", request_limit=7)
    admin.RevokeApiKey(
        apb.RevokeApiKeyRequest(key_id=created.api_key.key_id), metadata=ADMIN, timeout=10
    )
    active = admin.ListApiKeys(apb.ListApiKeysRequest(), metadata=ADMIN, timeout=10)
    every = admin.ListApiKeys(apb.ListApiKeysRequest(show_revoked=True), metadata=ADMIN, timeout=10)
    assert created.api_key.key_id not in [k.key_id for k in active.api_keys]
    listed = {k.key_id: k for k in every.api_keys}[created.api_key.key_id]
    assert listed.request_limit == 7 and listed.display_name == "listed"
    assert created.secret.rsplit("_", 1)[1] not in str(every)


def test_admin_rpcs_refuse_user_keys_and_wrong_tokens(
    admin: apb_grpc.AdminServiceStub,
) -> None:
    user_key = new_key(admin).secret
    cases = [
        (bearer(user_key), grpc.StatusCode.PERMISSION_DENIED),
        (None, grpc.StatusCode.UNAUTHENTICATED),
        (bearer("wrong-admin-token"), grpc.StatusCode.UNAUTHENTICATED),
    ]
    for metadata, code in cases:
        with pytest.raises(grpc.RpcError) as info:
            admin.ListApiKeys(apb.ListApiKeysRequest(), metadata=metadata, timeout=10)
        assert info.value.code() is code, metadata


def test_unknown_key_id_is_not_found(admin: apb_grpc.AdminServiceStub) -> None:
    with pytest.raises(grpc.RpcError) as info:
        admin.RevokeApiKey(apb.RevokeApiKeyRequest(key_id="nope"), metadata=ADMIN, timeout=10)
    assert info.value.code() is grpc.StatusCode.NOT_FOUND


def test_admin_token_may_translate(stub: pb_grpc.TranslationServiceStub) -> None:
    assert translate(stub, ADMIN).translations[0].translated_text


def test_health_and_reflection_stay_open(chan: grpc.Channel) -> None:
    health = health_pb2_grpc.HealthStub(chan)
    status = health.Check(health_pb2.HealthCheckRequest(), timeout=10)
    assert status.status == health_pb2.HealthCheckResponse.SERVING
    reflect = reflection_pb2_grpc.ServerReflectionStub(chan)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    (answer,) = list(reflect.ServerReflectionInfo(iter([request]), timeout=10))
    names = {s.name for s in answer.list_services_response.service}
    assert {"dragoman.translation.v1.TranslationService", "dragoman.admin.v1.AdminService"} <= names


def test_keys_are_stored_hashed(key_db: Path, admin: apb_grpc.AdminServiceStub) -> None:
    secret = new_key(admin, display_name="hashed").secret
    stored = key_db.read_bytes()
    wal = key_db.with_name(key_db.name + "-wal")
    stored += wal.read_bytes() if wal.exists() else b""
    assert secret.encode() not in stored
    assert secret.rsplit("_", 1)[1].encode() not in stored


def run_cli(
    port: int, argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str, str]:
    monkeypatch.setenv("DRAGOMAN_ADMIN_TOKEN", ADMIN_TOKEN)
    parser = argparse.ArgumentParser()
    admin_cli.configure(parser)
    args = parser.parse_args(["--address", f"127.0.0.1:{port}", *argv])
    code = admin_cli.run(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_admin_cli(
    secured: Any,
    stub: pb_grpc.TranslationServiceStub,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out, _ = run_cli(
        secured.port, ["--json", "keys", "create", "--name", "cli"], capsys, monkeypatch
    )
    assert code == 0
    created = json.loads(out)
    key, key_id = created["secret"], created["api_key"]["key_id"]
    assert translate(stub, bearer(key)).translations

    code, out, _ = run_cli(secured.port, ["keys", "list"], capsys, monkeypatch)
    assert code == 0 and key_id in out and "active" in out and key not in out

    assert run_cli(secured.port, ["keys", "revoke", key_id], capsys, monkeypatch)[0] == 0
    with pytest.raises(grpc.RpcError):
        translate(stub, bearer(key))
    assert run_cli(secured.port, ["keys", "reactivate", key_id], capsys, monkeypatch)[0] == 0
    assert translate(stub, bearer(key)).translations

    code, out, _ = run_cli(secured.port, ["--json", "cache", "stats"], capsys, monkeypatch)
    assert code == 0 and isinstance(json.loads(out), dict)
    code, out, _ = run_cli(secured.port, ["breaker", "status"], capsys, monkeypatch)
    assert code == 0 and "enabled" in out

    code, _, err = run_cli(secured.port, ["keys", "revoke", "nope"], capsys, monkeypatch)
    assert code == 1 and "NOT_FOUND" in err
    monkeypatch.setenv("DRAGOMAN_ADMIN_TOKEN", "wrong")
    parser = argparse.ArgumentParser()
    admin_cli.configure(parser)
    code = admin_cli.run(
        parser.parse_args(["--address", f"127.0.0.1:{secured.port}", "keys", "list"])
    )
    assert code == 1 and "UNAUTHENTICATED" in capsys.readouterr().err


def test_admin_service_absent_without_token(server_factory: Any) -> None:
    app = server_factory(load=False)
    with (
        grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel,
        pytest.raises(grpc.RpcError) as info,
    ):
        apb_grpc.AdminServiceStub(channel).ListApiKeys(
            apb.ListApiKeysRequest(), metadata=ADMIN, timeout=10
        )
    assert info.value.code() is grpc.StatusCode.UNIMPLEMENTED


def test_serve_flags_and_environment_merge(monkeypatch: pytest.MonkeyPatch) -> None:
    from dragoman.server import cli

    monkeypatch.setenv("DRAGOMAN_AUTH__ADMIN_TOKEN", "from-env-0123456789abcdefghijklmnopq")
    monkeypatch.setenv("DRAGOMAN_RATE_LIMIT__REQUESTS", "7")
    parser = argparse.ArgumentParser()
    cli.configure(parser)
    argv = ["--auth", "--key-db", "k.db", "--tls-cert", "c.pem", "--tls-key", "k.pem"]
    settings = cli.settings_from_args(parser.parse_args([*argv, "--max-concurrent-rpcs", "9"]))
    assert settings.auth.enabled and settings.auth.key_db == "k.db"
    assert settings.auth.admin_token is not None
    assert settings.auth.admin_token.get_secret_value() == "from-env-0123456789abcdefghijklmnopq"
    assert (settings.tls.cert, settings.tls.key) == ("c.pem", "k.pem")
    assert settings.rate_limit.requests == 7 and not settings.rate_limit.enabled
    assert settings.max_concurrent_rpcs == 9
    assert "from-env-0123456789abcdefghijklmnopq" not in repr(settings)


def test_an_admin_token_shorter_than_32_characters_is_refused() -> None:
    from dragoman.server.settings import Settings
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="31 characters; use at least 32"):
        Settings(auth={"admin_token": "x" * 31})
    assert Settings(auth={"admin_token": "x" * 32}).auth.admin_token is not None


def test_wrong_credentials_are_throttled_per_address(server_factory: Any, tmp_path: Path) -> None:
    app = server_factory(
        auth={
            "enabled": True,
            "key_db": str(tmp_path / "keys.sqlite3"),
            "admin_token": ADMIN_TOKEN,
            "max_failures": 3,
            "failure_window_s": 600,
        }
    )
    with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        stub = pb_grpc.TranslationServiceStub(channel)
        good = new_key(apb_grpc.AdminServiceStub(channel), display_name="good").secret
        wrong = bearer("dgm_0123456789abcdef_guess")
        for _ in range(3):
            with pytest.raises(grpc.RpcError) as info:
                translate(stub, wrong)
            assert info.value.code() is grpc.StatusCode.UNAUTHENTICATED
        # The budget is spent: credentials from this address are refused unchecked,
        # the right one too, and the admin token (guessing it is guessing too).
        for metadata in (wrong, bearer(good), ADMIN):
            with pytest.raises(grpc.RpcError) as info:
                translate(stub, metadata)
            assert info.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "too many wrong API keys or admin tokens" in info.value.details()
            assert int(dict(info.value.trailing_metadata())["retry-after"]) > 0
        with pytest.raises(grpc.RpcError) as info:
            translate(stub)  # no credential: nothing guessed, the usual answer
        assert info.value.code() is grpc.StatusCode.UNAUTHENTICATED
        health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
        assert health.status == health_pb2.HealthCheckResponse.SERVING
    refused = app.metrics.registry.get_sample_value(
        "dragoman_rate_limited_total", {"rpc": "TranslateText", "limit": "auth_failures"}
    )
    assert refused == 3


def test_failure_budget_refills_over_the_window() -> None:
    from dragoman.server.auth import FailureThrottle
    from dragoman.server.ratelimit import RateLimited

    now = [0.0]
    throttle = FailureThrottle(max_failures=2, window_s=60.0, clock=lambda: now[0])
    throttle.failed("ipv4:10.0.0.1")
    throttle.failed("ipv4:10.0.0.1")
    with pytest.raises(RateLimited) as refused:
        throttle.check("ipv4:10.0.0.1")
    assert refused.value.decision.retry_after_s == pytest.approx(30.0)
    throttle.check("ipv4:10.0.0.2")  # addresses are separate
    now[0] += 30.0  # one failure's worth comes back
    throttle.check("ipv4:10.0.0.1")
