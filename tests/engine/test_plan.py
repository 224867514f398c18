"""Text preparation: linear in the text's size, deadline checked inside, run-on text cut.

Linearity is checked by counting function calls (cProfile), never by timing: a
quadratic step would make 8 times the text cost 64 times the calls.
"""

from __future__ import annotations

import cProfile
import pstats
from pathlib import Path

import pytest
from dragoman.engine.errors import Cancelled
from dragoman.engine.features import TextFeatures
from dragoman.engine.plan import TextPlan, TextPreparer, Unit
from dragoman.engine.terminology import GlossaryEntry
from dragoman.engine.tokenizer import SentencePieceTokenizer


@pytest.fixture(scope="module")
def preparer(demo_model_dir: Path) -> TextPreparer:
    tokenizer = SentencePieceTokenizer(demo_model_dir / "sentencepiece.bpe.model")
    return TextPreparer(tokenizer, max_tokens=254, preferred_tokens=32)


def _text(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def _calls(preparer: TextPreparer, text: str, features: TextFeatures) -> tuple[int, TextPlan]:
    profile = cProfile.Profile()
    profile.enable()
    plan = preparer.prepare(text, features)
    profile.disable()
    return pstats.Stats(profile).total_calls, plan  # type: ignore[attr-defined]


LINEAR = {
    # The hardening report's case (a sentence per placeholder), at 100,000 characters.
    "placeholder-sentences": ("A {x}. ", TextFeatures(), 100_000),
    "placeholders-urls-printf": (
        "Hello {name}, you have %d new messages at https://example.com/a?b=1. ",
        TextFeatures(),
        32_000,
    ),
    # One run-on "sentence" full of placeholders: cut at word boundaries.
    "run-on-placeholders": ("a {x} ", TextFeatures(), 32_000),
    "glossary-10k": (
        "The term42 sees {x} and term9999. ",
        TextFeatures(
            glossary_entries=tuple(GlossaryEntry(f"term{i}", f"T{i}") for i in range(10_000))
        ),
        32_000,
    ),
    "do-not-translate": (
        "Keep Acme and {x} here. ",
        TextFeatures(do_not_translate=("Acme",) * 50),
        32_000,
    ),
    "markup": ("<p>The <b>big</b> {x} cat.</p>", TextFeatures(mime_type="text/html"), 32_000),
}


@pytest.mark.parametrize(("unit", "features", "size"), LINEAR.values(), ids=LINEAR.keys())
def test_texts_full_of_placeholders_are_prepared_in_linear_time(
    preparer: TextPreparer, unit: str, features: TextFeatures, size: int
) -> None:
    preparer.prepare(_text(unit, 1000), features)  # compile glossaries outside the count
    small_calls, small = _calls(preparer, _text(unit, size // 8), features)
    large_calls, large = _calls(preparer, _text(unit, size), features)
    assert len(large.todo) >= 7 * len(small.todo)  # eight times the work to do
    assert large_calls <= 8 * 1.3 * small_calls, (small_calls, large_calls)
    assert all(len(s.pieces) <= 254 for s in large.todo)
    if not features.is_markup:
        (unit_plan,) = large.parts
        assert isinstance(unit_plan, Unit)
        rebuilt = "".join(s.lead + "".join(c.text for c in s.chunks) for s in unit_plan.sentences)
        assert rebuilt + unit_plan.trailing == _text(unit, size)  # nothing dropped


def test_the_deadline_is_checked_while_preparing(preparer: TextPreparer) -> None:
    checks = 0

    def check() -> None:
        nonlocal checks
        checks += 1
        if checks > 100:
            raise Cancelled("the caller cancelled the request")

    with pytest.raises(Cancelled):
        preparer.prepare(_text("A {x}. ", 49_000), TextFeatures(), check=check)
    assert checks == 101  # stopped at once, long before the 7,000 sentences were done


def test_run_on_lowercase_text_is_cut_at_sentence_ends_and_recased(
    preparer: TextPreparer,
) -> None:
    text = "the cat sees the dog. e.g. the old man reads a book, and we sing. iPhone works"
    plan = preparer.prepare(" ".join([text] * 3), TextFeatures())
    firsts = [s.chunks[0].text for s in plan.todo]
    assert firsts[:3] == ["the cat sees the dog.", "e.g. the old man reads a book, and we sing.",
                          "iPhone works the cat sees the dog."]  # fmt: skip
    assert [s.recased for s in plan.todo[:3]] == [True, False, False]
    sentence = plan.todo[0]
    assert preparer._tokenizer.decode(sentence.pieces).startswith("The cat")
    assert sentence.text_of(preparer._tokenizer.encode("Le chat."), preparer._tokenizer) == (
        "le chat."
    )
