"""Word documents (.docx), through python-docx.

Every paragraph of the body, tables (nested too), text boxes, headers, footers,
footnotes, endnotes and comments is one unit. Runs with another formatting than the
paragraph's main one (bold, italic, underline, a style, a hyperlink) become inline
elements and come back around the aligned words; fields, pictures, footnote
references and tracked changes are kept as anchors.
"""

from __future__ import annotations

import io
from typing import Any

from dragoman.engine.documents.base import (
    DocumentFormat,
    LoadedDocument,
    local_name,
    register_format,
    saved_with,
)
from dragoman.engine.documents.errors import CorruptDocument
from dragoman.engine.documents.formats.ooxml import XmlParagraph, properties_key
from dragoman.engine.documents.inline import Run

#: Children of a run that are text (anything else makes the run an anchor).
_TEXT_CHILDREN = {"rPr", "t", "tab", "br", "cr", "noBreakHyphen", "softHyphen",
                  "lastRenderedPageBreak"}  # fmt: skip
_NOTES = ("footnotes", "endnotes")


def _is_text_run(r: Any) -> bool:
    return all(local_name(child) in _TEXT_CHILDREN for child in r)


def _paragraph(p: Any) -> XmlParagraph:
    paragraph = XmlParagraph(p)
    for child in p:
        name = local_name(child)
        if name == "r":
            paragraph.slots.append(child)
            paragraph.runs.append(_run(child, None))
        elif name == "hyperlink" and all(local_name(r) == "r" and _is_text_run(r) for r in child):
            paragraph.slots.append(child)
            paragraph.runs.extend(_run(r, child) for r in child)
        elif name in ("hyperlink", "ins", "fldSimple", "smartTag", "sdt", "oMath"):
            paragraph.slots.append(child)
            paragraph.runs.append(Run(None, None, (child, None)))
    return paragraph


def _run(r: Any, container: Any) -> Run:
    if not _is_text_run(r):
        return Run(None, None, (r, None))
    return Run(r.text, properties_key(r.rPr, container), (r, container))


def _register_note_parts() -> None:
    # python-docx loads footnotes/endnotes as opaque parts; as XmlParts they are
    # parsed, editable and serialized back on save.
    from docx.opc.constants import CONTENT_TYPE
    from docx.opc.part import PartFactory, XmlPart

    for name in _NOTES:
        content_type = getattr(CONTENT_TYPE, f"WML_{name.upper()}")
        PartFactory.part_type_for.setdefault(content_type, XmlPart)


@register_format
class Docx(DocumentFormat):
    """A Word document."""

    name = "docx"
    mime_types = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",)
    extensions = (".docx",)
    zipped = True

    def load(self, content: bytes) -> LoadedDocument:
        import docx
        from docx.opc.exceptions import PackageNotFoundError
        from docx.oxml.ns import qn

        _register_note_parts()
        try:
            document = docx.Document(io.BytesIO(content))
        except (PackageNotFoundError, KeyError, ValueError) as error:
            raise CorruptDocument(f"the file is not a valid .docx document: {error}") from error
        loaded = LoadedDocument()
        for part in document.part.package.iter_parts():
            element = getattr(part, "element", None)
            if element is None or "wordprocessingml" not in part.content_type:
                continue
            for p in element.iter(qn("w:p")):
                _paragraph(p).add_to(loaded)

        loaded.save = saved_with(document.save)
        return loaded
