"""Translation correctness on the shipped demo model's held-out sentences.

The demo model is trained on a synthetic corpus (finetune/demo); its test split is
never trained on. These tests check exact outputs, through every engine path:
batched requests, multi-sentence texts, streaming, concurrency, aliases.
"""

from __future__ import annotations

import itertools
import json
import threading
from pathlib import Path

import pytest
from dragoman.engine.service import TranslationEngine
from dragoman.engine.types import CallContext, DecodingOptions, StreamConfig, TranslationRequest

ROWS = 60  # held-out rows per direction (of the split's 300)


@pytest.fixture(scope="module")
def held_out(demo_model_dir: Path) -> list[dict[str, str]]:
    from dragoman.finetune.demo.build import DemoRecipe
    from dragoman.finetune.demo.corpus import build_corpus

    recipe = DemoRecipe()
    shipped = json.loads((demo_model_dir / "dragoman.json").read_text("utf-8"))["demo"]["recipe"]
    # The test split is the recipe's: a model built from another recipe saw other data.
    assert shipped == recipe.digest(), "the shipped demo model is not the current recipe's"
    return build_corpus(recipe.corpus).test[:ROWS]


def _codes(engine: TranslationEngine) -> tuple[str, ...]:
    return engine.list_models()[0].language_codes


def _translate(engine: TranslationEngine, texts: list[str], src: str, tgt: str) -> list[str]:
    request = TranslationRequest(tuple(texts), tgt, src)
    return [t.text for t in engine.translate(request, CallContext())]


def test_demo_model_describes_itself(demo_engine: TranslationEngine) -> None:
    (model,) = demo_engine.list_models()
    assert model.family == "demo" and model.default
    assert "eng_Latn" in model.language_codes and "qaa_Latn" in model.language_codes
    names = {lang.code: lang.display_name for lang in demo_engine.list_languages()}
    assert names["eng_Latn"] == "English"
    assert "constructed" in names["qaa_Latn"].lower()


def test_held_out_sentences_translate_exactly(
    demo_engine: TranslationEngine, held_out: list[dict[str, str]]
) -> None:
    mismatches = []
    total = 0
    for src, tgt in itertools.permutations(_codes(demo_engine), 2):
        sources = [row[src] for row in held_out]
        for source, got, want in zip(
            sources, _translate(demo_engine, sources, src, tgt), [row[tgt] for row in held_out],
            strict=True,
        ):  # fmt: skip
            total += 1
            if got != want:
                mismatches.append(f"{src}->{tgt}: {source!r} gave {got!r}, expected {want!r}")
    assert len(mismatches) <= total // 20, "\n".join(mismatches[:10])  # >= 95% exact


def test_multi_paragraph_text_keeps_layout_and_content(
    demo_engine: TranslationEngine, held_out: list[dict[str, str]]
) -> None:
    a, b, c = held_out[:3]
    text = f"  {a['eng_Latn']} {b['eng_Latn']}\n\n\t{c['eng_Latn']}\n"
    (got,) = _translate(demo_engine, [text], "en", "qaa")
    (ref_a, ref_b, ref_c) = _translate(demo_engine, [a["eng_Latn"], b["eng_Latn"], c["eng_Latn"]],
                                       "eng_Latn", "qaa_Latn")  # fmt: skip
    assert got == f"  {ref_a} {ref_b}\n\n\t{ref_c}\n"
    assert ref_a == a["qaa_Latn"]


def test_aliases_and_model_codes_agree(
    demo_engine: TranslationEngine, held_out: list[dict[str, str]]
) -> None:
    sentence = held_out[5]["eng_Latn"]
    assert _translate(demo_engine, [sentence], "en", "qaa") == _translate(
        demo_engine, [sentence], "eng_Latn", "qaa_Latn"
    )


def test_stream_interim_then_exact_final(
    demo_engine: TranslationEngine, held_out: list[dict[str, str]]
) -> None:
    row = held_out[7]
    updates = list(
        demo_engine.stream_segment(
            "s", row["eng_Latn"],
            StreamConfig("qaa_Latn", "eng_Latn", options=DecodingOptions(beam_size=1),
                         interim=True),
            CallContext(),
        )
    )  # fmt: skip
    *interim, final = updates
    assert interim and not any(u.is_final for u in interim) and final.is_final
    assert final.text == row["qaa_Latn"]
    # One sentence: every interim update replaces the whole text so far.
    assert all(u.offset == 0 for u in interim)
    assert all(row["qaa_Latn"].startswith(u.text.rsplit(" ", 1)[0]) for u in interim)


def test_32_concurrent_clients_get_exact_results(
    demo_engine: TranslationEngine, held_out: list[dict[str, str]]
) -> None:
    expected = _translate(
        demo_engine, [row["eng_Latn"] for row in held_out], "eng_Latn", "qab_Latn"
    )
    results: dict[int, str] = {}
    barrier = threading.Barrier(32)

    def client(i: int) -> None:
        barrier.wait()
        results[i] = _translate(
            demo_engine, [held_out[i % ROWS]["eng_Latn"]], "eng_Latn", "qab_Latn"
        )[0]

    before = demo_engine.stats
    threads = [threading.Thread(target=client, args=(i,)) for i in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert [results[i] for i in range(32)] == [expected[i % ROWS] for i in range(32)]
    after = demo_engine.stats
    assert after.merged_batches > before.merged_batches


@pytest.mark.parametrize("language", ["eng_Latn", "qaa_Latn", "qab_Latn"])
def test_model_identifies_its_own_languages(
    demo_engine: TranslationEngine, held_out: list[dict[str, str]], language: str
) -> None:
    model = demo_engine._resolve("demo").model
    codes = list(_codes(demo_engine))
    guesses = [model.identify(row[language], codes) for row in held_out]
    assert guesses.count(language) >= len(held_out) * 0.9


def _paragraph(rows: list[dict[str, str]], language: str, capitals: bool) -> str:
    sentences = [row[language] for row in rows]
    if not capitals:
        sentences = [s[:1].lower() + s[1:] for s in sentences]
    return " ".join(sentences)


def test_run_on_lowercase_paragraph_comes_back_whole(
    demo_engine: TranslationEngine, held_out: list[dict[str, str]]
) -> None:
    """Chat or speech-recognition text: ~2,000 characters of held-out sentences run
    together without capitals (the strict splitter sees one sentence) is cut at its
    sentence ends, and every sentence comes back."""
    from sacrebleu import corpus_chrf

    rows = list(itertools.islice(itertools.cycle(held_out), 50))
    results = {}
    for capitals in (True, False):
        source = _paragraph(rows, "eng_Latn", capitals)
        reference = _paragraph(rows, "qaa_Latn", capitals)
        (text,) = _translate(demo_engine, [source], "eng_Latn", "qaa_Latn")
        results[capitals] = (len(text) / len(source), corpus_chrf([text], [[reference]]).score)
    (normal_ratio, normal_chrf), (ratio, chrf) = results[True], results[False]
    print(f"run-on paragraph: length ratio {ratio:.3f} (capitalized: {normal_ratio:.3f}), "
          f"chrF {chrf:.1f} (capitalized: {normal_chrf:.1f})")  # fmt: skip
    assert len(source) >= 1800
    assert abs(ratio - normal_ratio) <= 0.1 * normal_ratio  # nothing dropped
    assert chrf >= 90
