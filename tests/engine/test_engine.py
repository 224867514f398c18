"""TranslationEngine end to end on tiny real CTranslate2 models.

The tiny models have random weights: their output is meaningless but deterministic,
so these tests compare the engine's results with CTranslate2's own on the same input
and check structure (order, whitespace, counts); the demo-model tests check content.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from dragoman.engine.errors import (
    InputTooLong,
    InvalidOption,
    InvalidRequest,
    ModelNotFound,
    ShuttingDown,
    UnsupportedLanguage,
)
from dragoman.engine.features import TextFeatures
from dragoman.engine.model import max_decoding_length
from dragoman.engine.plan import Unit
from dragoman.engine.service import BatchingConfig, ModelSpec, TranslationEngine
from dragoman.engine.types import CallContext, DecodingOptions, TranslationRequest

GREEDY = DecodingOptions(beam_size=1)


def _translate(engine: TranslationEngine, *texts: str, **kwargs: object) -> list[str]:
    request = TranslationRequest(texts, **{"target_language": "fr", **kwargs})  # type: ignore[arg-type]
    return [t.text for t in engine.translate(request, CallContext())]


def _reference(engine: TranslationEngine, model: str, text: str, src: str, tgt: str) -> str:
    """What CTranslate2 itself says for one sentence (no segmentation, no batching)."""
    loaded = engine._resolve(model).model
    source = loaded.family.source_tokens(loaded.tokenizer.encode(text), src)
    result = loaded.translator.translate_batch(
        [source], [loaded.family.target_prefix(tgt)],
        beam_size=1, max_decoding_length=max_decoding_length(len(source), GREEDY),
    )  # fmt: skip
    return loaded.detokenize(result[0].hypotheses[0])


def test_list_models_describes_each_model(engine: TranslationEngine) -> None:
    models = {m.name: m for m in engine.list_models()}
    assert sorted(models) == ["m2m100", "nllb"]
    assert models["nllb"].family == "nllb" and models["nllb"].default
    assert models["m2m100"].family == "m2m100" and not models["m2m100"].default
    assert models["nllb"].device == "cpu"
    assert models["nllb"].compute_type.startswith("int8")  # cpu auto -> int8
    assert models["m2m100"].language_codes == ("de", "en", "fr", "ru", "zh")
    assert "eng_Latn" in models["nllb"].language_codes


def test_list_languages_has_names_and_aliases(engine: TranslationEngine) -> None:
    nllb = {lang.code: lang for lang in engine.list_languages()}
    assert nllb["eng_Latn"].display_name == "English"
    assert {"en", "eng", "en-Latn"} <= set(nllb["eng_Latn"].aliases)
    m2m = {lang.code: lang for lang in engine.list_languages("m2m100")}
    assert m2m["fr"].display_name == "French"
    assert "fra_Latn" in m2m["fr"].aliases


@pytest.mark.parametrize(
    ("model", "source", "target", "model_source", "model_target"),
    [
        ("nllb", "eng_Latn", "fra_Latn", "eng_Latn", "fra_Latn"),
        ("nllb", "en", "fr", "eng_Latn", "fra_Latn"),
        ("nllb", "en-US", "zh-Hant", "eng_Latn", "zho_Hant"),
        ("m2m100", "en", "fr", "en", "fr"),
        ("m2m100", "eng_Latn", "fra_Latn", "en", "fr"),
    ],
    ids=["nllb-codes", "nllb-bcp47", "nllb-region-script", "m2m-codes", "m2m-nllb-style"],
)
def test_both_code_styles_translate_like_ct2(
    engine: TranslationEngine, model: str, source: str, target: str, model_source: str,
    model_target: str,
) -> None:  # fmt: skip
    text = "The cat sees my dog"
    request = TranslationRequest((text,), target, source, model, GREEDY)
    (translation,) = engine.translate(request, CallContext())
    assert translation.source_language == model_source
    assert translation.model == model
    assert translation.text == _reference(engine, model, text, model_source, model_target)


def test_translations_keep_order_and_count(engine: TranslationEngine) -> None:
    texts = [f"The {w} walks over the road" for w in ("cat", "dog", "friend", "tree", "city")]
    texts.insert(2, "   ")  # whitespace-only text comes back as it is
    results = _translate(engine, *texts, source_language="en", options=GREEDY)
    assert len(results) == len(texts)
    assert results[2] == "   "
    for text, result in zip(texts, results, strict=True):
        if text.strip():
            assert result == _reference(engine, "nllb", text, "eng_Latn", "fra_Latn")


def _skeleton(text: str) -> str:
    """The text's whitespace layout: every run of non-newline content becomes X."""
    return re.sub(r"[^\n]+", lambda m: re.sub(r"^(\s*).*?(\s*)$", r"\1X\2", m.group()), text)


