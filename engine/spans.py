"""Protected spans: parts of a text that must come back byte-identical.

Placeholders (`{name}`, `{{var}}`, ICU `{count, plural, ...}`, `%s`, `%1$s`,
`%(name)s`), URLs, e-mail addresses and code spans are found by a registry of
finders, one function each. Every finder returns character ranges; `find_protected`
merges them (the earliest, then the longest, range wins an overlap).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

#: Longest brace placeholder (ICU messages included) that is protected as one span.
MAX_BRACE_SPAN = 2000


@dataclass(frozen=True, order=True)
class Span:
    """A character range `[start, end)` of a text and why it is special.

    Attributes:
        start: First character.
        end: One past the last character.
        kind: The finder or feature that produced it ("placeholder", "url", ...).
        replacement: The text the span must become in the translation; for a
            protected span it is the span's own text.
    """

    start: int
    end: int
    kind: str = ""
    replacement: str = ""


Finder = Callable[[str], Iterable[tuple[int, int]]]
_FINDERS: dict[str, Finder] = {}


def register_finder(kind: str) -> Callable[[Finder], Finder]:
    """Decorator that registers a protected-span finder under `kind`."""

    def wrap(finder: Finder) -> Finder:
        _FINDERS[kind] = finder
        return finder

    return wrap


def finder_kinds() -> list[str]:
    """The registered finder kinds, in registration order."""
    return list(_FINDERS)


@register_finder("code")
def _code_spans(text: str) -> Iterable[tuple[int, int]]:
    # Markdown code spans: a run of backticks closed by the next run of the same
    # length. One pass over the runs (a regex with a backreference is quadratic).
    opened: dict[int, int] = {}  # run length -> start of the open run
    for run in re.finditer("`+", text):
        length = len(run.group())
        start = opened.pop(length, None)
        if start is None:
            opened[length] = run.start()
            continue
        if run.start() > start + length:
            yield start, run.end()
            opened.clear()
        else:
            opened[length] = run.start()


_SCHEME = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]{0,31}$")
_URL_BODY = re.compile(r"[^\s<>\"'`]+")


@register_finder("url")
def _urls(text: str) -> Iterable[tuple[int, int]]:
    # Anchored on "://" and "www." and expanded from there: linear in the text.
    position = 0
    for marker in re.finditer(r"://|\bwww\.", text):
        if marker.start() < position:
            continue
        if marker.group() == "://":
            scheme = _SCHEME.search(text, max(position, marker.start() - 32), marker.start())
            if scheme is None:
                continue
            start = scheme.start()
        else:
            start = marker.start()
        body = _URL_BODY.match(text, marker.end())
        if body is None:
            continue
        end = body.end()
        # Sentence punctuation after a URL is not part of it.
        while end > start and text[end - 1] in ".,;:!?)]}'\"":
            url = text[start:end]
            if url[-1] == ")" and url.count("(") >= url.count(")"):
                break  # a balanced parenthesis belongs to the URL (Wikipedia links)
            end -= 1
        position = end
        yield start, end


@register_finder("email")
def _emails(text: str) -> Iterable[tuple[int, int]]:
    # Expand around each "@" instead of matching from every start position: a
    # regex such as `[\w.+-]+@...` is quadratic on a long run of word characters.
    domain = re.compile(r"[\w-]+(?:\.[\w-]+)+")
    position = 0
    for at in re.finditer("@", text):
        if at.start() < position:
            continue
        start = at.start()
        while start > position and (text[start - 1].isalnum() or text[start - 1] in "._+-"):
            start -= 1
        found = domain.match(text, at.end())
        if start < at.start() and found:
            position = found.end()
            yield start, found.end()


@register_finder("printf")
def _printf(text: str) -> Iterable[tuple[int, int]]:
    # C/POSIX (`%s`, `%1$s`, `%-5.2f`, `%lld`) and Python's `%(name)s`. No space flag:
    # "50% sure" is not a placeholder.
    pattern = (
        r"%(?:\(\w+\)|\d+\$)?[-+0#]*(?:\d+|\*)?(?:\.(?:\d+|\*))?"
        r"(?:hh|h|ll|l|L|q|j|z|t)?[diouxXeEfFgGaAcspn@]|%%"
    )
    for match in re.finditer(pattern, text):
        yield match.span()


@register_finder("placeholder")
def _braces(text: str) -> Iterable[tuple[int, int]]:
    # Outermost matched brace pairs: `{name}`, `{{var}}`, `${var}`, ICU messages with
    # nested sub-messages. A brace without a partner is plain text and leaves later
    # placeholders protected; a pair longer than MAX_BRACE_SPAN is no placeholder, but
    # the pairs inside it still are. One pass with a stack, then one over the pairs.
    opened: list[int] = []
    pairs: list[tuple[int, int]] = []
    for brace in re.finditer("[{}]", text):
        if brace.group() == "{":
            opened.append(brace.start())
        elif opened:
            pairs.append((opened.pop(), brace.end()))
    pairs.sort()  # by start: a pair comes before the pairs nested inside it
    covered = 0
    for start, end in pairs:
        if start < covered or end - start > MAX_BRACE_SPAN:
            continue
        covered = end
        yield (start - 1 if start > 0 and text[start - 1] == "$" else start), end


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    """Sorts spans and drops the ones that overlap an earlier (or longer) one."""
    ordered = sorted(spans, key=lambda s: (s.start, -(s.end - s.start)))
    kept: list[Span] = []
    for span in ordered:
        if span.end <= span.start:
            continue
        if kept and span.start < kept[-1].end:
            continue
        kept.append(span)
    return kept


def find_protected(text: str, kinds: Iterable[str] | None = None) -> list[Span]:
    """Finds every protected span of `text`.

    Args:
        text: The source text.
        kinds: Finder kinds to use; None means all of them.

    Returns:
        Non-overlapping spans, sorted, each with `replacement` = its own text.
    """
    selected = _FINDERS if kinds is None else {k: _FINDERS[k] for k in kinds}
    found = [
        Span(start, end, kind, text[start:end])
        for kind, finder in selected.items()
        for start, end in finder(text)
    ]
    return merge_spans(found)
