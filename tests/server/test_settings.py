"""Settings precedence: flags > DRAGOMAN_* environment > YAML file > defaults."""

from __future__ import annotations

import argparse
from pathlib import Path

import pydantic
import pytest
from dragoman.server import cli
from dragoman.server.settings import Settings, demo_model_dir

YAML = """
port: 6000
host: 0.0.0.0
workers: 7
default_model: second
models:
  - {path: /models/first, device: cpu, intra_threads: 2}
  - {name: second, path: /models/other, device_index: [0, 1]}
limits: {max_contents: 10, max_text_chars: 500}
batching: {max_wait_ms: 9}
"""


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.configure(parser)
    return parser.parse_args(argv)


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("PORT", "HOST", "WORKERS", "MODELS", "LIMITS__MAX_CONTENTS", "DEFAULT_MODEL"):
        monkeypatch.delenv(f"DRAGOMAN_{name}", raising=False)
    path = tmp_path / "dragoman.yaml"
    path.write_text(YAML, encoding="utf-8")
    return path


def test_defaults(config: Path) -> None:
    settings = cli.settings_from_args(_args())
    assert (settings.host, settings.port, settings.metrics_port) == ("127.0.0.1", 50051, 0)
    assert [(m.name, m.path) for m in settings.models] == [("demo", "demo")]
    assert settings.models[0].resolved_path() == str(demo_model_dir())
    assert settings.batching.enabled and settings.limits.max_contents == 1024


def test_yaml_over_defaults(config: Path) -> None:
    settings = cli.settings_from_args(_args("--config", str(config)))
    assert (settings.host, settings.port, settings.workers) == ("0.0.0.0", 6000, 7)
    assert [m.name for m in settings.models] == ["first", "second"]
    assert settings.models[0].intra_threads == 2
    assert settings.models[1].device_index == (0, 1)
    assert settings.default_model == "second"
    assert (settings.limits.max_contents, settings.limits.max_text_chars) == (10, 500)
    assert settings.batching.max_wait_ms == 9
    assert settings.limits.max_request_chars == 1_000_000  # untouched default


def test_env_over_yaml(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRAGOMAN_PORT", "7000")
    monkeypatch.setenv("DRAGOMAN_LIMITS__MAX_CONTENTS", "20")
    settings = cli.settings_from_args(_args("--config", str(config)))
    assert settings.port == 7000
    assert settings.limits.max_contents == 20
    assert settings.limits.max_text_chars == 500  # still from the file
    assert settings.workers == 7


def test_flags_over_env(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRAGOMAN_PORT", "7000")
    monkeypatch.setenv("DRAGOMAN_MODELS", '[{"name": "second", "path": "/env/model"}]')
    args = _args("--config", str(config), "--port", "8000", "--no-batching", "--max-wait-ms", "1")
    settings = cli.settings_from_args(args)
    assert settings.port == 8000
    assert [m.path for m in settings.models] == ["/env/model"]
    assert not settings.batching.enabled and settings.batching.max_wait_ms == 1


def test_model_flags(config: Path) -> None:
    args = _args(
        "--model", "demo", "--model", "big=/models/nllb", "--device", "cpu",
        "--compute-type", "int8_float32", "--default-model", "big",
    )  # fmt: skip
    settings = cli.settings_from_args(args)
    assert [(m.name, m.path) for m in settings.models] == [
        ("demo", "demo"),
        ("big", "/models/nllb"),
    ]
    assert {(m.device, m.compute_type) for m in settings.models} == {("cpu", "int8_float32")}
    assert settings.default_model == "big"


def test_device_flag_applies_to_models_from_the_file(config: Path) -> None:
    settings = cli.settings_from_args(_args("--config", str(config), "--device", "cuda"))
    assert [m.device for m in settings.models] == ["cuda", "cuda"]
    assert settings.models[0].intra_threads == 2


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--port", "70000"], "port"),
        (["--model", "/a/x", "--model", "/b/x"], "unique"),
        (["--default-model", "nope"], "default_model"),
        (["--log-format", "json", "--workers", "0"], "workers"),
    ],
    ids=["port-range", "duplicate-names", "unknown-default", "zero-workers"],
)
def test_invalid_settings_are_refused(config: Path, argv: list[str], says: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=says):
        cli.settings_from_args(_args(*argv))


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Settings.load(tmp_path / "nope.yaml")
    assert cli.run(_args("--config", str(tmp_path / "nope.yaml"))) == 2
