"""The demo build (once per session, cached on disk under the repo's .cache/) and helpers."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache" / "dragoman"


@pytest.fixture(scope="session")
def demo_build() -> object:
    """The demo model built by the pipeline (reused from .cache/ when the recipe matches)."""
    import torch
    from dragoman.finetune.demo.build import DemoRecipe, build_demo
    from dragoman.finetune.demo.cache import locked

    torch.set_num_threads(1)
    recipe = DemoRecipe()
    with locked(CACHE / f"demo-{recipe.digest()}") as work:
        return build_demo(work, recipe, progress=False)


def serve_translate(model_dir: Path, texts: Sequence[str], source: str, target: str) -> list[str]:
    """Translations through dragoman's engine, as the server would produce them."""
    from dragoman.engine.config import ModelSpec
    from dragoman.engine.service import TranslationEngine
    from dragoman.engine.types import CallContext, TranslationRequest

    engine = TranslationEngine([ModelSpec(name="m", path=str(model_dir), intra_threads=1)])
    engine.load()
    try:
        request = TranslationRequest(
            texts=tuple(texts), target_language=target, source_language=source
        )
        return [t.text for t in engine.translate(request, CallContext())]
    finally:
        engine.shutdown(5.0)
