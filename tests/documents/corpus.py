"""A document corpus built by the tests with the format libraries themselves.

Every document is made of the demo model's held-out sentences (the test split of the
demo recipe, never trained on) with formatting: a bold word mid-sentence, a link, a
table, a header, a formula cell, a subtitle over two lines, a plural .po entry, a
picture. `FORMATS[name].build(sentences)` writes the file; `.read(content)` reads
back what the tests compare: the structure without text, the text pieces, the bold
words and the non-text content.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


#: A small PNG (the picture in the office documents).
PNG = _png()
URL = "https://example.com/docs?lang=en&page=2"


@dataclass(frozen=True)
class Sentence:
    """A held-out sentence, its reference translation and a word to make bold."""

    eng: str
    qaa: str
    word: str = ""
    word_qaa: str = ""

    def split(self) -> tuple[str, str, str]:
        """The English sentence around its bold word: (before, word, after)."""
        start = re.search(rf"\b{re.escape(self.word)}\b", self.eng)
        assert start is not None
        return self.eng[: start.start()], self.word, self.eng[start.end() :]


@dataclass
class Reading:
    """What a document holds, as the tests compare it."""

    structure: list[Any] = field(default_factory=list)
    pieces: list[str] = field(default_factory=list)
    bold: list[str] = field(default_factory=list)
    fixed: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class Case:
    """A format: its file name, how to build a document and how to read one."""

    file_name: str
    build: Callable[[list[Sentence]], bytes]
    read: Callable[[bytes], Reading]
    bold: bool = False


def held_out(count: int = 40) -> list[Sentence]:
    """Held-out sentences; the first ones have an unambiguous noun to make bold."""
    from dragoman.finetune.demo import lexicon
    from dragoman.finetune.demo.build import DemoRecipe
    from dragoman.finetune.demo.corpus import build_corpus

    spec = dataclasses.replace(DemoRecipe().corpus, train=0, dev=0)
    rows = build_corpus(spec).test
    nouns = [*lexicon.ANIMATE, *lexicon.THINGS, *lexicon.PLACES]
    with_word: list[Sentence] = []
    plain: list[Sentence] = []
    for row in rows:
        eng, qaa = row["eng_Latn"], row["qaa_Latn"]
        eng_words = re.findall(r"\w+", eng.lower())
        qaa_words = re.findall(r"\w+", qaa.lower())
        for noun in nouns:
            for english, constructed in ((noun.eng, noun.qaa), (noun.eng_plural, noun.qaa + "en")):
                if (
                    eng_words.count(english) == 1
                    and qaa_words.count(constructed) == 1
                    and eng_words.index(english) > 1
                    and qaa_words.index(constructed) > 0
                ):
                    with_word.append(Sentence(eng, qaa, english, constructed))
                    break
            else:
                continue
            break
        plain.append(Sentence(eng, qaa))
    first = with_word[0]
    return [first, *[p for p in plain if p.eng != first.eng]][:count]


def words_of(text: str) -> str:
    """Lower-case words of `text` joined by single spaces."""
    return " ".join(re.findall(r"\w+", text.lower()))


# --- plain text formats -----------------------------------------------------------


def _txt(s: list[Sentence]) -> bytes:
    return f"{s[1].eng} {s[2].eng}\n\n{s[3].eng}\n\n\n{s[4].eng}\n".encode()


def _read_txt(content: bytes) -> Reading:
    text = content.decode()
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    gaps = re.findall(r"\n\s*\n", text)
    return Reading(structure=[len(paragraphs), gaps], pieces=paragraphs)


def _md(s: list[Sentence]) -> bytes:
    before, word, after = s[0].split()
    return (
        f"# {s[1].eng}\n\n{before}**{word}**{after}\n\n"
        f"[{s[2].eng.rstrip('.')}]({URL}).\n\n"
        f'- {s[3].eng}\n- {s[4].eng} ![logo](logo.png "Logo")<br>\n\n'
        "```python\nprint('The cat sees the dog.')\n```\n\n"
        f"| {s[5].eng} | `x = 1` |\n|---|---|\n| {s[6].eng} | 42 |\n"
    ).encode()


def _read_md(content: bytes) -> Reading:
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(content.decode())
    reading = Reading()
    for token in tokens:
        reading.structure.append((token.type, token.tag, token.level))
        if token.type == "fence":
            reading.fixed.append(token.content)
        if token.type != "inline":
            continue
        children = token.children or []
        text = "".join(c.content for c in children if c.type == "text")
        reading.fixed += [c.content for c in children if c.type == "code_inline"]
        reading.fixed += [c.attrGet("href") for c in children if c.type == "link_open"]
        reading.fixed += [
            (c.attrGet("src"), c.attrGet("title"), c.content) for c in children if c.type == "image"
        ]
        reading.fixed += [c.content for c in children if c.type == "html_inline"]
        reading.structure.append([c.type for c in children if c.type != "text"])
        for index, child in enumerate(children):
            if child.type == "strong_open":
                reading.bold.append(children[index + 1].content)
        if words_of(text) and not text.strip().isdigit():
            reading.pieces.append(text)
    return reading


def _html(s: list[Sentence], xhtml: bool = False) -> bytes:
    before, word, after = s[0].split()
    head = '<?xml version="1.0" encoding="utf-8"?>\n' if xhtml else "<!DOCTYPE html>\n"
    ns = ' xmlns="http://www.w3.org/1999/xhtml"' if xhtml else ""
    return (
        f'{head}<html{ns}><head><title>{s[1].eng}</title><script>var a = "The dog.";</script>'
        f"</head>\n<body>\n<h1>{s[2].eng}</h1>\n<p>{before}<b>{word}</b>{after}</p>\n"
        f'<p><a href="{URL.replace("&", "&amp;")}">{s[3].eng}</a></p>\n'
        f"<table><tr><td>{s[4].eng}</td><td>{s[5].eng}</td></tr></table>\n"
        f"<pre><code>The cat sees the dog.</code></pre>\n</body></html>\n"
    ).encode()


def _read_html(content: bytes) -> Reading:
    from html.parser import HTMLParser

    reading = Reading()
    blocks = {"title", "h1", "p", "td"}

    class Reader(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.stack: list[str] = []
            self.text = ""

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            reading.structure.append((tag, attrs))
            self.stack.append(tag)

        def handle_endtag(self, tag: str) -> None:
            reading.structure.append(f"/{tag}")
            if self.stack and self.stack[-1] == tag:
                self.stack.pop()
            if tag in blocks and self.text.strip():
                reading.pieces.append(self.text)
                self.text = ""

        def handle_data(self, data: str) -> None:
            where = self.stack[-1] if self.stack else ""
            if where in ("script", "code"):
                reading.fixed.append(data)
                return
            if where == "b":
                reading.bold.append(data)
            self.text += data

    Reader().feed(content.decode())
    return reading


# --- subtitles, catalogues ----------------------------------------------------------


def _srt(s: list[Sentence]) -> bytes:
    first = s[1].eng.split(" ")
    half = len(first) // 2
    return (
        f"1\n00:00:01,000 --> 00:00:03,500\n{' '.join(first[:half])}\n{' '.join(first[half:])}\n\n"
        f"2\n00:00:04,000 --> 00:00:06,000\n<i>{s[2].eng}</i>\n\n"
        f"3\n00:00:07,250 --> 00:00:09,000\n{s[3].eng}\n\n"
    ).encode()


def _read_srt(content: bytes) -> Reading:
    import srt

    reading = Reading()
    for cue in srt.parse(content.decode()):
        reading.fixed.append((cue.index, cue.start, cue.end))
        reading.structure.append((cue.content.count("\n"), "<i>" in cue.content))
        reading.pieces.append(" ".join(re.sub(r"<[^>]+>", "", cue.content).split()))
    return reading


def _vtt(s: list[Sentence]) -> bytes:
    first = s[1].eng.split(" ")
    half = len(first) // 2
    return (
        f"WEBVTT\n\nNOTE made by the tests\n\nintro\n00:00:01.000 --> 00:00:03.500 align:start\n"
        f"{' '.join(first[:half])}\n{' '.join(first[half:])}\n\n"
        f"00:00:04.000 --> 00:00:06.000\n{s[2].eng}\n\n"
    ).encode()


def _read_vtt(content: bytes) -> Reading:
    import webvtt

    reading = Reading(fixed=[content.decode().count("NOTE made by the tests")])
    for caption in webvtt.WebVTT.from_string(content.decode()).captions:
        reading.fixed.append((caption.identifier, caption.start, caption.end, caption.settings))
        reading.structure.append(len(caption.lines))
        reading.pieces.append(" ".join(caption.text.split()))
    return reading


def _po(s: list[Sentence]) -> bytes:
    import polib

    catalogue = polib.POFile()
    catalogue.metadata = {"Content-Type": "text/plain; charset=UTF-8",
                          "Plural-Forms": "nplurals=2; plural=(n != 1);"}  # fmt: skip
    catalogue.append(polib.POEntry(msgid=s[1].eng, msgstr="", occurrences=[("app.py", "3")]))
    catalogue.append(polib.POEntry(msgid=s[2].eng, msgid_plural=s[3].eng,
                                   msgstr_plural={0: "", 1: ""}, msgctxt="menu"))  # fmt: skip
    catalogue.append(polib.POEntry(msgid="%(count)s files", msgstr="", flags=["python-format"]))
    catalogue.append(polib.POEntry(msgid=s[4].eng, msgstr="Kept as the translator wrote it."))
    return str(catalogue).encode()


def _read_po(content: bytes) -> Reading:
    import polib

    reading = Reading()
    for entry in polib.pofile(content.decode()):
        reading.structure.append((entry.msgctxt, bool(entry.msgid_plural), len(entry.occurrences)))
        reading.fixed.append((entry.msgid, entry.msgid_plural, entry.msgctxt))
        if entry.msgid.startswith("%("):
            reading.fixed.append(entry.msgstr.split(" ")[0] if entry.msgstr else "%(count)s")
            continue
        if entry.msgstr and "fuzzy" not in entry.flags:  # translated before: left alone
            reading.fixed.append(entry.msgstr)
            continue
        if entry.msgid_plural:
            forms = entry.msgstr_plural
            reading.pieces += [forms.get(0) or entry.msgid, forms.get(1) or entry.msgid_plural]
        else:
            reading.pieces.append(entry.msgstr or entry.msgid)
    return reading


def _xliff(s: list[Sentence], version: str = "1.2") -> bytes:
    before, word, after = s[0].split()
    if version == "1.2":
        unit = '<trans-unit id="{0}"><source>{1}</source></trans-unit>'
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<xliff version="1.2" '
            'xmlns="urn:oasis:names:tc:xliff:document:1.2"><file original="a" '
            'source-language="en" target-language="qaa" datatype="plaintext"><body>'
            + unit.format("b", f'{before}<g id="1">{word}</g>{after}')
            + unit.format("x", f'{s[1].eng.rstrip(".")}<x id="2"/>.')
            + unit.format("p", s[2].eng)
            + "</body></file></xliff>\n"
        ).encode()
    unit = '<unit id="{0}"><segment><source>{1}</source></segment></unit>'
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<xliff version="2.0" '
        'xmlns="urn:oasis:names:tc:xliff:document:2.0" srcLang="en" trgLang="qaa">'
        '<file id="f1">'
        + unit.format("b", f'{before}<pc id="1">{word}</pc>{after}')
        + unit.format("x", f'{s[1].eng.rstrip(".")}<ph id="2"/>.')
        + unit.format("p", s[2].eng)
        + "</file></xliff>\n"
    ).encode()


def _read_xliff(content: bytes) -> Reading:
    from lxml import etree

    root = etree.fromstring(content)
    reading = Reading()
    for source in root.iter("{*}source"):
        target = source.getnext()
        has_target = target is not None and etree.QName(target).localname == "target"
        node = target if has_target else source
        reading.structure.append([etree.QName(c).localname for c in node])
        reading.fixed += [dict(c.attrib) for c in node]
        reading.pieces.append("".join(node.itertext()))
        reading.bold += [c.text or "" for c in node if etree.QName(c).localname in ("g", "pc")]
    return reading


FORMAT_BUILDERS: dict[str, tuple[str, Callable[..., bytes], Callable[[bytes], Reading], bool]] = {
    "txt": ("notes.txt", _txt, _read_txt, False),
    "md": ("README.md", _md, _read_md, True),
    "html": ("page.html", _html, _read_html, True),
    "xhtml": ("page.xhtml", lambda s: _html(s, xhtml=True), _read_html, True),
    "srt": ("film.srt", _srt, _read_srt, False),
    "vtt": ("film.vtt", _vtt, _read_vtt, False),
    "po": ("messages.po", _po, _read_po, False),
    "xliff": ("strings.xlf", _xliff, _read_xliff, True),
    "xliff2": ("strings2.xliff", lambda s: _xliff(s, "2.0"), _read_xliff, True),
}


def all_cases() -> dict[str, Case]:
    """Every format's case, office formats included."""
    from corpus_office import OFFICE_BUILDERS

    return {name: Case(*value) for name, value in {**FORMAT_BUILDERS, **OFFICE_BUILDERS}.items()}


def office_bytes(save: Callable[[io.BytesIO], Any]) -> bytes:
    """What `save(stream)` writes."""
    out = io.BytesIO()
    save(out)
    return out.getvalue()


DATE = datetime.datetime(2026, 12, 1, 9, 30)
