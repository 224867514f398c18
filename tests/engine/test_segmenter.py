"""Segmentation: sentences out, the exact original text back in."""

from __future__ import annotations

import pytest
from dragoman.engine.segmenter import segment, split_long, split_sentences

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


def _chars(text: str) -> int:
    return len(text)


LONG = {
    "fits": ("short words here", 100, ["short words here"]),
    "packs-words": ("aa bb cc dd ee", 5, ["aa bb", "cc dd", "ee"]),
    "long-word": ("x" * 12 + " y", 5, ["xxxxx", "xxxxx", "xx", "y"]),
    "multiple-spaces": ("aa  bb   cc", 5, ["aa", "bb", "cc"]),  # "aa  bb" is 6 chars
}


@pytest.mark.parametrize(("sentence", "limit", "chunks"), LONG.values(), ids=LONG.keys())
def test_split_long_never_drops_text(sentence: str, limit: int, chunks: list[str]) -> None:
    segmented = split_long(sentence, _chars, limit)
    assert list(segmented.sentences) == chunks
    assert all(_chars(chunk) <= limit for chunk in segmented.sentences)
    assert segmented.join(list(segmented.sentences)) == sentence


def test_segment_multi_paragraph_long_text_round_trips() -> None:
    paragraph = " ".join(f"Sentence number {i} has several words in it." for i in range(50))
    text = f"\n{paragraph}\n\n   {'word ' * 400}end.\n\n\t{'z' * 3000}\n"
    segmented = segment(text, _chars, 64)
    assert all(0 < len(s) <= 64 for s in segmented.sentences)
    assert segmented.join(list(segmented.sentences)) == text
