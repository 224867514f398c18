"""HTML and XHTML: the engine's markup parser cuts the page into blocks.

Each block's inline content (text with its inline elements) is one markup unit;
everything else (block tags, comments, `<script>`, `<code>`, `translate="no"`) is
kept byte for byte. XHTML is screened by defusedxml first (no entity declarations).
"""

from __future__ import annotations

from dragoman.engine.documents import safety
from dragoman.engine.documents.base import DocumentFormat, LoadedDocument, register_format
from dragoman.engine.documents.errors import CorruptDocument
from dragoman.engine.documents.formats.text import text_pieces
from dragoman.engine.errors import InvalidOption
from dragoman.engine.markup import Item, escape_text, parse_markup, render_items


@register_format
class Html(DocumentFormat):
    """An HTML page; one unit per block of inline content."""

    name = "html"
    mime_types = ("text/html",)
    extensions = (".html", ".htm")

    def load(self, content: bytes) -> LoadedDocument:
        pieces, text = text_pieces(content, self)
        try:
            parsed = parse_markup(text)
        except InvalidOption as error:
            raise CorruptDocument(f"the {self.name} document cannot be parsed: {error}") from error
        for part in parsed.parts:
            if isinstance(part, str):
                pieces.fixed(part)
                continue
            items = [
                Item("", c.fixed if c.fixed is not None else escape_text(c.text), c.tags)
                for c in part
            ]
            pieces.unit(render_items(items, parsed.tags), markup=True)
        return pieces.document


@register_format
class Xhtml(Html):
    """An XHTML page (XML: screened for entities first)."""

    name = "xhtml"
    mime_types = ("application/xhtml+xml",)
    extensions = (".xhtml", ".xht")

    def load(self, content: bytes) -> LoadedDocument:
        safety.check_xml(content, "the xhtml document")
        return super().load(content)
