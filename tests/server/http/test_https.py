"""HTTP with the gRPC server's TLS settings: the same certificate serves HTTPS."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from dragoman.server.app import App

from .conftest import demo_models


def test_http_serves_tls_with_the_grpc_certificate(
    server_factory: Callable[..., App],
    demo_model_dir: Path,
    tmp_path: Path,
    self_signed: Callable[[Path], tuple[Path, Path]],
) -> None:
    cert, key = self_signed(tmp_path)
    app = server_factory(
        models=demo_models(demo_model_dir), tls={"cert": str(cert), "key": str(key)}
    )
    assert app.http is not None and app.http.url.startswith("https://127.0.0.1:")
    ready = requests.get(f"{app.http.url}/readyz", verify=str(cert), timeout=10)
    assert (ready.status_code, ready.json()) == (200, {"status": "SERVING"})
    plain = app.http.url.replace("https://", "http://")
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{plain}/readyz", timeout=10)
