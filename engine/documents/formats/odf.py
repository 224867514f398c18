"""OpenDocument text, presentations and spreadsheets (.odt, .odp, .ods), through odfpy.

Every paragraph and heading (`text:p`, `text:h`) is one unit, wherever it is: body,
tables, frames, notes, headers and footers. Its spans and links (`text:span`,
`text:a`) become inline elements, nested ones too; frames, notes, bookmarks and line
breaks are anchors kept as they were. In spreadsheets only string cells are
translated: a cell whose value type is a number, date, percentage or formula keeps
its displayed text.
"""

from __future__ import annotations

import io
import zipfile
from typing import Any

from dragoman.engine.documents.base import (
    SPREADSHEET_LIMITS,
    DocumentFormat,
    LoadedDocument,
    register_format,
    saved_with,
)
from dragoman.engine.documents.errors import CorruptDocument
from dragoman.engine.documents.inline import Run, decode_runs, encode_runs

TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
OFFICE_NS = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
#: Elements that wrap text with formatting or a link.
_WRAPPERS = {(TEXT_NS, "span"), (TEXT_NS, "a")}
#: Elements that stand for whitespace.
_SPACES = {(TEXT_NS, "s"), (TEXT_NS, "tab")}
_TEXT_NODE = 3


def _chain_key(chain: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((e.qname, tuple(sorted(e.attributes.items()))) for e in chain)


def _flatten(node: Any, chain: tuple[Any, ...], runs: list[Run]) -> None:
    from odf import teletype

    for child in node.childNodes:
        if child.nodeType == _TEXT_NODE:
            runs.append(Run(str(child.data), _chain_key(chain), chain))
        elif child.qname in _WRAPPERS:
            _flatten(child, (*chain, child), runs)
        elif child.qname in _SPACES:
            runs.append(Run(teletype.extractText(child), _chain_key(chain), chain))
        else:
            runs.append(Run(None, None, (chain, child)))


def _in_value_cell(element: Any) -> bool:
    node = element.parentNode
    while node is not None and getattr(node, "qname", None) != (TABLE_NS, "table-cell"):
        node = node.parentNode
    if node is None:
        return False
    value_type = node.attributes.get((OFFICE_NS, "value-type"), "string")
    return value_type != "string" or (TABLE_NS, "formula") in node.attributes


def _clone(element: Any) -> Any:
    from odf.element import Element

    return Element(qname=element.qname, qattributes=dict(element.attributes), check_grammar=False)


def _rebuild(paragraph: Any, runs: list[Run], translation: str, markup: Any) -> None:
    from odf import teletype

    pieces = decode_runs(translation, markup)
    for child in list(paragraph.childNodes):
        if child.nodeType == _TEXT_NODE:
            # odfpy's removeChild asserts that the child is an element.
            paragraph.childNodes.remove(child)
            child.parentNode = child.previousSibling = child.nextSibling = None
        else:
            paragraph.removeChild(child)
    for run, text in pieces:
        if text is None:
            chain, element = run.node
        else:
            chain, element = run.node, None
        parent = paragraph
        for wrapper in chain:
            copy = _clone(wrapper)
            parent.appendChild(copy)
            parent = copy
        if element is not None:
            parent.appendChild(element)
        else:
            teletype.addTextToElement(parent, text)


def _unit(loaded: LoadedDocument, paragraph: Any) -> None:
    runs: list[Run] = []
    _flatten(paragraph, (), runs)
    if not any(run.text and run.text.strip() for run in runs):
        return
    markup = encode_runs(runs)
    loaded.add(markup.markup, lambda t: _rebuild(paragraph, runs, t, markup), markup.tagged)


@register_format
class OpenDocument(DocumentFormat):
    """An OpenDocument text document."""

    name = "odt"
    mime_types = ("application/vnd.oasis.opendocument.text",)
    extensions = (".odt",)
    zipped = True

    def load(self, content: bytes) -> LoadedDocument:
        from odf import opendocument, text

        try:
            document = opendocument.load(io.BytesIO(content))
        except (zipfile.BadZipFile, KeyError, ValueError, AttributeError) as error:
            raise CorruptDocument(
                f"the file is not a valid .{self.name} document: {error}"
            ) from error
        loaded = LoadedDocument()
        for kind in (text.H, text.P):
            for paragraph in document.getElementsByType(kind):
                if not _in_value_cell(paragraph):
                    _unit(loaded, paragraph)

        loaded.save = saved_with(document.write)
        return loaded


@register_format
class OpenDocumentPresentation(OpenDocument):
    """An OpenDocument presentation."""

    name = "odp"
    mime_types = ("application/vnd.oasis.opendocument.presentation",)
    extensions = (".odp",)


@register_format
class OpenDocumentSpreadsheet(OpenDocument):
    """An OpenDocument spreadsheet."""

    name = "ods"
    mime_types = ("application/vnd.oasis.opendocument.spreadsheet",)
    extensions = (".ods",)
    limits = SPREADSHEET_LIMITS
