"""The domain-adapter demo: a LoRA adapter learns workshop terms without hurting the rest.

Trained once (about two CPU minutes) and cached under .cache/ next to the demo build.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from dragoman.cli import main

from .conftest import serve_translate

pytestmark = pytest.mark.slow
DIRECTION = ("eng_Latn", "qaa_Latn")
SETTINGS = {
    "method": "lora", "r": 16, "alpha": 32, "dropout": 0.05, "directions": "eng_Latn-qaa_Latn",
    "steps": 400, "batch_size": 32, "learning_rate": 3e-3, "warmup_steps": 30, "threads": 1,
    "seed": 1,
}  # fmt: skip


@pytest.fixture(scope="session")
def domain_adapter(demo_build: Any) -> dict[str, Path]:
    """Domain files and a LoRA adapter trained on them with `dragoman finetune train`."""
    from dragoman.finetune.demo.cache import locked
    from dragoman.finetune.demo.domain import write_domain_files

    key = hashlib.sha256(json.dumps([demo_build.hf_dir.name, SETTINGS]).encode()).hexdigest()
    with locked(demo_build.hf_dir.parent / f"domain-{key[:12]}") as work:
        files = write_domain_files(demo_build.corpus, work / "data")
        adapter = work / "adapter"
        if not (adapter / "adapter_config.json").is_file():
            config = work / "finetune.yaml"
            config.write_text(json.dumps(SETTINGS))  # JSON is YAML
            args = ["finetune", "train", "--config", str(config), "--model",
                    str(demo_build.hf_dir), "--train", str(files["train"]),
                    "--output", str(adapter), "--no-progress"]  # fmt: skip
            assert main(args) == 0
        return {**files, "adapter": adapter}


def _chrf(translate: Any, file: Path) -> float:
    from dragoman.finetune.data import read_rows
    from dragoman.finetune.evaluate import evaluate

    rows = read_rows(file)
    return evaluate(translate, rows, [DIRECTION])["-".join(DIRECTION)].chrf


def test_adapter_raises_domain_chrf_and_keeps_general(
    demo_build: Any, domain_adapter: dict[str, Path]
) -> None:
    from dragoman.finetune.evaluate import translator_for

    base, tuned = (
        translator_for(str(demo_build.hf_dir)),
        translator_for(str(domain_adapter["adapter"])),
    )
    domain_gain = _chrf(tuned, domain_adapter["test"]) - _chrf(base, domain_adapter["test"])
    general_drop = _chrf(base, domain_adapter["general_test"]) - _chrf(
        tuned, domain_adapter["general_test"]
    )
    assert domain_gain >= 20
    assert general_drop <= 1


def test_merged_ct2_model_shows_the_same_change_when_served(
    demo_build: Any, domain_adapter: dict[str, Path], tmp_path: Path
) -> None:
    from dragoman.convert.metadata import adapter_sha256, read_metadata
    from dragoman.finetune.metrics import chrf

    out = tmp_path / "demo-workshop"
    args = ["convert", str(demo_build.hf_dir), "--output", str(out), "--adapter",
            str(domain_adapter["adapter"]), "--family", "demo", "--check", "0.95",
            "--sample", str(domain_adapter["general_test"]), "--sample-size", "50"]  # fmt: skip
    assert main(args) == 0
    meta = read_metadata(out)
    assert meta["adapters"] == [
        {"name": "adapter", "sha256": adapter_sha256(domain_adapter["adapter"])}
    ]

    def served(model_dir: Path, file: Path) -> float:
        from dragoman.finetune.data import read_rows

        rows = read_rows(file)
        texts = [r[DIRECTION[0]] for r in rows]
        return chrf(serve_translate(model_dir, texts, *DIRECTION), [r[DIRECTION[1]] for r in rows])

    base, tuned = demo_build.model_dir, out
    assert served(tuned, domain_adapter["test"]) - served(base, domain_adapter["test"]) >= 20
    general = domain_adapter["general_test"]
    assert served(base, general) - served(tuned, general) <= 1
