"""Runs of formatting as inline markup for the engine, and back.

A paragraph's runs (bold, a link, a span of another style) become elements
`<g0>...</g0>` and its non-text pieces (a picture, a field, a line break) empty
anchors `<x1/>`; the engine translates the markup and puts each element around the
target words aligned to its source words. `decode` reads the translation back as
events that name the original objects, so a format rebuilds the same runs, in the
translation's order. Names unknown to HTML are inline for the engine's markup parser.
"""

from __future__ import annotations

import html
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from dragoman.engine.documents.errors import CorruptDocument


@dataclass
class InlineMarkup:
    """Builds one unit's markup, remembering what each element stands for."""

    parts: list[str] = field(default_factory=list)
    objects: list[Any] = field(default_factory=list)
    tagged: bool = False
    #: What untagged text stands for (the base run of a paragraph).
    base: Any = None

    def _index(self, obj: Any) -> int:
        for index, known in enumerate(self.objects):
            if known is obj:
                return index
        self.objects.append(obj)
        return len(self.objects) - 1

    def text(self, text: str) -> None:
        """Adds text (escaped)."""
        self.parts.append(html.escape(text, quote=False))

    def open(self, obj: Any) -> None:
        """Opens an element standing for `obj` (closed by `close`)."""
        self.parts.append(f"<g{self._index(obj)}>")
        self.tagged = True

    def close(self, obj: Any) -> None:
        """Closes the element standing for `obj`."""
        self.parts.append(f"</g{self._index(obj)}>")

    def anchor(self, obj: Any) -> None:
        """Adds an empty element that stands for `obj` (kept, never translated)."""
        self.parts.append(f"<x{len(self.objects)}/>")
        self.objects.append(obj)
        self.tagged = True

    @property
    def markup(self) -> str:
        """The unit: plain text when nothing was tagged, else markup."""
        joined = "".join(self.parts)
        return joined if self.tagged else html.unescape(joined)


@dataclass(frozen=True)
class Event:
    """One piece of a decoded translation: `kind` is start, end, text or anchor."""

    kind: str
    value: Any


class _Decoder(HTMLParser):
    def __init__(self, objects: Sequence[Any]) -> None:
        super().__init__(convert_charrefs=True)
        self.objects = objects
        self.events: list[Event] = []

    def _object(self, tag: str) -> Any:
        try:
            return self.objects[int(tag[1:])]
        except (ValueError, IndexError) as error:
            raise CorruptDocument(f"the translation has an unknown element <{tag}>") from error

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        kind = "anchor" if tag.startswith("x") else "start"
        self.events.append(Event(kind, self._object(tag)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.events.append(Event("anchor", self._object(tag)))

    def handle_endtag(self, tag: str) -> None:
        if not tag.startswith("x"):
            self.events.append(Event("end", self._object(tag)))

    def handle_data(self, data: str) -> None:
        self.events.append(Event("text", data))


def decode(translation: str, markup: InlineMarkup) -> list[Event]:
    """The events of a translated unit, in order (plain text: one text event)."""
    if not markup.tagged:
        return [Event("text", translation)]
    decoder = _Decoder(markup.objects)
    decoder.feed(translation)
    decoder.close()
    return decoder.events


@dataclass(frozen=True)
class Run:
    """A flat run: text (None for a non-text piece) with its formatting `key`.

    `node` is the format's object for the run (a template to copy for text runs, the
    object itself for anchors).
    """

    text: str | None
    key: Hashable
    node: Any


def encode_runs(runs: Sequence[Run]) -> InlineMarkup:
    """Markup for a flat list of runs.

    The formatting that covers the most characters is the paragraph's base and goes
    untagged, so a plain paragraph is plain text and the engine sees as few tags as
    possible; every other formatting key is one element, every non-text run an anchor.
    """
    weight: dict[Hashable, int] = {}
    for run in runs:
        if run.text is not None:
            weight[run.key] = weight.get(run.key, 0) + len(run.text)
    base = max(weight, key=lambda k: weight[k]) if weight else None
    markup = InlineMarkup()
    opened: dict[Hashable, Run] = {}
    for run in runs:
        if run.text is None:
            markup.anchor(run)
        elif run.key == base:
            markup.text(run.text)
        else:
            template = opened.setdefault(run.key, run)
            markup.open(template)
            markup.text(run.text)
            markup.close(template)
    markup.base = next((r for r in runs if r.text is not None and r.key == base), None)
    return markup


def decode_runs(translation: str, markup: InlineMarkup) -> list[tuple[Run, str | None]]:
    """The translated runs: (template run, new text), or (anchor run, None), in order.

    Untagged text takes the base run's formatting; consecutive text of one run merges.
    """
    base: Run | None = markup.base
    out: list[tuple[Run, str | None]] = []
    stack: list[Run] = []
    for event in decode(translation, markup):
        if event.kind == "start":
            stack.append(event.value)
        elif event.kind == "end":
            if stack:
                stack.pop()
            if not out or out[-1][0] is not event.value:
                out.append((event.value, ""))  # an element that came back empty
        elif event.kind == "anchor":
            out.append((event.value, None))
        else:
            run = stack[-1] if stack else base
            if run is None:
                run = next(r for r, _ in out) if out else None
            if run is None:
                continue
            if out and out[-1][0] is run and out[-1][1] is not None:
                out[-1] = (run, (out[-1][1] or "") + event.value)
            else:
                out.append((run, event.value))
    return _single_spaces(out)


def _single_spaces(pieces: list[tuple[Run, str | None]]) -> list[tuple[Run, str | None]]:
    # An element that came back empty sits between two spaces; keep one of them.
    for index in range(1, len(pieces) - 1):
        before, empty, after = pieces[index - 1][1], pieces[index][1], pieces[index + 1][1]
        if empty == "" and before and after and before[-1] == " " and after[0] == " ":
            pieces[index + 1] = (pieces[index + 1][0], after[1:])
    return pieces
