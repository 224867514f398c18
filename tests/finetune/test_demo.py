"""The demo model: held-out quality, int8 parity, and the shipped copy matches the pipeline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from dragoman.finetune.demo.build import DIRECTIONS, DemoRecipe

from dragoman.cli import main

from .conftest import CACHE, REPO, serve_translate

SHIPPED = REPO / "dragoman" / "models" / "demo"
pytestmark = pytest.mark.slow


def test_every_direction_reaches_chrf_90(demo_build: Any) -> None:
    assert set(demo_build.scores) == {f"{s}-{t}" for s, t in DIRECTIONS}
    for direction, scores in demo_build.scores.items():
        assert scores["chrf"] >= 90, direction
        assert scores["sentences"] == 300


def test_int8_parity_with_hf_greedy(demo_build: Any) -> None:
    from dragoman.convert.parity import check_parity, samples_from_rows
    from dragoman.convert.translate import PairCodec
    from dragoman.engine.families import get_family
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    model = AutoModelForSeq2SeqLM.from_pretrained(demo_build.hf_dir).eval()
    codec = PairCodec(AutoTokenizer.from_pretrained(demo_build.hf_dir), get_family("demo"))
    report = check_parity(
        model, codec, demo_build.model_dir, samples_from_rows(demo_build.corpus.test)
    )
    assert report.total == 300 * 6
    assert report.ratio >= 0.99, report.mismatches


def test_shipped_model_matches_the_pipeline(demo_build: Any) -> None:
    shipped = json.loads((SHIPPED / "dragoman.json").read_text())
    assert shipped["demo"]["recipe"] == DemoRecipe().digest()
    assert shipped["family"] == "demo" and shipped["quantization"] == "int8"
    assert [lang["code"] for lang in shipped["languages"]] == ["eng_Latn", "qaa_Latn", "qab_Latn"]
    rows = demo_build.corpus.test[:100]
    same = total = 0
    for source, target in DIRECTIONS:
        texts = [r[source] for r in rows]
        ours = serve_translate(SHIPPED, texts, source, target)
        rebuilt = serve_translate(demo_build.model_dir, texts, source, target)
        same += sum(a == b for a, b in zip(ours, rebuilt, strict=True))
        total += len(texts)
        assert sum(o == r[target] for o, r in zip(ours, rows, strict=True)) >= 95
        assert sum(o == r[target] for o, r in zip(rebuilt, rows, strict=True)) >= 95
    # The build is seeded and single-threaded, so one machine rebuilds it byte for byte;
    # another CPU (other SIMD kernels in torch) trains slightly different weights: an
    # AVX-512 Xeon agreed with the shipped model on 584 of 600 sentences (97.3 %), both
    # at the same held-out quality. Agreement and quality are what must hold.
    assert same / total >= 0.95
    for direction, scores in shipped["demo"]["test"].items():
        assert demo_build.scores[direction]["chrf"] >= scores["chrf"] - 1.0, direction


def test_demo_model_cli_reuses_the_cache_and_refuses_overwrite(
    demo_build: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo"
    args = ["demo-model", "--cache-dir", str(CACHE), "--output", str(out), "--no-progress"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "eng_Latn-qaa_Latn" in text and "qab_Latn-qaa_Latn" in text
    assert (out / "model.bin").read_bytes() == (demo_build.model_dir / "model.bin").read_bytes()
    assert main(args) == 1
    assert "pass --force" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0
