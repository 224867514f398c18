"""Subtitles: SubRip (.srt, by `srt`) and WebVTT (.vtt, by `webvtt-py`).

Each cue is one unit: its lines are joined with spaces (a sentence often runs over
two lines), translated, and wrapped again into as many lines as the cue had,
balanced in length at spaces outside tags. Timings, indices, identifiers, cue
settings and notes are never touched. Cues with `<i>`/`<b>`/`<c.x>` tags are sent as
markup, so the tags come back around the aligned words.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from dragoman.engine.documents.base import DocumentFormat, LoadedDocument, register_format
from dragoman.engine.documents.errors import CorruptDocument
from dragoman.engine.documents.formats.text import decode_text

_TAG = re.compile(r"<[A-Za-z/][^>]*>")


def _spaces_outside_tags(text: str) -> list[int]:
    depth = 0
    spaces = []
    for index, char in enumerate(text):
        depth += (char == "<") - (char == ">")
        if char == " " and depth <= 0:
            spaces.append(index)
    return spaces


def wrap_lines(text: str, lines: int) -> str:
    """`text` on at most `lines` lines, broken at spaces so the lines are about equal."""
    text = " ".join(text.split())
    if lines <= 1:
        return text
    spaces = _spaces_outside_tags(text)
    visible = len(_TAG.sub("", text))
    breaks: list[int] = []
    for k in range(1, lines):
        goal = visible * k / lines
        candidates = [s for s in spaces if not breaks or s > breaks[-1]]
        if not candidates:
            break
        breaks.append(min(candidates, key=lambda s: abs(len(_TAG.sub("", text[:s])) - goal)))
    out = list(text)
    for index in breaks:
        out[index] = "\n"
    return "".join(out)


def _cue(document: LoadedDocument, text: str, setter: Callable[[str], None]) -> None:
    lines = text.count("\n") + 1
    joined = " ".join(part.strip() for part in text.split("\n"))
    document.add(joined, lambda t: setter(wrap_lines(t, lines)), markup=bool(_TAG.search(joined)))


@register_format
class SubRip(DocumentFormat):
    """A SubRip subtitle file."""

    name = "srt"
    mime_types = ("application/x-subrip", "text/srt")
    extensions = (".srt",)

    def load(self, content: bytes) -> LoadedDocument:
        import srt

        text = decode_text(content, self)
        try:
            cues = list(srt.parse(text.removeprefix("\ufeff")))
        except srt.SRTParseError as error:
            raise CorruptDocument(f"the srt document cannot be parsed: {error}") from error
        document = LoadedDocument()
        for cue in cues:
            _cue(document, cue.content, functools.partial(setattr, cue, "content"))
        document.save = lambda: srt.compose(cues, reindex=False).encode("utf-8")
        return document


@register_format
class WebVtt(DocumentFormat):
    """A WebVTT subtitle file."""

    name = "vtt"
    mime_types = ("text/vtt",)
    extensions = (".vtt",)

    def load(self, content: bytes) -> LoadedDocument:
        import webvtt
        from webvtt.errors import MalformedFileError

        text = decode_text(content, self)
        try:
            vtt = webvtt.WebVTT.from_string(text.removeprefix("\ufeff"))
        except (MalformedFileError, ValueError) as error:
            raise CorruptDocument(f"the vtt document cannot be parsed: {error}") from error
        document = LoadedDocument()
        for caption in vtt.captions:
            raw = "\n".join(caption.lines)
            _cue(document, raw, functools.partial(setattr, caption, "text"))
        document.save = lambda: vtt.content.encode("utf-8")
        return document