def test_multi_paragraph_whitespace_is_preserved(engine: TranslationEngine) -> None:
    text = "\n  The cat walks. The dog eats!\n\n\tMy friend reads a book.\r\n\nThe end?  \n"
    (result,) = _translate(engine, text, source_language="en", options=GREEDY)
    assert _skeleton(result) == _skeleton(text)
    paragraphs = [p.strip() for p in text.split("\n") if p.strip()]
    sentences = [s for p in paragraphs for s in re.split(r"(?<=[.!?]) ", p)]
    expected = [_reference(engine, "nllb", s, "eng_Latn", "fra_Latn") for s in sentences]
    assert [r for r in re.split(r"\s*\n\s*", result) if r] == [
        " ".join(expected[:2]),
        expected[2],
        expected[3],
    ]


def test_long_input_is_segmented_not_truncated(engine: TranslationEngine) -> None:
    served = engine._resolve("nllb")
    text = " ".join(["the small red cat walks near the river"] * 200)  # one 1600-word sentence
    plan = served.preparer.prepare(text, TextFeatures())
    assert len(plan.todo) > 1
    assert all(len(s.pieces) <= served.model.max_segment_pieces for s in plan.todo)
    (unit,) = plan.parts
    assert isinstance(unit, Unit)
    rebuilt = "".join(s.lead + "".join(c.text for c in s.chunks) for s in unit.sentences)
    assert rebuilt + unit.trailing == text  # nothing dropped
    before = engine.stats.segments
    (result,) = _translate(engine, text, source_language="en", options=GREEDY)
    # Repeated segments of one request are decoded once.
    assert engine.stats.segments - before == len({tuple(s.pieces) for s in plan.todo}) < 7
    assert result  # every segment translated and joined


def test_alternatives_and_scores(engine: TranslationEngine) -> None:
    options = DecodingOptions(beam_size=4, num_alternatives=3, return_scores=True)
    request = TranslationRequest(("The cat sees the dog.",), "fr", "en", options=options)
    (translation,) = engine.translate(request, CallContext())
    assert len(translation.alternatives) == 3
    assert translation.alternatives[0].text == translation.text
    assert translation.score is not None and translation.score <= 0
    scores = [a.score for a in translation.alternatives]
    assert all(s is not None for s in scores)
    assert scores == sorted(scores, reverse=True)  # type: ignore[type-var]


def test_scores_absent_unless_asked(engine: TranslationEngine) -> None:
    (translation,) = engine.translate(TranslationRequest(("Hi.",), "fr", "en"), CallContext())
    assert translation.score is None and translation.alternatives == ()


def test_source_language_is_detected_within_the_script(engine: TranslationEngine) -> None:
    request = TranslationRequest(("Привет мир.", "The cat.", "你好世界。"), "fr")
    cyrillic, latin, han = [t.source_language for t in engine.translate(request, CallContext())]
    assert cyrillic == "rus_Cyrl"  # the tiny model's only Cyrillic language
    # Several candidates share the script: the (random) model picks one of them.
    assert latin in {"eng_Latn", "fra_Latn", "deu_Latn"}
    assert han in {"zho_Hans", "zho_Hant"}


