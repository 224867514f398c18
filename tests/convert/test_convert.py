"""dragoman convert on tiny local NLLB-200 and M2M100 models: output, metadata, safety."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from dragoman.convert.converter import (
    ConversionError,
    ConvertRequest,
    OutputExistsError,
    ParityError,
    convert,
)
from dragoman.convert.metadata import adapter_sha256
from dragoman.convert.translate import PairCodec, ct2_translate, load_ct2

from dragoman.cli import main

FAMILIES = {"nllb": ("eng_Latn", "fra_Latn", "▁The"), "m2m100": ("en", "fr", "▁The")}


@pytest.mark.parametrize("family", sorted(FAMILIES), ids=sorted(FAMILIES))
def test_converts_each_family(tiny_hf_models: dict[str, Path], tmp_path: Path, family: str) -> None:
    source, target, piece = FAMILIES[family]
    out = tmp_path / "ct2"
    result = convert(ConvertRequest(str(tiny_hf_models[family]), out, quantization="float32"))
    names = {p.name for p in out.iterdir()}
    assert {
        "model.bin",
        "config.json",
        "shared_vocabulary.json",
        "sentencepiece.bpe.model",
        "dragoman.json",
    } <= names
    meta = json.loads((out / "dragoman.json").read_text())
    assert meta["family"] == family
    assert meta["quantization"] == "float32"
    assert meta["format_version"] == 1 and meta["adapters"] == []
    assert meta["base_model"] == str(tiny_hf_models[family])
    codes = [lang["code"] for lang in meta["languages"]]
    assert source in codes and target in codes
    vocabulary = json.loads((out / "shared_vocabulary.json").read_text())
    token = source if family == "nllb" else f"__{source}__"
    assert token in vocabulary and piece in vocabulary
    assert result.parity is not None and result.parity.total > 0
    # Random weights give near-tied logits over 128 greedy steps, where fp32 rounding in
    # CT2 and torch may pick different tokens; exact parity is tested on the trained demo.
    assert result.parity.ratio >= 0.75, result.parity.mismatches


def test_refuses_to_overwrite_without_force(
    tiny_hf_models: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "ct2"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    request = ConvertRequest(str(tiny_hf_models["nllb"]), out, samples=[])
    with pytest.raises(OutputExistsError, match="--force"):
        convert(request)
    assert (out / "keep.txt").read_text() == "mine"
    convert(ConvertRequest(str(tiny_hf_models["nllb"]), out, samples=[], force=True))
    assert not (out / "keep.txt").exists() and (out / "dragoman.json").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["ct2"]


def test_interrupted_conversion_leaves_nothing_that_looks_complete(
    tiny_hf_models: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fault (Ctrl-C halfway through writing the weights) cannot be caused on demand.
    from ctranslate2.converters import TransformersConverter

    real = TransformersConverter.convert

    def interrupted(self: object, output_dir: str, *args: object, **kwargs: object) -> None:
        real(self, output_dir, *args, **kwargs)
        (Path(output_dir) / "model.bin").write_bytes(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(TransformersConverter, "convert", interrupted)
    fresh = tmp_path / "fresh"
    with pytest.raises(KeyboardInterrupt):
        convert(ConvertRequest(str(tiny_hf_models["nllb"]), fresh, samples=[]))
    assert not fresh.exists()
    assert list(tmp_path.iterdir()) == []

    existing = tmp_path / "existing"
    monkeypatch.setattr(TransformersConverter, "convert", real)
    convert(ConvertRequest(str(tiny_hf_models["nllb"]), existing, samples=[]))
    before = (existing / "model.bin").read_bytes()
    monkeypatch.setattr(TransformersConverter, "convert", interrupted)
    with pytest.raises(KeyboardInterrupt):
        convert(ConvertRequest(str(tiny_hf_models["nllb"]), existing, samples=[], force=True))
    assert (existing / "model.bin").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["existing"]


def test_check_threshold_fails_and_writes_nothing(
    tiny_hf_models: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "ct2"
    # A random-weight model in int8 drifts from fp32 HF; no threshold above 100 % can pass.
    with pytest.raises(ParityError, match="below the required") as info:
        convert(ConvertRequest(str(tiny_hf_models["nllb"]), out, check_threshold=1.01))
    assert info.value.report.total == 16
    assert not out.exists()


def test_bad_quantization_and_bad_adapter(tiny_hf_models: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(ConversionError, match="int8, int8_float16"):
        convert(ConvertRequest(str(tiny_hf_models["nllb"]), tmp_path / "a", quantization="int4"))
    with pytest.raises(ConversionError, match="not a LoRA adapter"):
        convert(
            ConvertRequest(str(tiny_hf_models["nllb"]), tmp_path / "b", adapters=(str(tmp_path),))
        )
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def _adapter(base: Path, directory: Path) -> Path:
    import torch
    from peft import LoraConfig, TaskType, get_peft_model
    from transformers import AutoModelForSeq2SeqLM

    model = get_peft_model(
        AutoModelForSeq2SeqLM.from_pretrained(base),
        LoraConfig(
            task_type=TaskType.SEQ_2_SEQ_LM, r=4, target_modules=["q_proj", "v_proj", "fc2"]
        ),
    )
    torch.manual_seed(5)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.normal_(0.0, 0.5)  # an untrained adapter is a no-op; make it count
    model.save_pretrained(directory)
    return directory


def test_merges_adapter_and_records_its_hash(
    tiny_hf_models: dict[str, Path], tmp_path: Path
) -> None:
    from dragoman.engine.families import get_family
    from transformers import AutoTokenizer

    base_dir = tiny_hf_models["nllb"]
    adapter = _adapter(base_dir, tmp_path / "adapter")
    plain = convert(ConvertRequest(str(base_dir), tmp_path / "plain", quantization="float32"))
    merged = convert(
        ConvertRequest(
            str(base_dir), tmp_path / "merged", adapters=(str(adapter),), quantization="float32"
        )
    )
    assert merged.metadata["adapters"] == [{"name": "adapter", "sha256": adapter_sha256(adapter)}]
    assert plain.parity is not None and merged.parity is not None
    assert merged.parity.ratio == 1.0  # CT2 equals the merged HF model
    codec = PairCodec(AutoTokenizer.from_pretrained(base_dir), get_family("nllb"))
    texts = ["The cat sees my house.", "A small dog walks near the river."]
    out_plain = ct2_translate(load_ct2(tmp_path / "plain"), codec, texts, "eng_Latn", "fra_Latn")
    out_merged = ct2_translate(load_ct2(tmp_path / "merged"), codec, texts, "eng_Latn", "fra_Latn")
    assert out_plain != out_merged


def test_cli_convert_then_refuse_then_force(
    tiny_hf_models: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ct2"
    args = [
        "convert",
        str(tiny_hf_models["m2m100"]),
        "--output",
        str(out),
        "--quantization",
        "float32",
    ]
    assert main([*args, "--check", "0.5"]) == 0
    text = capsys.readouterr().out
    assert re.search(r"parity: CT2 equals HF on 1\d/16 \(\d+\.\d%\)", text), text
    assert "family m2m100" in text
    assert main(args) == 1
    assert "already exists; pass --force" in capsys.readouterr().err
    assert main([*args, "--force", "--no-parity"]) == 0
