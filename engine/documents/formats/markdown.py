"""Markdown, parsed by markdown-it-py (CommonMark plus tables and strikethrough).

Every inline token (a paragraph, heading, list item or table cell) is one unit: its
emphasis, strong and link spans become inline elements, code spans, images, autolinks
and inline HTML anchors kept byte for byte, and link URLs stay as they are. Code
blocks and fences are never units. The translation replaces the unit's source text
in place; soft line breaks inside a paragraph are re-flowed into one line.
"""

from __future__ import annotations

from typing import Any

from dragoman.engine.documents.base import DocumentFormat, LoadedDocument, register_format
from dragoman.engine.documents.formats.text import Pieces, text_pieces
from dragoman.engine.documents.inline import InlineMarkup, decode

_PAIRED = {"strong", "em", "s", "link"}


def _link_end(token: Any) -> str:
    title = token.attrGet("title")
    href = str(token.attrGet("href") or "")
    quoted = f' "{title}"' if title else ""
    return f"]({href}{quoted})"


def _encode(children: list[Any]) -> InlineMarkup:
    markup = InlineMarkup()
    openers: list[Any] = []
    skip_until_close = False
    for token in children:
        kind = token.type
        if skip_until_close:
            skip_until_close = kind != "link_close"
            continue
        if kind == "text":
            markup.text(token.content)
        elif kind == "softbreak":
            markup.text(" ")
        elif kind == "hardbreak":
            markup.anchor(["\\\n"])
        elif kind == "code_inline":
            markup.anchor([f"{token.markup}{token.content}{token.markup}"])
        elif kind == "link_open" and token.markup == "autolink":
            markup.anchor([f"<{token.attrGet('href')}>"])
            skip_until_close = True
        elif kind == "image":
            alt = "".join(c.content for c in token.children or [])
            title = token.attrGet("title")
            quoted = f' "{title}"' if title else ""
            markup.anchor([f"![{alt}]({token.attrGet('src')}{quoted})"])
        elif kind.endswith("_open") and kind[:-5] in _PAIRED:
            openers.append(token)
            markup.open(token)
        elif kind.endswith("_close") and kind[:-6] in _PAIRED and openers:
            markup.close(openers.pop())
        else:
            markup.anchor([token.content or token.markup])
    return markup


def _render(translation: str, markup: InlineMarkup) -> str:
    out: list[str] = []
    links: list[int] = []
    for event in decode(translation, markup):
        if event.kind == "text":
            out.append(event.value)
        elif event.kind == "anchor":
            out.append(event.value[0])
        elif event.value.type != "link_open":
            out.append(event.value.markup)
        elif event.kind == "start":
            links.append(len(out))
            out.append("[")
        else:
            start = links.pop() if links else len(out)
            if "".join(out[start + 1 :]).strip():
                out.append(_link_end(event.value))
            else:  # no word aligned to the link's text: keep the link visible
                out[start:] = [f"<{event.value.attrGet('href')}>"]
    return "".join(out)


def _locate(text: str, line_starts: list[int], token: Any, cursor: int) -> tuple[int, int] | None:
    """Where the inline token's content is in the source (start, end), or None."""
    first, last = token.map
    position = max(line_starts[first], cursor)
    limit = line_starts[last] if last < len(line_starts) else len(text)
    start = end = -1
    for line in token.content.split("\n"):
        found = text.find(line, position, limit)
        if found < 0:
            return None
        start = found if start < 0 else start
        end = position = found + len(line)
    return start, end


@register_format
class Markdown(DocumentFormat):
    """A Markdown document."""

    name = "md"
    mime_types = ("text/markdown", "text/x-markdown")
    extensions = (".md", ".markdown")

    def load(self, content: bytes) -> LoadedDocument:
        from markdown_it import MarkdownIt

        pieces, text = text_pieces(content, self)
        parser = MarkdownIt("commonmark").enable(["table", "strikethrough"])
        line_starts = [0]
        for index, char in enumerate(text):
            if char == "\n":
                line_starts.append(index + 1)
        cursor = 0
        for token in parser.parse(text):
            if token.type != "inline" or not token.map or not token.content.strip():
                continue
            found = _locate(text, line_starts, token, cursor)
            if found is None:
                continue  # not where markdown-it says (tabs expanded): kept as it is
            start, end = found
            pieces.fixed(text[cursor:start])
            self._unit(pieces, _encode(token.children or []))
            cursor = end
        pieces.fixed(text[cursor:])
        return pieces.document

    @staticmethod
    def _unit(pieces: Pieces, markup: InlineMarkup) -> None:
        index = len(pieces.parts)
        pieces.parts.append(_render(markup.markup, markup) if markup.tagged else markup.markup)
        pieces.document.add(
            markup.markup,
            lambda t: pieces.parts.__setitem__(index, _render(t, markup)),
            markup.tagged,
        )
