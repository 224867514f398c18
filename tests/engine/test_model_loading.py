"""Model directories, device and compute-type choice, options, detection."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from dragoman.engine.config import ModelSpec
from dragoman.engine.detect import detect_language
from dragoman.engine.errors import InvalidOption, ModelLoadError
from dragoman.engine.families import get_family
from dragoman.engine.manifest import demo_model_path, read_manifest, resolve_model_path
from dragoman.engine.model import TranslationModel, max_decoding_length, pick_compute_type
from dragoman.engine.types import DecodingOptions
from dragoman.engine.validation import normalize_options


def test_manifest_names_family_and_languages(tiny_model_factory: Callable[..., Path]) -> None:
    path = tiny_model_factory("m2m100", manifest=True)
    model = TranslationModel(ModelSpec("m", str(path), device="cpu"))
    assert model.family.name == "m2m100"
    assert model.languages.codes == ("de", "en", "fr", "ru", "zh")
    assert model.languages.get("en").display_name == "Tiny en"
    assert model.languages.lookup("x-en") == "en"  # the manifest's own alias
    assert model.languages.lookup("eng_Latn") == "en"  # and the family's


def test_inferred_without_manifest(tiny_nllb_dir: Path) -> None:
    manifest = read_manifest(tiny_nllb_dir)
    assert manifest.family.name == "nllb"
    assert [lang.code for lang in manifest.languages][:2] == ["eng_Latn", "fra_Latn"]
    assert manifest.languages[0].display_name == "English"
    assert manifest.tokenizer_path.name == "sentencepiece.bpe.model"


def _copy(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


BROKEN = {
    "no-model-bin": (lambda d: (d / "model.bin").unlink(), "no model.bin"),
    "bad-json": (lambda d: (d / "dragoman.json").write_text("{"), "malformed"),
    "unknown-family": (
        lambda d: (d / "dragoman.json").write_text(json.dumps({"family": "marian"})),
        "known families are: demo, m2m100, nllb",
    ),
    "no-tokenizer": (lambda d: (d / "sentencepiece.bpe.model").unlink(), "has no tokenizer"),
}


@pytest.mark.parametrize(("breakage", "message"), BROKEN.values(), ids=BROKEN.keys())
def test_broken_directories_fail_to_load_with_a_reason(
    tiny_nllb_dir: Path, tmp_path: Path, breakage: Callable[[Path], object], message: str
) -> None:
    directory = _copy(tiny_nllb_dir, tmp_path / "model")
    breakage(directory)
    with pytest.raises(ModelLoadError, match=message):
        TranslationModel(ModelSpec("m", str(directory), device="cpu"))


def test_demo_path_alias() -> None:
    assert resolve_model_path("demo") == demo_model_path()
    assert demo_model_path().parts[-3:] == ("dragoman", "models", "demo")


COMPUTE = [
    ("cuda", "auto", "", "float16"),
    ("cuda", "auto", "int8", "int8_float16"),
    ("cuda", "auto", "float16", "float16"),
    ("cpu", "auto", "", "int8"),
    ("cpu", "auto", "float16", "int8"),
    ("cpu", "float32", "int8", "float32"),
]


@pytest.mark.parametrize(("device", "requested", "quantization", "expected"), COMPUTE)
def test_compute_type_choice(device: str, requested: str, quantization: str, expected: str) -> None:
    assert pick_compute_type(device, requested, quantization) == expected


def test_explicit_cpu_settings_reach_ctranslate2(tiny_nllb_dir: Path) -> None:
    spec = ModelSpec("m", str(tiny_nllb_dir), device="cpu", compute_type="float32",
                     inter_threads=2, intra_threads=1)  # fmt: skip
    model = TranslationModel(spec)
    assert model.device == "cpu" and model.compute_type == "float32"
    assert model.translator.num_translators == 2 and model.workers == 2


def test_max_output_tokens_and_automatic_length() -> None:
    assert max_decoding_length(10, DecodingOptions(max_output_tokens=5)) == 6  # + the prefix
    assert max_decoding_length(10, DecodingOptions()) == 10 * 2 + 10 + 1
    assert max_decoding_length(10_000, DecodingOptions()) == 1025


OPTIONS = {
    "defaults-for-zero": (DecodingOptions(beam_size=0, repetition_penalty=0, length_penalty=0),
                          DecodingOptions(beam_size=2)),
    "alternatives-widen-beam": (DecodingOptions(beam_size=1, num_alternatives=4),
                                DecodingOptions(beam_size=4, num_alternatives=4)),
}  # fmt: skip


@pytest.mark.parametrize(("given", "expected"), OPTIONS.values(), ids=OPTIONS.keys())
def test_options_normalized(given: DecodingOptions, expected: DecodingOptions) -> None:
    assert normalize_options(given) == expected


BAD_OPTIONS = {
    "beam-17": DecodingOptions(beam_size=17),
    "beam-negative": DecodingOptions(beam_size=-1),
    "repetition-0.5": DecodingOptions(repetition_penalty=0.5),
    "ngram-33": DecodingOptions(no_repeat_ngram_size=33),
    "length-penalty-6": DecodingOptions(length_penalty=6.0),
    "output-2000": DecodingOptions(max_output_tokens=2000),
}


@pytest.mark.parametrize("options", BAD_OPTIONS.values(), ids=BAD_OPTIONS.keys())
def test_out_of_bounds_options_name_the_range(options: DecodingOptions) -> None:
    with pytest.raises(InvalidOption, match=r"options\.\w+ must be between \S+ and \S+.*; got"):
        normalize_options(options)


DETECTION = {
    "latin-prefers-english": ("Bonjour tout le monde", "eng_Latn"),
    "cyrillic": ("Привет, как дела?", "rus_Cyrl"),
    "simplified-chinese": ("你好世界", "zho_Hans"),
    "japanese-kana": ("こんにちは世界", "jpn_Jpan"),
    "greek": ("Καλημέρα κόσμε", "ell_Grek"),
    "digits-only": ("12345", "eng_Latn"),
}


@pytest.mark.parametrize(("text", "code"), DETECTION.values(), ids=DETECTION.keys())
def test_detection_by_script(text: str, code: str) -> None:
    assert detect_language(text, get_family("nllb").builtin_languages()) == code
