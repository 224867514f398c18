"""`dragoman serve --auth` and `dragoman admin` as real processes, as an operator runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest

from dragoman.translation.v1 import translation_service_pb2 as pb
from dragoman.translation.v1 import translation_service_pb2_grpc as pb_grpc

TOKEN = "process-admin-token-0123456789abcde"


def admin(port: int, *argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dragoman.cli", "admin", "--address", f"127.0.0.1:{port}", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_operator_workflow(
    tiny_nllb_dir: Path, tmp_path: Path, serve_process: Callable[..., Any]
) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "DRAGOMAN_AUTH__ADMIN_TOKEN": TOKEN}
    server = serve_process(
        ["--model", f"tiny={tiny_nllb_dir}", "--port", "0", "--device", "cpu",
         "--intra-threads", "1", "--grace-period", "5", "--log-format", "json",
         "--auth", "--key-db", str(tmp_path / "keys.sqlite3"), "--no-warmup", "--no-http"],
        env,
    )  # fmt: skip
    cli_env = {k: v for k, v in env.items() if not k.startswith("DRAGOMAN_")}
    try:
        port = server.port()
        refused = admin(port, "keys", "list", env=cli_env)
        assert refused.returncode == 2 and "no admin token" in refused.stderr

        cli_env["DRAGOMAN_ADMIN_TOKEN"] = TOKEN
        created = admin(port, "--json", "keys", "create", "--name", "ops", env=cli_env)
        assert created.returncode == 0, created.stderr
        answer = json.loads(created.stdout)
        key, key_id = answer["secret"], answer["api_key"]["key_id"]

        request = pb.TranslateTextRequest(
            contents=["the cat sees the dog"],
            source_language_code="eng_Latn",
            target_language_code="fra_Latn",
        )
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.TranslationServiceStub(channel)
            metadata = (("authorization", f"Bearer {key}"),)
            assert stub.TranslateText(request, metadata=metadata, timeout=30).translations
            with pytest.raises(grpc.RpcError) as info:
                stub.TranslateText(request, timeout=30)
            assert info.value.code() is grpc.StatusCode.UNAUTHENTICATED

            listed = admin(port, "keys", "list", env=cli_env)
            assert listed.returncode == 0 and key_id in listed.stdout and "ops" in listed.stdout
            assert key.rsplit("_", 1)[1] not in listed.stdout
            assert admin(port, "keys", "revoke", key_id, env=cli_env).returncode == 0
            with pytest.raises(grpc.RpcError) as info:
                stub.TranslateText(request, metadata=metadata, timeout=30)
            assert info.value.code() is grpc.StatusCode.UNAUTHENTICATED

        stats = admin(port, "--json", "cache", "stats", env=cli_env)
        assert stats.returncode == 0 and json.loads(stats.stdout)["backend"] == "memory"
        breaker = admin(port, "breaker", "status", env=cli_env)
        assert breaker.returncode == 0 and "CIRCUIT_STATE_CLOSED" in breaker.stdout
    finally:
        server.stop()
    # The secret never reaches the server's log.
    assert all(key.rsplit("_", 1)[1] not in line for line in server.log)
