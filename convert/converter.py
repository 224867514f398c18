"""Hugging Face model (+ merged LoRA adapters) -> CTranslate2 model directory.

The output is built in a hidden staging directory beside the target and renamed into
place only when it is complete (weights, tokenizer files and, last, dragoman.json), so an
interrupted conversion never leaves a directory that looks like a model.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dragoman.convert.metadata import (
    SENTENCEPIECE_FILE,
    AdapterInfo,
    ModelMetadata,
    adapter_sha256,
    detect_family,
    languages_of,
)
from dragoman.convert.parity import ParityReport, Sample, check_parity, default_samples
from dragoman.convert.sources import SourceError, check_sources, load_error
from dragoman.convert.translate import PairCodec, full_vocabulary

logger = logging.getLogger(__name__)

QUANTIZATIONS = (
    "int8",
    "int8_float16",
    "int8_float32",
    "int8_bfloat16",
    "float16",
    "bfloat16",
    "float32",
)
SENTENCEPIECE_NAMES = (SENTENCEPIECE_FILE, "spm.model", "sentencepiece.model")


class ConversionError(Exception):
    """A conversion that cannot proceed; the message says what to do."""


class OutputExistsError(ConversionError):
    """The output directory exists and `force` was not given."""


class ParityError(ConversionError):
    """The converted model disagrees with the original more than allowed."""

    def __init__(self, report: ParityReport, threshold: float) -> None:
        super().__init__(
            f"{report.summary()}, below the required {threshold:.1%}; the model was not written"
        )
        self.report = report


@dataclass(frozen=True)
class ConvertRequest:
    """What to convert and how.

    Attributes:
        model: A hub id or a local Hugging Face model directory.
        output: The CTranslate2 model directory to write.
        adapters: LoRA adapter directories merged in order.
        quantization: CTranslate2 weight type (one of QUANTIZATIONS).
        force: Replace an existing output directory.
        name: Model name in dragoman.json (default: the output directory's name).
        family: Model family (nllb, m2m100, demo); inferred from the vocabulary if empty.
        languages: dragoman.json language entries; read from the vocabulary if None.
        samples: Parity-check samples; default English sentences if None, [] skips it.
        check_threshold: Fail (and write nothing) when parity is below this ratio.
        extra_metadata: More top-level dragoman.json keys.
        extra_files: File name -> bytes to write into the output (e.g. a lexicon).
    """

    model: str
    output: Path
    adapters: tuple[str, ...] = ()
    quantization: str = "int8"
    force: bool = False
    name: str = ""
    family: str = ""
    languages: list[dict[str, Any]] | None = None
    samples: Sequence[Sample] | None = None
    check_threshold: float | None = None
    extra_metadata: dict[str, Any] = field(default_factory=dict)
    extra_files: dict[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class ConvertResult:
    """The written directory, its metadata and the parity report (None if skipped)."""

    output: Path
    metadata: dict[str, Any]
    parity: ParityReport | None


def load_merged(model: str, adapters: Sequence[str]) -> tuple[Any, Any, list[AdapterInfo]]:
    """Loads a seq2seq model and its tokenizer, then merges each LoRA adapter into it."""
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    try:
        hf_model = AutoModelForSeq2SeqLM.from_pretrained(model)
        tokenizer = AutoTokenizer.from_pretrained(model)
    except (OSError, ValueError) as error:  # transformers' "cannot find / fetch / read"
        raise ConversionError(str(load_error(model, error))) from error
    infos = []
    for adapter in adapters:
        from peft import PeftModel

        path = Path(adapter)
        if not (path / "adapter_config.json").is_file():
            raise ConversionError(f"{adapter} is not a LoRA adapter (no adapter_config.json)")
        hf_model = PeftModel.from_pretrained(hf_model, adapter).merge_and_unload()
        infos.append(AdapterInfo(path.resolve().name, adapter_sha256(path), str(path)))
    hf_model.eval()
    return hf_model, tokenizer, infos


def find_sentencepiece(model: str) -> Path | None:
    """The sentencepiece model of a local model directory or hub model (None if absent)."""
    local = Path(model)
    if local.is_dir():
        return next((local / n for n in SENTENCEPIECE_NAMES if (local / n).is_file()), None)
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:  # pragma: no cover - transformers depends on it
        return None
    for name in SENTENCEPIECE_NAMES:
        try:
            return Path(hf_hub_download(model, name))
        except Exception:
            continue
    return None


class _FullVocabularyTokenizer:
    """Shows CTranslate2's loader every token by id (see `full_vocabulary`)."""

    num_madeup_words = 0

    def __init__(self, tokenizer: Any, vocabulary: list[str]) -> None:
        self._tokenizer = tokenizer
        self._vocab = {token: i for i, token in enumerate(vocabulary)}
        self.special_tokens_map: dict[str, Any] = {}

    def get_vocab(self) -> dict[str, int]:
        return dict(self._vocab)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tokenizer, name)


