"""HTML and XML-ish inline markup: what to translate and where the tags go back.

`parse_markup` cuts a document into verbatim markup (block-level tags, comments,
skipped elements) and *units*: runs of text between block boundaries, as chunks
that each carry the stack of inline elements around them. Elements that must not
be translated (`<code>`, `<pre>`, `<script>`, `translate="no"`, `class="notranslate"`)
are kept byte for byte. After translation, `render_items` puts the inline tags back
around the target words aligned to the words they held, by diffing tag stacks
between consecutive words, so the output is always well nested.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser

from dragoman.engine.alignment import Chunk
from dragoman.engine.errors import EngineError, InvalidMarkup

logger = logging.getLogger(__name__)


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


INLINE = _names(
    "a abbr b bdi bdo big cite data del dfn em font i ins label mark q s small span strong "
    "sub sup time tt u"
)
#: Zero-width inline elements, kept at their place in the sentence.
INLINE_VOID = _names("br img wbr input")
VOID = _names("area base br col embed hr img input link meta param source track wbr")
#: Elements whose content is never translated.
SKIPPED = _names("code pre script style kbd samp var textarea svg math noscript")
#: Skipped elements that do not split the text around them.
SKIPPED_INLINE = _names("code kbd samp var")
#: Tags that are not HTML but look like it (XML inline tags such as `<g id="1">`,
#: `<x1/>`) are treated as inline elements.
KNOWN_HTML = (
    INLINE
    | VOID
    | SKIPPED
    | _names(
        "html head body title p div ul ol li h1 h2 h3 h4 h5 h6 table thead tbody tfoot tr td th "
        "section article header footer nav aside blockquote dl dt dd figure figcaption main form "
        "fieldset legend option select button caption colgroup details summary address hgroup "
        "iframe object video audio canvas picture map menu template"
    )
)
_NAME = re.compile(r"<\s*([^\s/<>]+)")
#: Deepest nesting of inline elements accepted; real documents nest a handful. It keeps
#: the tag stacks carried by every chunk (and diffed when rendering) short.
MAX_INLINE_DEPTH = 100
_COMMENT_END = re.compile(r"--!?>")
_SECTION_NAME = re.compile(r"<!\[\s*([A-Za-z][-.A-Za-z0-9]*)")
_SECTION_END = (re.compile(r"\]\s*\]\s*>"), "]]>")
_CONDITIONAL_END = (re.compile(r"\]\s*>"), "]>")
#: Marked sections (`<![CDATA[...]]>`, `<![if ...]>`) by keyword: what ends each.
_SECTIONS: dict[str, tuple[re.Pattern[str], str]] = {
    **dict.fromkeys(("cdata", "temp", "ignore", "include", "rcdata"), _SECTION_END),
    **dict.fromkeys(("if", "else", "endif"), _CONDITIONAL_END),
}
_FIX = "fix the markup, escape a literal `<` as `&lt;`, or send it as text/plain"


@dataclass(frozen=True)
class InlineTag:
    """An inline element's original start tag (attributes kept) and its end tag."""

    start: str
    end: str


@dataclass
class ParsedMarkup:
    """A document split into verbatim markup and translatable units.

    Attributes:
        parts: In document order: verbatim strings and units (lists of chunks).
        tags: The inline elements, indexed by the ids in `Chunk.tags`.
    """

    parts: list[str | list[Chunk]] = field(default_factory=list)
    tags: list[InlineTag] = field(default_factory=list)


def _skips(tag: str, attrs: Sequence[tuple[str, str | None]]) -> bool:
    if tag in SKIPPED:
        return True
    values = {name.lower(): (value or "") for name, value in attrs}
    return (
        values.get("translate", "").lower() == "no"
        or "notranslate" in values.get("class", "").split()
    )


