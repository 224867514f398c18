"""grpcurl against a live server: no .proto needed (reflection), and the README's
grpcurl examples run verbatim against the demo model."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from dragoman.server.app import App

README = Path(__file__).resolve().parents[2] / "README.md"


def _grpcurl() -> str:
    found = shutil.which("grpcurl") or str(Path(sys.executable).parent / "grpcurl")
    if not Path(found).exists():
        pytest.skip("grpcurl is not installed (pip install -e '.[dev]')")
    return found


def _run(port: int, *args: str, data: str | None = None) -> str:
    argv = [_grpcurl(), "-plaintext"]
    if data is not None:
        argv += ["-d", data]
    result = subprocess.run(
        [*argv, f"127.0.0.1:{port}", *args], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_list_and_describe(app: App) -> None:
    services = _run(app.port, "list").split()
    assert "dragoman.translation.v1.TranslationService" in services
    assert "grpc.health.v1.Health" in services
    described = _run(app.port, "describe", "dragoman.translation.v1.TranslationService")
    for rpc in ("TranslateText", "StreamTranslateText", "ListLanguages", "ListModels"):
        assert f"rpc {rpc} (" in described
    message = _run(app.port, "describe", "dragoman.translation.v1.TranslateTextRequest")
    assert "repeated string contents = 1;" in message


def test_health_check(app: App) -> None:
    assert json.loads(_run(app.port, "grpc.health.v1.Health/Check")) == {"status": "SERVING"}


def test_translate_text(app: App) -> None:
    data = json.dumps({"contents": ["The cat walks.", "Big dog!"], "target_language_code": "fr"})
    out = json.loads(_run(app.port, "dragoman.translation.v1.TranslationService/TranslateText",
                          data=data))  # fmt: skip
    assert len(out["translations"]) == 2
    assert all(t["translated_text"] and t["model"] == "nllb" for t in out["translations"])


def test_stream(app: App) -> None:
    data = (
        '{"config": {"target_language_code": "fr", "source_language_code": "en"}}\n'
        '{"segment": {"segment_id": "1", "text": "The cat walks."}}\n'
    )
    out = _run(app.port, "dragoman.translation.v1.TranslationService/StreamTranslateText",
               data=data)  # fmt: skip
    responses = [json.loads(chunk) for chunk in re.split(r"(?<=})\n(?={)", out.strip())]
    assert [(r["segment_id"], r["is_final"]) for r in responses] == [("1", True)]


def readme_examples() -> list[tuple[str, str | None]]:
    """README.md's grpcurl examples: (shell script, its documented output or None).

    A ```sh block may be followed by a ```json block with its output; a ```console
    block is `$ command` followed by its output.
    """
    text = README.read_text(encoding="utf-8")
    examples: list[tuple[str, str | None]] = []
    for script, output in re.findall(r"```sh\n(.*?)```\s*(?:```json\n(.*?)```)?", text, re.S):
        if "grpcurl " in script:
            examples.append((script, output or None))
    for block in re.findall(r"```console\n(.*?)```", text, re.S):
        command, _, output = block.partition("\n")
        if command.startswith("$ grpcurl "):
            examples.append((command.removeprefix("$ "), output))
    return examples


@pytest.fixture(scope="module")
def demo_app(demo_model_dir: Path, server_factory: Callable[..., App]) -> App:
    """A server with the demo model, as `make serve` runs it."""
    return server_factory(models=[{"path": str(demo_model_dir), "name": "demo"}])


def test_readme_examples_run_verbatim(demo_app: App) -> None:
    examples = readme_examples()
    assert len(examples) >= 6, "README.md lost its grpcurl examples"
    env = {**os.environ, "PATH": f"{Path(_grpcurl()).parent}{os.pathsep}{os.environ['PATH']}"}
    for script, documented in examples:
        local = script.replace("127.0.0.1:50051", f"127.0.0.1:{demo_app.port}")
        result = subprocess.run(
            ["bash", "-c", local], capture_output=True, text=True, timeout=300, env=env
        )
        if documented is not None and "ERROR" in documented:
            assert (result.stdout + result.stderr).strip() == documented.strip(), script
            continue
        assert result.returncode == 0, f"{script}\n{result.stderr}"
        if documented is not None:
            assert json.loads(result.stdout) == json.loads(documented), script