def _export(hf_model: Any, tokenizer: Any, staging: Path, quantization: str) -> None:
    from ctranslate2.converters import TransformersConverter

    vocabulary = full_vocabulary(tokenizer, int(hf_model.config.vocab_size))

    class Converter(TransformersConverter):
        def load_tokenizer(self, tokenizer_class: Any, path: str, **kwargs: Any) -> Any:
            loaded = super().load_tokenizer(tokenizer_class, path, **kwargs)
            return _FullVocabularyTokenizer(loaded, vocabulary)

    with tempfile.TemporaryDirectory(prefix="dragoman-hf-") as hf_dir:
        hf_model.save_pretrained(hf_dir)
        tokenizer.save_pretrained(hf_dir)
        Converter(hf_dir).convert(str(staging), quantization=quantization, force=True)
    tokenizer.save_pretrained(str(staging))


def _publish(staging: Path, output: Path) -> None:
    old = None
    if output.exists():
        old = output.with_name(f".{output.name}.old-{os.getpid()}")
        output.rename(old)
    staging.rename(output)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def convert(
    request: ConvertRequest, progress: Callable[[str], None] = logger.info
) -> ConvertResult:
    """Converts a model; see `ConvertRequest`.

    Raises:
        OutputExistsError: The output exists and `force` is not set.
        ParityError: Parity is below `check_threshold` (nothing is written).
        ConversionError: Bad adapter, unknown quantization or family.
    """
    output = Path(request.output)
    if request.quantization not in QUANTIZATIONS:
        raise ConversionError(
            f"unknown quantization {request.quantization!r}; choose one of: "
            + ", ".join(QUANTIZATIONS)
        )
    if output.exists() and not request.force:
        raise OutputExistsError(f"{output} already exists; pass --force to replace it")
    try:
        check_sources(request.model, request.adapters)
        output.parent.mkdir(parents=True, exist_ok=True)
    except SourceError as error:
        raise ConversionError(str(error)) from error
    except OSError as error:
        raise ConversionError(
            f"cannot create {output.parent}: {error.strerror}; choose another --output"
        ) from error
    progress(
        f"loading {request.model}"
        + (f" + {len(request.adapters)} adapter(s)" * bool(request.adapters))
    )
    hf_model, tokenizer, adapters = load_merged(request.model, request.adapters)
    vocabulary = full_vocabulary(tokenizer, int(hf_model.config.vocab_size))
    family = detect_family(vocabulary, request.family)
    languages = request.languages or languages_of(family, vocabulary)
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = output.with_name(f".{output.name}.partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        progress(f"converting to CTranslate2 ({request.quantization})")
        _export(hf_model, tokenizer, staging, request.quantization)
        spm = find_sentencepiece(request.model)
        if spm is None:
            logger.warning("no sentencepiece model found for %s", request.model)
        else:
            shutil.copyfile(spm, staging / SENTENCEPIECE_FILE)
        for file_name, content in request.extra_files.items():
            (staging / file_name).write_bytes(content)
        report = _parity(request, hf_model, PairCodec(tokenizer, family), staging, languages)
        metadata = ModelMetadata(
            name=request.name or output.name,
            family=family.name,
            languages=languages,
            base_model=request.model,
            quantization=request.quantization,
            adapters=adapters,
            extra=dict(request.extra_metadata),
        )
        metadata.write(staging)  # last: a directory with dragoman.json is complete
        _publish(staging, output)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    progress(f"wrote {output}")
    return ConvertResult(output=output, metadata=metadata.to_json(), parity=report)


def _parity(
    request: ConvertRequest,
    hf_model: Any,
    codec: PairCodec,
    staging: Path,
    languages: list[dict[str, Any]],
) -> ParityReport | None:
    samples = request.samples
    if samples is None:
        samples = default_samples([lang["code"] for lang in languages])
    if not samples:
        return None
    report = check_parity(hf_model, codec, staging, samples)
    logger.info("%s", report.summary())
    if request.check_threshold is not None and report.ratio < request.check_threshold:
        raise ParityError(report, request.check_threshold)
    return report
