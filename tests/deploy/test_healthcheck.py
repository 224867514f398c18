"""deploy/healthcheck.py (the images' HEALTHCHECK) against real dragoman servers, and
`dragoman serve` started the way the images and the Deployment start it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import yaml
from dragoman.server.app import App, build_app
from dragoman.server.settings import Settings

from dragoman.translation.v1 import translation_service_pb2 as pb
from dragoman.translation.v1 import translation_service_pb2_grpc as pb_grpc

REPO = Path(__file__).resolve().parents[2]
PROBE = REPO / "deploy" / "healthcheck.py"
SERVING, NOT_SERVING, UNREACHABLE = 0, 1, 2


def probe(*args: str, env: dict[str, str] | None = None) -> int:
    """Runs the probe as Docker does and returns its exit status."""
    result = subprocess.run(
        [sys.executable, str(PROBE), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    return result.returncode


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture()
def app(tiny_nllb_dir: Path) -> Iterator[App]:
    settings = Settings(
        host="127.0.0.1",
        port=0,
        models=[{"name": "nllb", "path": str(tiny_nllb_dir), "device": "cpu", "intra_threads": 1}],
        workers=8,
        grace_period_s=2.0,
        log_format="text",
        http={"enabled": False},
    )
    app = build_app(settings)
    app.start()
    yield app
    app.stop(grace=1.0)


def test_probe_follows_the_server_lifecycle(app: App) -> None:
    address = f"127.0.0.1:{app.port}"
    assert probe("--address", address) == NOT_SERVING  # listening, model not loaded yet
    app.load()
    assert probe("--address", address) == SERVING
    service = "dragoman.translation.v1.TranslationService"
    assert probe("--address", address, "--service", service) == SERVING
    app.stop(grace=1.0)
    assert probe("--address", address, "--timeout", "1") == UNREACHABLE


def test_probe_reports_an_unknown_service_as_unhealthy(app: App) -> None:
    app.load()
    assert probe("--address", f"127.0.0.1:{app.port}", "--service", "no.such.Service") != 0


def _wait_until_serving(env: dict[str, str], proc: subprocess.Popen[str]) -> bool:
    pause = threading.Event()
    for _ in range(600):  # bounded: model load + warmup of a tiny model
        if proc.poll() is not None:
            return False
        if probe(env=env) == SERVING:
            return True
        pause.wait(0.2)
    return False


def test_serve_as_deployed_reports_health_exposes_metrics_and_drains_on_sigterm(
    tiny_nllb_dir: Path,
) -> None:
    """The cpu overlay's config file plus the Deployment's environment, on loopback."""
    deployment = yaml.safe_load((REPO / "deploy/k8s/base/deployment.yaml").read_text())
    pod = deployment["spec"]["template"]["spec"]
    port, metrics_port = free_port(), free_port()
    models = [{"name": "nllb", "path": str(tiny_nllb_dir), "device": "cpu", "intra_threads": 1}]
    env = {
        **os.environ,
        "DRAGOMAN_HOST": "127.0.0.1",
        "DRAGOMAN_PORT": str(port),
        "DRAGOMAN_METRICS_PORT": str(metrics_port),
        "DRAGOMAN_MODELS": json.dumps(models),  # env beats the YAML's /models/... path
    }
    config = REPO / "deploy/k8s/overlays/cpu/dragoman.yaml"
    dragoman = Path(sys.executable).parent / "dragoman"
    proc = subprocess.Popen(
        [str(dragoman), *pod["containers"][0]["args"][:1], "--config", str(config)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert _wait_until_serving(env, proc), "never SERVING; stderr:\n" + (
            proc.stderr.read() if proc.poll() is not None and proc.stderr else ""
        )
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.TranslationServiceStub(channel)
            request = pb.TranslateTextRequest(contents=["the cat"], target_language_code="fr")
            assert stub.TranslateText(request, timeout=60).translations[0].model == "nllb"
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as r:
            assert r.status == 200
            assert b"# TYPE" in r.read()
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        # The kubelet sends SIGKILL after terminationGracePeriodSeconds; bounded wait.
        code = proc.wait(timeout=120)
        drained = time.monotonic() - started
        assert code == 0
        grace = pod["terminationGracePeriodSeconds"]
        print(f"SIGTERM to exit: {drained:.2f} s (terminationGracePeriodSeconds {grace})")
        assert probe(env=env) == UNREACHABLE
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
