"""PowerPoint presentations (.pptx), through python-pptx.

Every paragraph on the slides (text frames, grouped shapes, tables) and in the
speaker notes is one unit; runs of another formatting (bold, a hyperlink, a colour)
become inline elements, line breaks and fields (slide numbers, dates) anchors.
Layouts and masters (placeholder prompts) are not translated.
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

_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"


def _paragraph(p: Any) -> XmlParagraph:
    paragraph = XmlParagraph(p)
    for child in p:
        name = local_name(child)
        if name == "r":
            paragraph.slots.append(child)
            props = child.find(f"{_A}rPr")
            paragraph.runs.append(Run(child.text, properties_key(props), (child, None)))
        elif name in ("br", "fld"):
            paragraph.slots.append(child)
            paragraph.runs.append(Run(None, None, (child, None)))
    return paragraph


@register_format
class Pptx(DocumentFormat):
    """A PowerPoint presentation."""

    name = "pptx"
    mime_types = ("application/vnd.openxmlformats-officedocument.presentationml.presentation",)
    extensions = (".pptx",)
    zipped = True

    def load(self, content: bytes) -> LoadedDocument:
        import pptx
        from pptx.exc import PackageNotFoundError

        try:
            presentation = pptx.Presentation(io.BytesIO(content))
        except (PackageNotFoundError, KeyError, ValueError) as error:
            raise CorruptDocument(f"the file is not a valid .pptx document: {error}") from error
        loaded = LoadedDocument()
        for slide in presentation.slides:
            roots = [slide.element]
            if slide.has_notes_slide:
                roots.append(slide.notes_slide.element)
            for root in roots:
                for p in root.iter(f"{_A}p"):
                    _paragraph(p).add_to(loaded)

        loaded.save = saved_with(presentation.save)
        return loaded
