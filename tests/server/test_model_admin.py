"""AdminService's model RPCs and `dragoman admin models` against a real server.

Hostile calls get a clear status code and change nothing: the served models, the
translations and the health status stay as they were. Then the CLI drives a rollout,
and the per-version metrics follow the loaded versions.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from dragoman.server.app import App
from grpc_health.v1 import health_pb2, health_pb2_grpc

from dragoman import cli
from dragoman.admin.v1 import admin_service_pb2 as apb
from dragoman.admin.v1 import admin_service_pb2_grpc as agrpc
from dragoman.translation.v1 import translation_service_pb2 as pb
from dragoman.translation.v1 import translation_service_pb2_grpc as tgrpc

TOKEN = "model-admin-test-token-0123456789abcdef"
ADMIN = (("authorization", f"Bearer {TOKEN}"),)


@pytest.fixture(scope="module")
def bad_dirs(tmp_path_factory: pytest.TempPathFactory, demo_model_dir: Path) -> dict[str, Path]:
    """Directories that are not (finished) models."""
    root = tmp_path_factory.mktemp("bad-models")
    (root / "a-file").write_text("not a directory", encoding="utf-8")
    (root / "empty").mkdir()
    garbage = root / "garbage"
    shutil.copytree(demo_model_dir, garbage)
    (garbage / "model.bin").write_bytes(b"\x00not weights" * 1000)
    truncated = root / "truncated"
    shutil.copytree(demo_model_dir, truncated)
    size = (truncated / "model.bin").stat().st_size
    with (truncated / "model.bin").open("r+b") as weights:
        weights.truncate(size // 2)
    copying = root / "copying"  # a copy still in progress: no config.json yet
    shutil.copytree(demo_model_dir, copying, ignore=shutil.ignore_patterns("config.json"))
    staging = root / ".v2.partial-123"  # dragoman convert's staging directory
    shutil.copytree(demo_model_dir, staging)
    return {p.name: p for p in root.iterdir()} | {"missing": root / "missing"}


def start(server_factory: Callable[..., App], demo_model_dir: Path, keys: Path) -> App:
    """A server of the demo model (no version) with API keys and the admin token."""
    return server_factory(
        models=[{"name": "demo", "path": str(demo_model_dir), "device": "cpu",
                 "intra_threads": 1}],
        auth={"enabled": True, "admin_token": TOKEN, "key_db": str(keys)},
    )  # fmt: skip


@pytest.fixture(scope="module")
def app(server_factory: Callable[..., App], demo_model_dir: Path, tmp_path_factory: Any) -> App:
    """The server the hostile calls go to (its models never change)."""
    return start(server_factory, demo_model_dir, tmp_path_factory.mktemp("admin") / "k.sqlite3")


@pytest.fixture(scope="module")
def admin(channel: grpc.Channel) -> agrpc.AdminServiceStub:
    return agrpc.AdminServiceStub(channel)


@pytest.fixture(scope="module")
def user(app: App) -> tuple[tuple[str, str], ...]:
    """Metadata of an API key (a user, not an admin)."""
    assert app.security is not None and app.security.keystore is not None
    _, secret = app.security.keystore.create("model-admin-test")
    return (("authorization", f"Bearer {secret}"),)


def translate(channel: grpc.Channel, user: Any, model: str = "") -> str:
    request = pb.TranslateTextRequest(
        contents=["The cat sees the dog."], model=model, source_language_code="en",
        target_language_code="qaa",
    )  # fmt: skip
    stub = tgrpc.TranslationServiceStub(channel)
    return str(stub.TranslateText(request, metadata=user, timeout=30).translations[0].model)


def serving_set(admin: agrpc.AdminServiceStub) -> list[tuple[str, str, int, str]]:
    listed = admin.ListModels(apb.ListModelsRequest(), metadata=ADMIN, timeout=30)
    return [(m.name, v.version, v.weight, v.model) for m in listed.models for v in m.versions]


def _load(name: str, version: str, directory: str) -> Callable[[Any, dict], Any]:
    """LoadModel of one of `bad_dirs` (by its name)."""
    return lambda admin, dirs: admin.LoadModel(
        apb.LoadModelRequest(name=name, version=version, directory=str(dirs[directory])),
        metadata=ADMIN, timeout=60,
    )  # fmt: skip


def _split(name: str, **weights: int) -> Callable[[Any, dict], Any]:
    return lambda admin, dirs: admin.SetTrafficSplit(
        apb.SetTrafficSplitRequest(name=name, weights=weights), metadata=ADMIN, timeout=30
    )


def _unload(name: str, version: str, drain: float = 0) -> Callable[[Any, dict], Any]:
    return lambda admin, dirs: admin.UnloadModel(
        apb.UnloadModelRequest(name=name, version=version, drain_timeout_seconds=drain),
        metadata=ADMIN, timeout=30,
    )  # fmt: skip


HOSTILE = [
    ("unknown-path", _load("demo", "v2", "missing"), grpc.StatusCode.INVALID_ARGUMENT,
     "does not exist"),
    ("a-file", _load("demo", "v2", "a-file"), grpc.StatusCode.INVALID_ARGUMENT,
     "not a directory"),
    ("not-a-model", _load("demo", "v2", "empty"), grpc.StatusCode.INVALID_ARGUMENT,
     "not a finished CTranslate2 model directory"),
    ("garbage-weights", _load("demo", "v2", "garbage"), grpc.StatusCode.INVALID_ARGUMENT,
     "CTranslate2 cannot load"),
    ("half-written-weights", _load("demo", "v2", "truncated"), grpc.StatusCode.INVALID_ARGUMENT,
     "invalid payload size"),
    ("still-copying", _load("demo", "v2", "copying"), grpc.StatusCode.INVALID_ARGUMENT,
     "lacks config.json"),
    ("staging-dir", _load("demo", "v2", ".v2.partial-123"), grpc.StatusCode.INVALID_ARGUMENT,
     "staging"),
    ("no-version", _load("demo", "", "garbage"), grpc.StatusCode.INVALID_ARGUMENT, "required"),
    ("path-as-version", _load("demo", "../v2", "garbage"), grpc.StatusCode.INVALID_ARGUMENT,
     "not valid"),
    ("existing-version", _load("demo", "initial", "garbage"), grpc.StatusCode.ALREADY_EXISTS,
     "already has version"),
    ("weights-short", _split("demo", initial=90), grpc.StatusCode.INVALID_ARGUMENT,
     "add up to 90, not 100"),
    ("weights-over", _split("demo", initial=150, other=-50), grpc.StatusCode.NOT_FOUND,
     "no loaded version 'other'"),
    ("weights-negative", _split("demo", initial=-100), grpc.StatusCode.INVALID_ARGUMENT,
     "negative"),
    ("weights-unknown-name", _split("nope", v1=100), grpc.StatusCode.NOT_FOUND, "unknown model"),
    ("unload-only-default", _unload("demo", "initial"), grpc.StatusCode.FAILED_PRECONDITION,
     "default model"),
    ("unload-unknown", _unload("demo", "v7"), grpc.StatusCode.NOT_FOUND, "no ready version"),
    ("unload-negative-drain", _unload("demo", "initial", -1), grpc.StatusCode.INVALID_ARGUMENT,
     "drain_timeout_seconds"),
]  # fmt: skip


@pytest.mark.parametrize(("call", "code", "message"), [h[1:] for h in HOSTILE],
                         ids=[h[0] for h in HOSTILE])  # fmt: skip
def test_hostile_admin_calls_get_clear_codes_and_change_nothing(
    admin: Any,
    channel: grpc.Channel,
    user: Any,
    bad_dirs: dict,
    call: Any,
    code: Any,
    message: str,
) -> None:
    before = serving_set(admin)
    with pytest.raises(grpc.RpcError) as caught:
        call(admin, bad_dirs)
    assert caught.value.code() == code
    assert message in caught.value.details()
    assert serving_set(admin) == before == [("demo", "initial", 100, "demo")]
    assert translate(channel, user) == "demo"
    health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
    assert health.status == health_pb2.HealthCheckResponse.SERVING


@pytest.mark.parametrize(
    ("metadata", "code"),
    [((), grpc.StatusCode.UNAUTHENTICATED),
     ((("authorization", "Bearer wrong-token"),), grpc.StatusCode.UNAUTHENTICATED),
     (None, grpc.StatusCode.PERMISSION_DENIED)],
    ids=["no-token", "wrong-token", "api-key"],
)  # fmt: skip
def test_model_rpcs_need_the_admin_token(
    admin: Any, user: Any, demo_model_dir: Path, metadata: Any, code: grpc.StatusCode
) -> None:
    request = apb.LoadModelRequest(name="demo", version="v9", directory=str(demo_model_dir))
    with pytest.raises(grpc.RpcError) as caught:
        admin.LoadModel(request, metadata=user if metadata is None else metadata, timeout=30)
    assert caught.value.code() == code
    assert serving_set(admin) == [("demo", "initial", 100, "demo")]


def admin_cli(app: App, *args: str) -> int:
    return cli.main(["admin", "--address", f"127.0.0.1:{app.port}", *args])


def test_cli_rollout_with_per_version_metrics(
    server_factory: Any, demo_model_dir: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    app = start(server_factory, demo_model_dir, tmp_path / "keys.sqlite3")
    assert app.security is not None and app.security.keystore is not None
    user = (("authorization", f"Bearer {app.security.keystore.create('cli')[1]}"),)
    channel = grpc.insecure_channel(f"127.0.0.1:{app.port}")
    monkeypatch.setenv("DRAGOMAN_ADMIN_TOKEN", TOKEN)
    assert admin_cli(app, "models", "load", "demo", "2026-12-01", str(demo_model_dir)) == 0
    assert "demo@2026-12-01" in capsys.readouterr().out
    assert translate(channel, user) == "demo@initial"  # loaded, no traffic yet
    assert translate(channel, user, "demo@2026-12-01") == "demo@2026-12-01"
    assert admin_cli(app, "models", "route", "demo", "initial=90", "2026-12-01=10") == 0
    assert admin_cli(app, "models", "route", "demo", "initial=90", "2026-12-01=20") == 1
    assert "add up to 110" in capsys.readouterr().err
    assert admin_cli(app, "models", "promote", "demo", "2026-12-01") == 0
    assert {translate(channel, user) for _ in range(10)} == {"demo@2026-12-01"}
    assert admin_cli(app, "models", "list") == 0
    listing = capsys.readouterr().out
    assert "2026-12-01" in listing and "100%" in listing

    metrics = app.metrics
    assert metrics is not None
    sample = metrics.registry.get_sample_value
    labels = {"model": "demo", "version": "2026-12-01"}
    assert (sample("dragoman_version_requests_total", {**labels, "outcome": "ok"}) or 0) >= 11
    assert sample("dragoman_version_traffic_weight", labels) == 100
    assert sample("dragoman_version_batch_size_count", labels)

    assert admin_cli(app, "models", "unload", "demo", "initial") == 0
    assert "freed" in capsys.readouterr().out
    assert translate(channel, user) == "demo@2026-12-01"
    initial = {"model": "demo", "version": "initial"}
    assert sample("dragoman_version_traffic_weight", initial) is None
    assert sample("dragoman_queue_depth", {"model": "demo"}) is None  # its batcher's series
    listed = tgrpc.TranslationServiceStub(channel).ListModels(pb.ListModelsRequest(),
                                                              metadata=user)  # fmt: skip
    assert [(v.version, v.weight, v.live) for v in listed.models[0].versions] == [
        ("2026-12-01", 100, True)
    ]
    channel.close()
