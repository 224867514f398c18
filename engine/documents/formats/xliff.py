"""XLIFF 1.2 and 2.0, through translate-toolkit.

Every translatable unit without a target gets one. Inline codes keep their place
around the aligned words: paired codes (`<g>`, `<pc>`, `<mrk>`) become inline
elements, standalone and native-code ones (`<x/>`, `<ph>`, `<bpt>`, `<sc/>`, ...)
anchors copied byte for byte. The file is screened by defusedxml before the toolkit
parses it (no entity declarations: no billion laughs, no XXE).
"""

from __future__ import annotations

import copy
from typing import Any

from dragoman.engine.documents import safety
from dragoman.engine.documents.base import (
    DocumentFormat,
    LoadedDocument,
    local_name,
    register_format,
)
from dragoman.engine.documents.errors import CorruptDocument
from dragoman.engine.documents.inline import InlineMarkup, decode

#: Inline codes kept whole (their content is native code, not text).
_ANCHORS = frozenset(["x", "bx", "ex", "ph", "bpt", "ept", "it", "sc", "ec", "cp", "sm", "em"])


def _encode(element: Any, markup: InlineMarkup) -> None:
    markup.text(element.text or "")
    for child in element:
        if (
            not isinstance(child.tag, str)
            or local_name(child) in _ANCHORS
            or (len(child) == 0 and not child.text)
        ):  # a comment or processing instruction
            markup.anchor(child)
        else:
            markup.open(child)
            _encode(child, markup)
            markup.close(child)
        markup.text(child.tail or "")


def _append_text(element: Any, text: str) -> None:
    if len(element):
        element[-1].tail = (element[-1].tail or "") + text
    else:
        element.text = (element.text or "") + text


def _fill(target: Any, translation: str, markup: InlineMarkup) -> None:
    for child in list(target):
        target.remove(child)
    target.text = ""
    stack = [target]
    for event in decode(translation, markup):
        if event.kind == "text":
            _append_text(stack[-1], event.value)
        elif event.kind == "end":
            if len(stack) > 1:
                stack.pop()
        else:
            node = copy.copy(event.value) if event.kind == "anchor" else _shallow(event.value)
            node.tail = None
            stack[-1].append(node)
            if event.kind == "start":
                stack.append(node)


def _shallow(element: Any) -> Any:
    node = element.makeelement(element.tag, dict(element.attrib))
    return node


@register_format
class Xliff(DocumentFormat):
    """An XLIFF 1.2 or 2.0 file."""

    name = "xliff"
    mime_types = ("application/xliff+xml", "application/x-xliff+xml")
    extensions = (".xlf", ".xliff")

    def load(self, content: bytes) -> LoadedDocument:
        import defusedxml.ElementTree
        from translate.storage import xliff, xliff2

        safety.check_xml(content, "the xliff document")
        version = defusedxml.ElementTree.fromstring(content).get("version", "1.2")
        store_class: Any = xliff2.Xliff2File if version.startswith("2") else xliff.xlifffile
        try:
            store = store_class.parsestring(content)
        except Exception as error:  # the toolkit raises lxml's and its own errors
            raise CorruptDocument(f"the xliff document cannot be read: {error}") from error
        document = LoadedDocument()
        for unit in store.units:
            if unit.isheader() or not unit.istranslatable() or unit.target:
                continue
            source = unit.source_dom
            if source is None:
                continue
            markup = InlineMarkup()
            _encode(source, markup)
            document.add(markup.markup, _applier(unit, markup), markup.tagged)
        document.save = lambda: bytes(store)
        return document


def _applier(unit: Any, markup: InlineMarkup) -> Any:
    def apply(translation: str) -> None:
        unit.settarget("-")
        _fill(unit.target_dom, translation, markup)

    return apply
