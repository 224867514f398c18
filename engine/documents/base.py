"""The format registry: one `DocumentFormat` per format family, found by mime type or name.

A format *loads* a file into a `LoadedDocument`: the translatable `Unit`s in document
order (plain text, or inline markup when a paragraph has runs of formatting) and a
`save()` that writes the document back once every unit has its translation.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, ClassVar

from dragoman.engine.documents.errors import DocumentTooLarge, UnsupportedFormat

MB = 1024 * 1024
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class DocumentLimits:
    """What one document of a format may hold; beyond it, `DocumentTooLarge`/`UnsafeDocument`.

    Attributes:
        max_bytes: Size of the file as sent.
        max_units: Translatable units (paragraphs, cells, cues, entries).
        max_chars: Characters to translate, all units together.
        max_unpacked_bytes: Zip containers: uncompressed size of all members together.
        max_ratio: Zip containers: compression ratio of a member above 1 MB.
        max_members: Zip containers: number of members.
    """

    max_bytes: int = 8 * MB
    max_units: int = 50_000
    max_chars: int = 2_000_000
    max_unpacked_bytes: int = 256 * MB
    max_ratio: float = 100.0
    max_members: int = 10_000


#: Spreadsheets hold many short cells: more units, the same characters.
SPREADSHEET_LIMITS = DocumentLimits(max_units=200_000)


@dataclass
class Unit:
    """One piece of text to translate and where its translation goes.

    Attributes:
        text: The source text: plain, or inline markup (`markup` True) whose tags the
            engine puts back around the aligned words.
        markup: Whether `text` is markup (sent as text/html).
        apply: Receives the translation (same kind as `text`).
    """

    text: str
    markup: bool
    apply: Callable[[str], None]

    @property
    def plain(self) -> str:
        """The unit's text without markup."""
        return html.unescape(_TAG.sub("", self.text)) if self.markup else self.text


@dataclass
class LoadedDocument:
    """A parsed document: its units in order and how to write it back."""

    units: list[Unit] = field(default_factory=list)
    save: Callable[[], bytes] = lambda: b""

    def add(self, text: str, apply: Callable[[str], None], markup: bool = False) -> None:
        """Adds a unit unless it has no letters (numbers, codes and blanks stay as they are)."""
        words = _TAG.sub("", text) if markup else text
        if any(char.isalpha() for char in words):
            self.units.append(Unit(text, markup, apply))


def saved_with(write: Callable[[io.BytesIO], Any]) -> Callable[[], bytes]:
    """A `LoadedDocument.save` for libraries that write to a stream (`write(stream)`)."""

    def save() -> bytes:
        out = io.BytesIO()
        write(out)
        return out.getvalue()

    return save


def local_name(element: Any) -> str:
    """An XML element's name without its namespace ("" for comments and the like)."""
    tag = getattr(element, "tag", None)
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


class DocumentFormat:
    """A format family: subclasses set the class attributes and implement `load`.

    Attributes:
        name: Short name (`docx`), used in messages.
        mime_types: Mime types it is registered for; the first is the canonical one.
        extensions: File name extensions (with the dot) it is registered for.
        zipped: Whether files are zip containers (checked for bombs and macros first).
        limits: The format's default limits.
    """

    name: ClassVar[str]
    mime_types: ClassVar[tuple[str, ...]]
    extensions: ClassVar[tuple[str, ...]]
    zipped: ClassVar[bool] = False
    limits: ClassVar[DocumentLimits] = DocumentLimits()

    def load(self, content: bytes) -> LoadedDocument:
        """Parses `content`.

        Raises:
            CorruptDocument: It is not a readable file of this format.
            UnsafeDocument: It is refused (entities, macros, ...).
        """
        raise NotImplementedError

    def check_units(self, document: LoadedDocument) -> None:
        """Raises DocumentTooLarge when `document` holds more than the limits allow."""
        limits = self.limits
        if len(document.units) > limits.max_units:
            raise DocumentTooLarge(
                f"the {self.name} document has {len(document.units):,} text units; the limit "
                f"is {limits.max_units:,}: split the document"
            )
        chars = sum(len(unit.text) for unit in document.units)
        if chars > limits.max_chars:
            raise DocumentTooLarge(
                f"the {self.name} document has {chars:,} characters of text; the limit is "
                f"{limits.max_chars:,}: split the document"
            )


_BY_MIME: dict[str, DocumentFormat] = {}
_BY_EXTENSION: dict[str, DocumentFormat] = {}


def register_format(cls: type[DocumentFormat]) -> type[DocumentFormat]:
    """Class decorator: registers a format under its mime types and extensions."""
    instance = cls()
    for mime in cls.mime_types:
        _BY_MIME.setdefault(mime, instance)
    for extension in cls.extensions:
        _BY_EXTENSION.setdefault(extension, instance)
    return cls


def registered_formats() -> list[DocumentFormat]:
    """Every registered format, once each, in registration order."""
    return list({id(f): f for f in _BY_MIME.values()}.values())


def find_format(mime_type: str, file_name: str = "") -> DocumentFormat:
    """The format of a document: by its mime type, else by its file name's extension.

    Raises:
        UnsupportedFormat: Neither names a registered format.
    """
    mime = mime_type.split(";")[0].strip().lower()
    if mime and mime not in ("application/octet-stream",):
        found = _BY_MIME.get(mime)
        if found is None:
            raise UnsupportedFormat(
                f"mime_type {mime_type!r} is not a supported document type; use one of: "
                + ", ".join(sorted(_BY_MIME))
            )
        return found
    suffix = PurePosixPath(file_name.replace("\\", "/")).suffix.lower()
    found = _BY_EXTENSION.get(suffix)
    if found is None:
        raise UnsupportedFormat(
            f"cannot tell the format of {file_name or 'the document'!r}: set mime_type, or a "
            "file_name with one of the extensions " + ", ".join(sorted(_BY_EXTENSION))
        )
    return found
