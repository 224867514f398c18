"""Fixtures of the document tests: the corpus (corpus.py, corpus_office.py) and an engine."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from dragoman.server.app import App, build_app
from dragoman.server.settings import Settings

# The corpus builders are modules beside this file (shared by several test files).
sys.path.insert(0, str(Path(__file__).parent))

from corpus import Sentence, held_out


@pytest.fixture(scope="session")
def sentences() -> list[Sentence]:
    """The held-out sentences the documents are made of."""
    return held_out()


@pytest.fixture(scope="session")
def reference() -> Callable[[str], str]:
    """English held-out sentence (whitespace-normalized) -> its Qaa reference."""
    table = {" ".join(s.eng.split()): s.qaa for s in held_out()}

    def lookup(english: str) -> str:
        return table[" ".join(english.split())]

    return lookup


@pytest.fixture(scope="module")
def app(demo_model_dir: Path) -> Iterator[App]:
    settings = Settings(
        host="127.0.0.1", port=0, workers=16, log_format="text", grace_period_s=2.0,
        http={"enabled": False},
        models=[{"name": "demo", "path": str(demo_model_dir), "device": "cpu",
                 "intra_threads": 1}],
    )  # fmt: skip
    app = build_app(settings)
    app.start()
    app.load()
    yield app
    app.stop(grace=1.0)