def test_odd_characters_translate_and_nul_bytes_are_refused(engine: TranslationEngine) -> None:
    results = _translate(engine, "\ufeff\u200b!", "🙂🙂", source_language="en")
    assert len(results) == 2
    with pytest.raises(InvalidRequest, match=r"contents\[1\] contains a NUL character at offset 1"):
        _translate(engine, "ok.", "a\x00b c.", source_language="en")


HOSTILE = {
    "unknown-target": (dict(target_language="xx-Yy"), UnsupportedLanguage, "unsupported target"),
    "empty-target": (dict(target_language=""), InvalidRequest, "is required"),
    "unknown-source": (dict(source_language="klingon"), UnsupportedLanguage, "source language"),
    "unknown-model": (dict(model="gpt"), ModelNotFound, "loaded models are: m2m100, nllb"),
    "huge-beam": (dict(options=DecodingOptions(beam_size=10**6)), InvalidOption, "beam_size"),
    "negative-length": (
        dict(options=DecodingOptions(max_output_tokens=-1)),
        InvalidOption,
        "between 1 and 1024",
    ),
    "too-many-alternatives": (
        dict(options=DecodingOptions(num_alternatives=9)),
        InvalidOption,
        "num_alternatives",
    ),
    "too-long-text": (dict(texts=("x" * 100_001,)), InputTooLong, "100,001 characters"),
    "too-many-texts": (dict(texts=("x",) * 1025), InputTooLong, "1,025 texts"),
    "empty-text": (dict(texts=("x", "")), InvalidRequest, r"contents\[1\] is empty"),
}


@pytest.mark.parametrize(("change", "error", "message"), HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_requests_raise_typed_errors(
    engine: TranslationEngine, change: dict[str, object], error: type[Exception], message: str
) -> None:
    fields: dict[str, object] = {"texts": ("Hello.",), "target_language": "fr", **change}
    with pytest.raises(error, match=message):
        engine.translate(TranslationRequest(**fields), CallContext())  # type: ignore[arg-type]
    assert _translate(engine, "Still fine.")  # the engine keeps serving


def test_expired_deadline_and_cancellation_refuse_before_work(engine: TranslationEngine) -> None:
    from dragoman.engine.errors import Cancelled, DeadlineExceeded

    request = TranslationRequest(("Hello.",), "fr")
    with pytest.raises(DeadlineExceeded):
        engine.translate(request, CallContext(deadline=0.0))
    cancelled = CallContext()
    cancelled.cancelled.set()
    with pytest.raises(Cancelled):
        engine.translate(request, cancelled)


def test_shutdown_refuses_new_work(tiny_nllb_dir: Path) -> None:
    engine = TranslationEngine([ModelSpec("tiny", str(tiny_nllb_dir), device="cpu")])
    engine.load()
    engine.warmup()
    assert engine.ready
    engine.shutdown(timeout=5)
    assert not engine.ready
    with pytest.raises(ShuttingDown, match="shutting down"):
        engine.translate(TranslationRequest(("Hello.",), "fr"), CallContext())


def test_batching_off_gives_the_same_results(
    tiny_nllb_dir: Path, engine: TranslationEngine
) -> None:
    direct = TranslationEngine(
        [ModelSpec("nllb", str(tiny_nllb_dir), device="cpu", intra_threads=1)],
        batching=BatchingConfig(enabled=False),
    )
    direct.load()
    texts = ("The cat walks. The dog eats.", "My friend reads.")
    try:
        assert _translate(direct, *texts, options=GREEDY) == _translate(
            engine, *texts, options=GREEDY
        )
        assert direct.stats.batches == 1 and direct.stats.segments == 3
    finally:
        direct.shutdown(timeout=5)