class _StrictParser(HTMLParser):
    """`HTMLParser` that stops at the first construct it cannot complete, in linear time.

    Once all the input is in (`close()`), the stdlib parser (Python 3.11) retries a
    construct that is never closed (`<!--` without `-->`, `<b` without `>`) from the
    next character, scanning the rest of the document again each time: quadratic in the
    document. Its marked-section code raises AssertionError on keywords it does not know
    (`<![x[`). Here both are an `InvalidMarkup` that names the construct and where it
    starts. Before `close()`, an incomplete construct still waits for more input.
    """

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.source = source
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", source)]
        self._final = False

    def position(self) -> int:
        """Offset in the source of what the parser looks at now."""
        line, column = self.getpos()
        return self.line_starts[line - 1] + column

    def close(self) -> None:
        """Parses the rest of the input; nothing more will come."""
        self._final = True
        super().close()

    def comment(self, raw: str) -> None:
        """A comment (`<!-- ... -->`, or `<!...>` that is no declaration), as written."""

    def section(self, raw: str) -> None:
        """A marked section (`<![CDATA[ ... ]]>`), as written."""

    def _incomplete(self, construct: str, closer: str) -> int:
        if not self._final:
            return -1  # more input may follow; close() looks again
        raise InvalidMarkup(
            f"{construct} at character {self.position()} is never closed with `{closer}`: {_FIX}"
        )

    def parse_starttag(self, i: int) -> int:
        """A start tag; an error if it never ends."""
        end = super().parse_starttag(i)
        name = _NAME.match(self.rawdata, i)
        tag = f"`<{name.group(1)[:20]}`" if name else "a tag"
        return end if end >= 0 else self._incomplete(f"the tag {tag}", ">")

    def parse_endtag(self, i: int) -> int:
        """An end tag; an error if it never ends."""
        end = super().parse_endtag(i)
        return end if end >= 0 else self._incomplete("the end tag `</`", ">")

    def parse_comment(self, i: int, report: int = 1) -> int:
        """`<!-- ... -->`."""
        end = _COMMENT_END.search(self.rawdata, i + 4)
        if end is None:
            return self._incomplete("the comment `<!--`", "-->")
        if report:
            self.comment(self.rawdata[i : end.end()])
        return end.end()

    def parse_marked_section(self, i: int, report: int = 1) -> int:
        """`<![CDATA[ ... ]]>` and the other marked sections HTMLParser knows."""
        name = _SECTION_NAME.match(self.rawdata, i)
        if name is None:
            return self._incomplete("the marked section `<![`", "[")
        section = _SECTIONS.get(name.group(1).lower())
        if section is None:
            raise InvalidMarkup(
                f"`<![{name.group(1)[:20]}[` at character {self.position()} is not a marked "
                f"section (use `<![CDATA[...]]>`): {_FIX}"
            )
        end = section[0].search(self.rawdata, i + 3)
        if end is None:
            return self._incomplete(f"the marked section `<![{name.group(1)[:20]}`", section[1])
        if report:
            self.section(self.rawdata[i : end.end()])
        return end.end()

    def parse_html_declaration(self, i: int) -> int:
        """`<!DOCTYPE ...>`, comments, marked sections and `<!...>` bogus comments."""
        rawdata = self.rawdata
        if rawdata.startswith("<!--", i):
            return self.parse_comment(i)
        if rawdata.startswith("<![", i):
            return self.parse_marked_section(i)
        if rawdata[i : i + 9].lower() == "<!doctype":
            end = rawdata.find(">", i + 9)
            if end < 0:
                return self._incomplete("the declaration `<!DOCTYPE`", ">")
            self.handle_decl(rawdata[i + 2 : end])
            return end + 1
        return self.parse_bogus_comment(i)

    def parse_bogus_comment(self, i: int, report: int = 1) -> int:
        """`<!...>` or `</ ...>` that is no tag: kept as a comment."""
        end = self.rawdata.find(">", i + 2)
        if end < 0:
            return self._incomplete(f"`{self.rawdata[i : i + 2]}`", ">")
        if report:
            self.comment(self.rawdata[i : end + 1])
        return end + 1

    def parse_pi(self, i: int) -> int:
        """`<? ... >`."""
        end = self.rawdata.find(">", i + 2)
        if end < 0:
            return self._incomplete("the processing instruction `<?`", ">")
        self.handle_pi(self.rawdata[i + 2 : end])
        return end + 1


