"""Protected spans and glossary matching: tables of cases, hostile inputs included."""

from __future__ import annotations

import itertools
import time

import pytest
from dragoman.engine.errors import InvalidOption
from dragoman.engine.spans import find_protected
from dragoman.engine.terminology import (
    MAX_GLOSSARY_ENTRIES,
    Glossary,
    GlossaryEntry,
    do_not_translate,
    find_terms,
)

# text -> the protected substrings, in order
PROTECTED = {
    "brace": ("Hello {name}, welcome.", ["{name}"]),
    "double-brace": ("Hi {{user.first_name}}!", ["{{user.first_name}}"]),
    "dollar-brace": ("Path is ${HOME}/bin", ["${HOME}"]),
    "icu-plural": (
        "You have {count, plural, one {# message} other {# messages}} today.",
        ["{count, plural, one {# message} other {# messages}}"],
    ),
    "icu-select-nested": (
        "{gender, select, female {{name} wrote} other {{name} wrote}} a note",
        ["{gender, select, female {{name} wrote} other {{name} wrote}}"],
    ),
    "printf": ("%s sent %d files (%.2f MB)", ["%s", "%d", "%.2f"]),
    "printf-positional": ("%1$s and %2$s", ["%1$s", "%2$s"]),
    "python-named": ("%(user)s logged in", ["%(user)s"]),
    "percent-literal": ("100%% sure", ["%%"]),
    "not-printf": ("50% sure, 20 % off", []),
    "url": ("See https://example.com/a?b=1&c=2.", ["https://example.com/a?b=1&c=2"]),
    "url-parens": ("(docs: https://x.org/wiki/A_(b))", ["https://x.org/wiki/A_(b)"]),
    "www": ("Visit www.example.org, now", ["www.example.org"]),
    "email": ("Write to first.last+tag@mail.example.co.uk.", ["first.last+tag@mail.example.co.uk"]),
    "code-span": ("Run `ls -la` then ``a ` b``.", ["`ls -la`", "``a ` b``"]),
    "unbalanced-brace": ("a { b and c", []),
    "stray-close": ("a } b {x}", ["{x}"]),
    "url-inside-braces": ("{link: https://a.b/c}", ["{link: https://a.b/c}"]),
    # A brace without a partner is text and leaves later placeholders protected.
    "stray-open-before": (
        "Use { to open. Hello {name}, you have %d birds.",
        ["{name}", "%d"],
    ),
    "stray-open-after": ("Hello {name}, then { alone", ["{name}"]),
    "stray-both": ("} {a} { {b} {", ["{a}", "{b}"]),
    # Too long to be one placeholder: the placeholders inside it still are.
    "long-span-inner": ("{" + "x " * 1200 + "{inner} }", ["{inner}"]),
}


@pytest.mark.parametrize("text, expected", PROTECTED.values(), ids=PROTECTED.keys())
def test_protected_spans(text: str, expected: list[str]) -> None:
    spans = find_protected(text)
    assert [text[s.start : s.end] for s in spans] == expected
    assert all(s.replacement == text[s.start : s.end] for s in spans)


def test_protected_spans_never_overlap() -> None:
    text = "{a `b` https://c.d/{e}} %s `{f}` g@h.ij"
    spans = find_protected(text)
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))


def _glossary(*pairs: tuple[str, str], ignore_case: bool = False) -> Glossary:
    return Glossary(tuple(GlossaryEntry(s, t) for s, t in pairs), ignore_case=ignore_case)


def test_whole_word_matches_only() -> None:
    glossary = _glossary(("cat", "KOT"))
    text = "cat concatenate cat. Cat cats"
    assert [(m.start, m.end) for m in glossary.find(text)] == [(0, 3), (16, 19)]


def test_ignore_case_and_longest_match() -> None:
    glossary = _glossary(("red", "R"), ("red cat", "RC"), ignore_case=True)
    matches = glossary.find("A Red Cat and a RED dog")
    assert [(m.entry.target, m.start) for m in matches] == [("RC", 2), ("R", 16)]


def test_terms_in_unspaced_scripts_match_inside_text() -> None:
    glossary = _glossary(("東京", "Tokyo"))
    assert [m.start for m in glossary.find("私は東京に行く")] == [2]


def test_do_not_translate_keeps_source_bytes_and_wins_overlaps() -> None:
    text = "Open Dragoman Cloud and the cloud app"
    dnt = do_not_translate(["Dragoman Cloud"])
    glossary = _glossary(("cloud", "nube"), ignore_case=True)
    forced, applied = find_terms(text, [dnt, glossary], [True, False])
    assert [(text[s.start : s.end], s.replacement) for s in forced] == [
        ("Dragoman Cloud", "Dragoman Cloud"),
        ("cloud", "nube"),
    ]
    assert [m.entry.source for m in applied] == ["cloud"]


def test_terms_skip_protected_spans() -> None:
    text = "the {cat} and the cat"
    forced, _ = find_terms(text, [_glossary(("cat", "X"))], [False], find_protected(text))
    assert [s.start for s in forced] == [18]


def test_ten_thousand_entries_match_fast_and_exactly() -> None:
    pairs = [(f"term{i}", f"T{i}") for i in range(MAX_GLOSSARY_ENTRIES)]
    glossary = _glossary(*pairs)
    text = " ".join(f"word term{i}" for i in range(0, MAX_GLOSSARY_ENTRIES, 97))
    started = time.perf_counter()
    matches = glossary.find(text)
    elapsed = time.perf_counter() - started
    assert [m.entry.target for m in matches] == [
        f"T{i}" for i in range(0, MAX_GLOSSARY_ENTRIES, 97)
    ]
    print(f"10k-entry glossary: {len(matches)} matches in {elapsed * 1000:.1f} ms")


BAD_GLOSSARIES = {
    "empty-source": ([("", "x")], "empty source term"),
    "blank-source": ([("  ", "x")], "empty source term"),
    "empty-target": ([("cat", "")], "empty target term"),
    "spaces-around": ([(" cat", "x")], "surrounding spaces"),
    "conflicting-duplicates": ([("cat", "a"), ("cat", "b")], "two entries for 'cat'"),
    "too-long": ([("c" * 300, "x")], "at most 256"),
    "too-many": ([(f"t{i}", "x") for i in range(MAX_GLOSSARY_ENTRIES + 1)], "at most 10000"),
}


@pytest.mark.parametrize("pairs, message", BAD_GLOSSARIES.values(), ids=BAD_GLOSSARIES.keys())
def test_bad_glossaries_are_invalid_arguments(pairs: list[tuple[str, str]], message: str) -> None:
    with pytest.raises(InvalidOption, match=message):
        _glossary(*pairs)


def test_same_entry_twice_is_fine() -> None:
    assert len(_glossary(("cat", "a"), ("cat", "a")).find("cat")) == 1


PATHOLOGICAL = {
    "word-run": "a" * 200_000,
    "backticks": "`" * 200_000,
    "alternating-backticks": "`a" * 100_000,
    "open-braces": "{" * 200_000,
    "percents": "%" * 200_000,
    "at-signs": "a@" * 100_000,
    "dots": "a." * 100_000,
    "schemes": "a://" * 50_000,
    "brace-pairs": "A {x}. " * 30_000,
    "close-open": "}{" * 100_000,
    "nested-braces": "{" * 100_000 + "}" * 100_000,
    "long-brace-spans": ("{" + "a" * 3000 + "}") * 60,
}


@pytest.mark.parametrize("text", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_finders_are_linear_on_pathological_text(text: str) -> None:
    # Quadratic regexes took minutes here; the test timeout would catch a regression.
    spans = find_protected(text)
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))
