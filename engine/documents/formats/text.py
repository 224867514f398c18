"""Plain text, and the helpers every text-based format shares."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dragoman.engine.documents.base import DocumentFormat, LoadedDocument, register_format
from dragoman.engine.documents.errors import CorruptDocument

_BOM = "\ufeff"
#: A blank line (paragraph break) and the whitespace around it.
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")


def decode_text(content: bytes, fmt: DocumentFormat) -> str:
    """The file as text: UTF-8 (a byte-order mark is dropped and put back on save).

    Raises:
        CorruptDocument: Not UTF-8, or holds NUL characters (a binary file).
    """
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CorruptDocument(
            f"the {fmt.name} document is not UTF-8 text (byte {error.start}: "
            f"{content[error.start : error.start + 1]!r}); convert it to UTF-8"
        ) from error
    if "\x00" in text:
        raise CorruptDocument(
            f"the {fmt.name} document contains NUL characters: it is a binary file, not "
            f"{fmt.name}; check the mime type"
        )
    return text


@dataclass
class Pieces:
    """A text document as verbatim pieces and translatable ones, joined on save."""

    document: LoadedDocument = field(default_factory=LoadedDocument)
    parts: list[str] = field(default_factory=list)
    bom: bool = False

    def __post_init__(self) -> None:
        self.document.save = self.save

    def fixed(self, text: str) -> None:
        """Adds text kept as it is."""
        if text:
            self.parts.append(text)

    def unit(self, text: str, markup: bool = False) -> None:
        """Adds text to translate (whitespace-only text is kept as it is)."""
        index = len(self.parts)
        self.parts.append(text)
        self.document.add(text, lambda t: self.parts.__setitem__(index, t), markup)

    def save(self) -> bytes:
        """The document with every unit replaced by its translation."""
        return ((_BOM if self.bom else "") + "".join(self.parts)).encode("utf-8")


def text_pieces(content: bytes, fmt: DocumentFormat) -> tuple[Pieces, str]:
    """An empty `Pieces` for `content` and its text (without byte-order mark)."""
    text = decode_text(content, fmt)
    pieces = Pieces(bom=text.startswith(_BOM))
    return pieces, text.removeprefix(_BOM)


@register_format
class PlainText(DocumentFormat):
    """Plain UTF-8 text: each paragraph (text between blank lines) is one unit."""

    name = "txt"
    mime_types = ("text/plain",)
    extensions = (".txt", ".text")

    def load(self, content: bytes) -> LoadedDocument:
        pieces, text = text_pieces(content, self)
        position = 0
        for match in _PARAGRAPH_BREAK.finditer(text):
            pieces.unit(text[position : match.start()])
            pieces.fixed(match.group())
            position = match.end()
        pieces.unit(text[position:])
        return pieces.document
