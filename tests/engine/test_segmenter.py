"""Segmentation: sentences out, the exact original text back in."""

from __future__ import annotations

import pytest
from dragoman.engine.segmenter import (
    Level,
    Stage,
    character_cuts,
    clause_boundaries,
    fit_ranges,
    split_sentences,
    weak_sentence_ends,
    word_boundaries,
)

ROUND_TRIPS = {
    "empty": ("", []),
    "spaces-only": ("  \n\t ", []),
    "one-sentence": ("Hello world.", ["Hello world."]),
    "two-sentences": ("Hello world. How are you?", ["Hello world.", "How are you?"]),
    "leading-trailing": ("  \n Hi there!  \n", ["Hi there!"]),
    "paragraphs": (
        "First para. Still first.\n\n  Second para!\r\n\r\nThird?\n",
        ["First para.", "Still first.", "Second para!", "Third?"],
    ),
    "line-breaks-always-split": (
        "a list\n- item one\n- item two",
        ["a list", "- item one", "- item two"],
    ),
    "abbreviation": (
        "Mr. Smith met Dr. Jones. They talked.",
        ["Mr. Smith met Dr. Jones.", "They talked."],
    ),
    "initial": ("J. R. Tolkien wrote it.", ["J. R. Tolkien wrote it."]),
    "lowercase-continues": ("It costs 3 p.m. tomorrow. ok", ["It costs 3 p.m. tomorrow. ok"]),
    "closing-quote": ('He said "Stop." Then left.', ['He said "Stop."', "Then left."]),
    "decimal": ("Pi is 3.14 roughly. Yes.", ["Pi is 3.14 roughly.", "Yes."]),
    "tabs-kept": ("One.\t\tTwo.", ["One.", "Two."]),
    "cjk": ("你好。再见！好的", ["你好。", "再见！", "好的"]),  # noqa: RUF001
    "nul-byte": ("a\x00b. c", ["a\x00b. c"]),
}


@pytest.mark.parametrize(("text", "sentences"), ROUND_TRIPS.values(), ids=ROUND_TRIPS.keys())
def test_split_sentences_round_trips(text: str, sentences: list[str]) -> None:
    segmented = split_sentences(text)
    assert list(segmented.sentences) == sentences
    assert len(segmented.separators) == len(sentences) + 1
    assert segmented.join(list(segmented.sentences)) == text


def test_join_puts_translations_between_the_original_whitespace() -> None:
    segmented = split_sentences("  One. Two!\n\n\tThree?  ")
    assert segmented.join(["Un.", "Deux !", "Trois ?"]) == "  Un. Deux !\n\n\tTrois ?  "


def test_join_refuses_a_wrong_count() -> None:
    with pytest.raises(ValueError, match="expected 2 sentences"):
        split_sentences("One. Two.").join(["Un."])


HARD = (word_boundaries, character_cuts(5))

LONG = {
    "fits": ("short words here", 100, ["short words here"]),
    "packs-words": ("aa bb cc dd ee", 5, ["aa bb", "cc dd", "ee"]),
    "long-word": ("x" * 12 + " y", 5, ["xxxxx", "xxxxx", "xx", "y"]),
    "multiple-spaces": ("aa  bb   cc", 5, ["aa", "bb", "cc"]),  # "aa  bb" is 6 chars
}


def _letters(texts: list[str]) -> str:
    """Everything but whitespace: what a cut must never lose."""
    return "".join("".join(text.split()) for text in texts)


def _fit(text: str, limit: int, *levels: Level) -> list[str]:
    ranges = fit_ranges(text, 0, len(text), lambda a, b: b - a, [Stage(limit, levels or HARD)])
    return [text[a:b] for a, b in ranges]


@pytest.mark.parametrize(("sentence", "limit", "chunks"), LONG.values(), ids=LONG.keys())
def test_fit_ranges_never_drops_text(sentence: str, limit: int, chunks: list[str]) -> None:
    pieces = _fit(sentence, limit)
    assert pieces == chunks
    assert all(len(piece) <= limit for piece in pieces)
    assert _letters(pieces) == _letters([sentence])


def test_run_on_text_is_cut_at_sentence_ends_then_clauses() -> None:
    text = "the cat sees the dog. e.g. the man reads, and the child sings; then it rains"
    stages = [Stage(30, (weak_sentence_ends, clause_boundaries))]
    ranges = fit_ranges(text, 0, len(text), lambda a, b: b - a, stages)
    assert [text[a:b] for a, b in ranges] == [
        "the cat sees the dog.",
        "e.g. the man reads,",  # no cut after the abbreviation "e.g."
        "and the child sings;",
        "then it rains",
    ]


def test_cuts_can_be_forbidden() -> None:
    text = "aa {x y} bb"
    ranges = fit_ranges(
        text, 0, len(text), lambda a, b: b - a, [Stage(3, HARD)], allowed=lambda c: c != (5, 6)
    )
    assert "{x y}" in [text[a:b] for a, b in ranges]


def test_long_multi_paragraph_text_fits_in_linear_count_calls() -> None:
    paragraph = " ".join(f"Sentence number {i} has several words in it." for i in range(50))
    text = f"{paragraph} {'word ' * 400}end. {'z' * 3000}"
    calls = 0

    def count(a: int, b: int) -> int:
        nonlocal calls
        calls += 1
        return b - a

    ranges = fit_ranges(text, 0, len(text), count, [Stage(64, HARD)])
    assert all(0 < b - a <= 64 for a, b in ranges)
    assert _letters([text[a:b] for a, b in ranges]) == _letters([text])
    assert calls < 3 * (len(ranges) + len(text.split()))  # a few per word, not per pair
