"""Fixtures for the HTTP front end: a real server (gRPC and HTTP) on loopback with the
shipped demo model, and the demo model's held-out sentences with their exact references."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from dragoman.server.app import App

#: Held-out rows the HTTP tests use (the demo model translates them exactly).
HELD_OUT = 8


@pytest.fixture(scope="session")
def held_out() -> list[dict[str, str]]:
    """Held-out demo rows: language code -> sentence (never trained on)."""
    from dragoman.finetune.demo.corpus import CorpusSpec, build_corpus

    return build_corpus(CorpusSpec()).test[:HELD_OUT]


def demo_models(demo_model_dir: Path) -> list[dict[str, Any]]:
    """The demo model as a settings entry."""
    return [{"name": "demo", "path": str(demo_model_dir), "device": "cpu", "intra_threads": 1}]


@pytest.fixture(scope="module")
def http_app(
    demo_model_dir: Path,
    server_factory: Callable[..., App],
    tmp_path_factory: pytest.TempPathFactory,
) -> App:
    """A loaded server with the demo model, HTTP on a free port, and a glossary directory."""
    glossaries = tmp_path_factory.mktemp("glossaries")
    return server_factory(models=demo_models(demo_model_dir), glossary_dir=str(glossaries))


@pytest.fixture(scope="module")
def base_url(http_app: App) -> str:
    """`http://127.0.0.1:PORT` of `http_app`."""
    assert http_app.http is not None
    return http_app.http.url


@pytest.fixture()
def http() -> requests.Session:
    """A plain HTTP session (keep-alive)."""
    with requests.Session() as session:
        yield session
