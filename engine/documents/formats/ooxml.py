"""What .docx and .pptx share: a paragraph's runs as one unit, rebuilt after translation.

A paragraph element (`w:p`, `a:p`) holds runs of text with their properties, and
other things (fields, pictures, breaks) kept as anchors. After translation the text
runs are rebuilt in the translation's order from copies of the original runs (same
properties, new text), inside a copy of their container (a `w:hyperlink`) when they
had one; anchors go back as they were; everything else stays where it was.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dragoman.engine.documents.base import LoadedDocument
from dragoman.engine.documents.inline import InlineMarkup, Run, decode_runs, encode_runs
from lxml import etree


def properties_key(element: Any | None, container: Any | None = None) -> tuple[bytes, bytes]:
    """A run's formatting identity: its properties element and its container's attributes."""
    props = etree.tostring(element) if element is not None else b""
    link = repr(sorted(container.attrib.items())).encode() if container is not None else b""
    return props, link


@dataclass
class XmlParagraph:
    """One paragraph's runs and the children of the paragraph they came from.

    Attributes:
        element: The paragraph element.
        runs: Text runs (`node` = (run element, container or None)) and anchors
            (`node` = (the child element, None)).
        slots: The children of `element` that the runs came from, removed on rebuild.
        set_text: Sets a run element's text.
    """

    element: Any
    runs: list[Run] = field(default_factory=list)
    slots: list[Any] = field(default_factory=list)
    set_text: Callable[[Any, str], None] = lambda run, text: setattr(run, "text", text)

    def add_to(self, document: LoadedDocument) -> None:
        """Adds the paragraph as a unit when it has text to translate."""
        if not any(run.text and run.text.strip() for run in self.runs):
            return
        markup = encode_runs(self.runs)
        document.add(markup.markup, lambda t: self.rebuild(t, markup), markup.tagged)

    def rebuild(self, translation: str, markup: InlineMarkup) -> None:
        """Replaces the runs with the translated ones."""
        pieces = decode_runs(translation, markup)
        placed = {id(run) for run, text in pieces if text is None}
        pieces += [(run, None) for run in self.runs if run.text is None and id(run) not in placed]
        position = self.element.index(self.slots[0])
        for slot in self.slots:
            self.element.remove(slot)
        for offset, node in enumerate(self._nodes(pieces)):
            self.element.insert(position + offset, node)

    def _nodes(self, pieces: Sequence[tuple[Run, str | None]]) -> list[Any]:
        nodes: list[Any] = []
        source: Any = None
        clone: Any = None
        for run, text in pieces:
            element, container = run.node
            if text is None:
                node = element
            else:
                node = copy.deepcopy(element)
                self.set_text(node, text)
            if container is None:
                nodes.append(node)
                source = None
                continue
            if source is not container:
                clone = container.makeelement(container.tag, dict(container.attrib))
                nodes.append(clone)
                source = container
            clone.append(node)
        return nodes