class _Splitter(_StrictParser):
    def __init__(self, source: str) -> None:
        super().__init__(source)
        self.result = ParsedMarkup()
        self.unit: list[Chunk] = []
        # Open inline elements: (name, tag id, chunks in the unit when it opened).
        self.stack: list[tuple[str, int, int]] = []
        self.skip: tuple[str, int, int, bool] | None = None  # name, depth, offset, inline

    def flush(self) -> None:
        self.stack.clear()
        if self.unit:
            self.result.parts.append(self.unit)
            self.unit = []

    def verbatim(self, text: str) -> None:
        self.flush()
        self.result.parts.append(text)

    def anchor(self, markup: str) -> None:
        self.unit.append(Chunk("", markup, self.tags()))

    def tags(self) -> tuple[int, ...]:
        return tuple(tag_id for _, tag_id, _ in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raw = self.get_starttag_text() or f"<{tag}>"
        if self.skip is not None:
            name, depth, start, inline = self.skip
            self.skip = (name, depth + (tag == name), start, inline)
            return
        if _skips(tag, attrs):
            inline = tag in SKIPPED_INLINE or tag not in KNOWN_HTML or tag in INLINE
            self.skip = (tag, 1, self.position(), inline)
            return
        if tag in VOID:
            self.handle_startendtag(tag, attrs)
            return
        if tag in INLINE or tag not in KNOWN_HTML:
            if len(self.stack) >= MAX_INLINE_DEPTH:
                raise InvalidMarkup(
                    f"<{tag}> at character {self.position()} nests inline elements more than "
                    f"{MAX_INLINE_DEPTH} deep: flatten the markup or send it as text/plain"
                )
            found = _NAME.match(raw)
            self.result.tags.append(InlineTag(raw, f"</{found.group(1) if found else tag}>"))
            self.stack.append((tag, len(self.result.tags) - 1, len(self.unit)))
            return
        self.verbatim(raw)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raw = self.get_starttag_text() or f"<{tag}/>"
        if self.skip is not None:
            return
        if tag in INLINE_VOID or tag not in KNOWN_HTML or tag in INLINE:
            self.anchor(raw)
        else:
            self.verbatim(raw)

    def handle_endtag(self, tag: str) -> None:
        if self.skip is not None:
            name, depth, start, inline = self.skip
            if tag != name:
                return
            if depth > 1:
                self.skip = (name, depth - 1, start, inline)
                return
            end = self.source.find(">", self.position()) + 1
            raw = self.source[start:end]
            self.skip = None
            if inline:
                inner = re.sub(r"<[^<>]*>", "", raw)  # `[^<>]`: linear on a run of `<`
                self.unit.append(Chunk(html.unescape(inner), raw, self.tags()))
            else:
                self.verbatim(raw)
            return
        if tag in INLINE or tag not in KNOWN_HTML:
            self.close_inline(tag)
        elif tag not in VOID:
            self.verbatim(self.source[self.position() : self.source.find(">", self.position()) + 1])

    def close_inline(self, tag: str) -> None:
        names = [name for name, _, _ in self.stack]
        if tag not in names:
            raise InvalidMarkup(
                f"unbalanced markup: </{tag}> at character {self.position()} closes no open "
                "element; fix the markup or send it as text/plain"
            )
        position = len(names) - 1 - names[::-1].index(tag)
        if position != len(names) - 1:
            inner = names[-1]
            raise InvalidMarkup(
                f"misnested markup: </{tag}> at character {self.position()} closes <{tag}> "
                f"while <{inner}> inside it is still open; fix the markup or send it as "
                "text/plain"
            )
        if len(self.unit) == self.stack[-1][2]:
            self.anchor("")  # an empty element (`<b></b>`) still comes back
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.skip is None and data:
            self.unit.append(Chunk(data, None, self.tags()))

    def comment(self, raw: str) -> None:
        if self.skip is None:
            self.anchor(raw)

    def section(self, raw: str) -> None:
        if self.skip is None:
            self.verbatim(raw)

    def handle_decl(self, decl: str) -> None:
        if self.skip is None:
            self.verbatim(f"<!{decl}>")

    def handle_pi(self, data: str) -> None:
        if self.skip is None:
            self.verbatim(f"<?{data}>")


def parse_markup(source: str) -> ParsedMarkup:
    """Splits an HTML or XML-ish document into verbatim markup and translatable units.

    Raises:
        InvalidMarkup: An inline end tag closes nothing, or inline elements are
            misnested (`<b><i>x</b></i>`) or nested too deep; a skipped element, tag,
            comment or marked section is never closed; the parser fails.
    """
    splitter = _Splitter(source)
    try:
        splitter.feed(source)
        splitter.close()
    except EngineError:
        raise
    except Exception as error:  # the stdlib parser's own failures (AssertionError, ...)
        logger.warning("markup parser failure at %d", splitter.position(), exc_info=error)
        raise InvalidMarkup(
            f"cannot parse the markup near character {splitter.position()} "
            f"({type(error).__name__}: {str(error)[:100]}): {_FIX}"
        ) from error
    if splitter.skip is not None:
        raise InvalidMarkup(
            f"unbalanced markup: <{splitter.skip[0]}> at character {splitter.skip[2]} is "
            "never closed; fix the markup or send it as text/plain"
        )
    splitter.flush()
    return splitter.result


@dataclass(frozen=True)
class Item:
    """One piece of a rendered unit: whitespace, then content inside a tag stack."""

    lead: str
    content: str
    tags: tuple[int, ...] = ()


def render_items(items: Sequence[Item], tags: Sequence[InlineTag]) -> str:
    """Joins items, opening and closing inline tags where the stack changes.

    End tags hug the word before them, start tags the word after them; every element
    opened is closed, so the result is well nested whatever the word order.
    """
    out: list[str] = []
    current: tuple[int, ...] = ()
    for item in items:
        common = 0
        while common < min(len(current), len(item.tags)) and current[common] == item.tags[common]:
            common += 1
        out += [tags[t].end for t in reversed(current[common:])]
        out.append(item.lead)
        out += [tags[t].start for t in item.tags[common:]]
        out.append(item.content)
        current = item.tags
    out += [tags[t].end for t in reversed(current)]
    return "".join(out)


def escape_text(text: str) -> str:
    """Escapes text for HTML/XML element content."""
    return html.escape(text, quote=False)
