"""engine/markup.py: every parser failure is an InvalidMarkup that says where and what,
markup comes back byte for byte, and hostile documents parse in linear time.

The large inputs below took minutes with the stdlib parser's own recovery (quadratic in
the document); they are here so that a regression shows as a test timeout.
"""

from __future__ import annotations

import pytest
from dragoman.engine.errors import InvalidMarkup, InvalidOption
from dragoman.engine.markup import MAX_INLINE_DEPTH, ParsedMarkup, parse_markup

#: markup -> fragments the InvalidMarkup message must contain.
BROKEN: dict[str, tuple[str, tuple[str, ...]]] = {
    "unknown-marked-section": ("a <![x[y]]> b", ("`<![x[` at character 2", "CDATA")),
    "marked-section-no-name": ("a <![ 1", ("`<![` at character 2",)),
    "unclosed-comment": ("a <!-- b", ("comment `<!--` at character 2", "`-->`")),
    "unclosed-cdata": ("<![CDATA[ x", ("`<![CDATA`", "`]]>`")),
    "unclosed-conditional": ("<![if IE", ("`<![if`", "`]>`")),
    "unclosed-doctype": ("<!DOCTYPE html", ("`<!DOCTYPE` at character 0",)),
    "unclosed-bogus": ("x <!y", ("`<!` at character 2",)),
    "unclosed-pi": ("<?xml", ("processing instruction",)),
    "unclosed-start-tag": ("Hi <b class='x", ("tag `<b` at character 3", "&lt;")),
    "unclosed-end-tag": ("<b>x</b", ("end tag `</` at character 4",)),
    "end-tag-closes-nothing": ("x</b>", ("</b> at character 1 closes no open element",)),
    "misnested": ("<b><i>x</b></i>", ("misnested markup",)),
    "skipped-never-closed": ("<code>x", ("<code> at character 0 is never closed",)),
    "too-deep": ("<b>" * (MAX_INLINE_DEPTH + 1), (f"more than {MAX_INLINE_DEPTH} deep",)),
}


@pytest.mark.parametrize(("source", "says"), BROKEN.values(), ids=BROKEN.keys())
def test_broken_markup_is_invalid_markup(source: str, says: tuple[str, ...]) -> None:
    with pytest.raises(InvalidMarkup) as caught:
        parse_markup(source)
    assert isinstance(caught.value, InvalidOption)  # INVALID_ARGUMENT, never INTERNAL
    for fragment in says:
        assert fragment in str(caught.value)
    assert "text/plain" in str(caught.value)


def _verbatim(parsed: ParsedMarkup) -> str:
    out = []
    for part in parsed.parts:
        if isinstance(part, str):
            out.append(part)
        else:
            out += [chunk.fixed if chunk.fixed is not None else chunk.text for chunk in part]
    return "".join(out)


KEPT = {
    "cdata": "<p>a</p><![CDATA[ x < y ]]><p>b</p>",
    "conditional": "<![if IE]><p>old</p><![endif]>",
    "comment-bang": "<p>a <!-- c --!> b</p>",
    "bogus-comment": "<p>a</p><!bogus><p>b</p>",
    "pi-and-doctype": '<?xml version="1.0"?><!DOCTYPE html><p>a</p>',
    "sections-inside-code": "<p><code><![CDATA[x]]><!-- y --></code> after</p>",
    "lone-less-than": "<p>if a < b then</p>",
}


@pytest.mark.parametrize("source", KEPT.values(), ids=KEPT.keys())
def test_declarations_comments_and_sections_are_kept_as_written(source: str) -> None:
    assert _verbatim(parse_markup(source)) == source


def test_block_nesting_is_not_limited() -> None:
    depth = 5000
    source = "<div>" * depth + "x" + "</div>" * depth
    parsed = parse_markup(source)
    assert _verbatim(parsed) == source


def test_inline_nesting_up_to_the_limit() -> None:
    source = "<b>" * MAX_INLINE_DEPTH + "x" + "</b>" * MAX_INLINE_DEPTH
    parsed = parse_markup(source)
    (unit,) = [part for part in parsed.parts if not isinstance(part, str)]
    assert len(unit[0].tags) == MAX_INLINE_DEPTH


def test_four_thousand_tags() -> None:
    source = "<p>" + "".join(f'<a href="/{i}">w{i}</a> ' for i in range(4000)) + "</p>"
    parsed = parse_markup(source)
    assert len(parsed.tags) == 4000


#: Documents of about 400,000 characters built to make a backtracking or re-scanning
#: parser quadratic: a run of one construct that never completes, or completes late.
#: Python 3.11's own recovery needs minutes for several of them; this parser < 1 s.
HOSTILE = {
    "comment-openers": "<!--" * 100_000,
    "tag-openers": "<a" * 200_000,
    "quote-openers": "<a b='" * 66_000,
    "less-thans": "<" * 400_000,
    "end-tag-openers": "</" * 200_000,
    "bang-openers": "<!" * 200_000,
    "cdata-openers": "<![CDATA[" * 44_000,
    "inline-in-code": "<code>" + "<b>x</b>" * 50_000 + "</code>",
    "lt-in-code": "<code>" + "<" * 400_000 + "</code>",
}


@pytest.mark.timeout(120)  # a quadratic parser takes minutes here; this one a second
@pytest.mark.parametrize("source", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_documents_finish(source: str) -> None:
    try:
        parse_markup(source)
    except InvalidMarkup as error:
        assert "character" in str(error)
