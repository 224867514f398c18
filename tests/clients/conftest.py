"""Fixtures for client tests: a real dragoman server on 127.0.0.1:0 with a real model.

The server serves the shipped demo model when it is built, else the tiny NLLB-convention
model from tests/conftest.py (random weights: meaningless but deterministic output).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
DEMO_DIR = REPO / "dragoman" / "models" / "demo"


@dataclass(frozen=True)
class ModelUnderTest:
    """The model the live servers serve, and a language pair it has."""

    name: str
    path: Path
    source: str
    target: str


@pytest.fixture(scope="session")
def served_model(request: pytest.FixtureRequest) -> ModelUnderTest:
    """The demo model if built, otherwise the tiny NLLB-convention model."""
    if (DEMO_DIR / "model.bin").is_file():
        return ModelUnderTest("demo", DEMO_DIR, "eng_Latn", "qaa_Latn")
    path = request.getfixturevalue("tiny_nllb_dir")
    return ModelUnderTest("nllb", Path(path), "eng_Latn", "fra_Latn")


def server_settings(model: ModelUnderTest, **overrides: Any) -> Any:
    """Settings of a small test server for `model` on a free loopback port."""
    from dragoman.server.settings import Settings

    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 0,
        "models": [
            {"name": model.name, "path": str(model.path), "device": "cpu", "intra_threads": 1}
        ],
        "workers": 32,
        "grace_period_s": 2.0,
        "log_format": "text",
        "log_level": "WARNING",
    }
    return Settings(**{**values, **overrides})


@pytest.fixture(scope="module")
def live_server(served_model: ModelUnderTest) -> Iterator[str]:
    """A started server; yields its address `127.0.0.1:PORT`."""
    from dragoman.server.app import create_server

    server, port = create_server(server_settings(served_model))
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop(grace=None)
