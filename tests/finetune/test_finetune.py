"""dragoman finetune: resume, early stopping, full fine-tune, QLoRA message, evaluate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dragoman.finetune.demo.corpus import write_tsv
from dragoman.finetune.train import FinetuneConfig, FinetuneError, finetune

from dragoman.cli import main

from .conftest import REPO

pytestmark = pytest.mark.slow


@pytest.fixture
def files(demo_build: Any, tmp_path: Path) -> dict[str, Path]:
    out = {"train": tmp_path / "train.tsv", "dev": tmp_path / "dev.tsv"}
    write_tsv(demo_build.corpus.train[:64], out["train"], ("eng_Latn", "qaa_Latn"))
    write_tsv(demo_build.corpus.dev[:8], out["dev"], ("eng_Latn", "qaa_Latn"))
    return out


def _config(demo_build: Any, files: dict[str, Path], output: Path, **kw: Any) -> FinetuneConfig:
    values = {"model": str(demo_build.hf_dir), "train": str(files["train"]),
              "dev": str(files["dev"]), "output": str(output), "batch_size": 8,
              "directions": "eng_Latn-qaa_Latn", "threads": 1, **kw}  # fmt: skip
    return FinetuneConfig.from_mapping(values)


def test_checkpoint_and_resume(demo_build: Any, files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "adapter"
    first = finetune(_config(demo_build, files, out, steps=4, eval_every=2), progress=False)
    assert first.train.steps == 4 and [s for s, _ in first.train.evals] == [2, 4]
    assert (out / "checkpoint" / "trainer_state.pt").is_file()
    assert (out / "adapter_config.json").is_file()
    cfg = _config(demo_build, files, out, steps=6, eval_every=2, resume=True)
    resumed = finetune(cfg, progress=False)
    assert resumed.train.steps == 6
    assert [s for s, _ in resumed.train.evals] == [2, 4, 6]  # continued, not restarted


def test_early_stopping_on_dev_chrf(
    demo_build: Any, files: dict[str, Path], tmp_path: Path
) -> None:
    # A zero learning rate cannot improve dev chrF: stop after `patience` flat evals.
    cfg = _config(demo_build, files, tmp_path / "a", steps=40, eval_every=2, patience=2,
                  learning_rate=0.0)  # fmt: skip
    result = finetune(cfg, progress=False)
    assert result.train.stopped_early
    assert result.train.steps == 6 and result.train.best_step == 2


def test_full_finetune_writes_a_convertible_model(
    demo_build: Any, files: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "full"
    finetune(_config(demo_build, files, out, steps=2, method="full", dev=""), progress=False)
    assert {"model.safetensors", "sentencepiece.bpe.model", "tokenizer.json"} <= {
        p.name for p in out.iterdir()
    }
    assert main(["convert", str(out), "--output", str(tmp_path / "ct2"), "--family", "demo",
                 "--no-parity"]) == 0  # fmt: skip


def test_qlora_without_cuda_says_what_to_do(
    demo_build: Any, files: dict[str, Path], tmp_path: Path
) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is present: QLoRA would run")
    with pytest.raises(FinetuneError, match=r"needs a CUDA GPU.*--method lora"):
        finetune(_config(demo_build, files, tmp_path / "q", steps=1, method="qlora"))


def test_bad_data_fails_before_training(
    demo_build: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.tsv"
    bad.write_text("eng_Latn\tqaa_Latn\nThe dog.\tHun ka.\nA cat.\n", "utf-8")
    out = tmp_path / "never"
    args = ["finetune", "train", "--model", str(demo_build.hf_dir), "--train", str(bad),
            "--output", str(out), "--steps", "1"]  # fmt: skip
    assert main(args) == 2
    assert f"{bad}:3: 1 column(s), the header has 2" in capsys.readouterr().err
    assert not out.exists()
    bad.write_text("eng_Latn\tfra_Latn\nThe dog.\tLe chien.\n", "utf-8")
    assert main(args) == 2
    assert "unknown language code(s) 'fra_Latn'" in capsys.readouterr().err


def test_unknown_setting_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("model: m\ntrain: t.tsv\noutput: o\nrank: 8\n", "utf-8")
    assert main(["finetune", "train", "--config", str(config)]) == 2
    assert "unknown setting(s) ['rank']" in capsys.readouterr().err


def test_evaluate_prints_bleu_and_chrf(
    demo_build: Any, files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    shipped = REPO / "dragoman" / "models" / "demo"
    assert main(["finetune", "evaluate", str(shipped), "--test", str(files["dev"])]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["direction", "BLEU", "chrF", "n"]
    scores = {line.split()[0]: line.split()[1:] for line in lines[1:]}
    assert set(scores) == {"eng_Latn-qaa_Latn", "qaa_Latn-eng_Latn"}
    assert all(float(chrf) >= 90 and n == "8" for _, chrf, n in scores.values())
