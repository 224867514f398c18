"""Fixtures for server tests: real servers on 127.0.0.1:0 serving real CTranslate2 models."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from dragoman.server.app import App, build_app
from dragoman.server.settings import Settings
from grpc_health.v1 import health_pb2, health_pb2_grpc

ServerFactory = Callable[..., App]


def tiny_models(nllb_dir: Path, m2m100_dir: Path) -> list[dict[str, Any]]:
    """The two tiny models as settings entries: `nllb` (default) and `m2m100`."""
    common = {"device": "cpu", "intra_threads": 1}
    return [
        {"name": "nllb", "path": str(nllb_dir), **common},
        {"name": "m2m100", "path": str(m2m100_dir), **common},
    ]


def make_settings(models: list[dict[str, Any]], **overrides: Any) -> Settings:
    """Settings for a test server: a free loopback port, few threads, text logs."""
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 0,
        "models": models,
        "workers": 48,
        "grace_period_s": 5.0,
        "log_format": "text",
        # HTTP on a free port too (never the default 8080: tests run side by side).
        "http": {"port": 0},
    }
    return Settings(**{**values, **overrides})


@pytest.fixture(scope="session")
def tiny_model_settings(tiny_nllb_dir: Path, tiny_m2m100_dir: Path) -> list[dict[str, Any]]:
    """Settings entries of the two tiny models."""
    return tiny_models(tiny_nllb_dir, tiny_m2m100_dir)


@pytest.fixture(scope="module")
def server_factory(tiny_model_settings: list[dict[str, Any]]) -> Iterator[ServerFactory]:
    """Starts servers (tiny models unless `models=` is given); stops them at the end."""
    apps: list[App] = []

    def start(load: bool = True, **overrides: Any) -> App:
        overrides.setdefault("models", tiny_model_settings)
        app = build_app(make_settings(**overrides))
        apps.append(app)
        app.start()
        if load:
            app.load()
        return app

    yield start
    for app in apps:
        app.stop(grace=1.0)


@pytest.fixture(scope="module")
def app(server_factory: ServerFactory) -> App:
    """A loaded server with the tiny `nllb` (default) and `m2m100` models."""
    return server_factory()


@pytest.fixture(scope="module")
def health_stub(channel: grpc.Channel) -> health_pb2_grpc.HealthStub:
    """A Health stub on `channel`."""
    return health_pb2_grpc.HealthStub(channel)


def health_status(stub: health_pb2_grpc.HealthStub, service: str = "") -> str:
    """The health status name the server reports for `service`."""
    response = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(response.status))


@pytest.fixture(scope="session")
def check_health() -> Callable[..., str]:
    """`check_health(stub, service="")`: the status name the server reports."""
    return health_status


class ServeProcess:
    """`dragoman serve` in a subprocess; its stderr (JSON log) lines are collected."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dragoman.cli", "serve", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"} if env is None else env,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.append(line)
            self.lines.put(line)
        self.lines.put("")

    def port(self) -> int:
        """Waits for the 'serving on' log record and returns its port."""
        while line := self.lines.get(timeout=120):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if record.get("message", "").startswith("serving on"):
                return int(record["port"])
        raise AssertionError("dragoman serve exited early:\n" + "".join(self.log))

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited within a minute."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self) -> None:
        """SIGKILL if still running."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="session")
def serve_process() -> type[ServeProcess]:
    """`serve_process(args, env=None)`: `dragoman serve` in a subprocess (`ServeProcess`)."""
    return ServeProcess
