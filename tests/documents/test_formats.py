"""Every format, translated by the demo model: same structure, every piece translated.

For each format a document of held-out sentences with formatting (corpus.py) goes
through `DocumentTranslator`; the result must open in its library with the same
structure (paragraphs, runs' formatting sets, table cells, slides, sheet cells, cue
timings, catalogue entries), the same non-text content byte for byte, every text
piece translated (chrF >= 90 against the references, none left in English), and the
bold word's translation bold.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from corpus import Sentence, all_cases, words_of
from dragoman.engine.documents import DocumentRequest, DocumentTranslator
from dragoman.engine.types import CallContext

CASES = all_cases()


def _references(pieces: list[str], reference: Callable[[str], str]) -> list[str]:
    return [
        " ".join(reference(s) for s in re.split(r"(?<=[.!?])\s+", piece.strip()) if s)
        for piece in pieces
    ]


@pytest.mark.parametrize("name", list(CASES))
def test_document_is_translated_with_its_structure_kept(
    name: str, demo_engine: Any, sentences: list[Sentence], reference: Callable[[str], str]
) -> None:
    sacrebleu = pytest.importorskip("sacrebleu")
    case = CASES[name]
    content = case.build(sentences)
    before = case.read(content)
    request = DocumentRequest(content, "qaa_Latn", file_name=case.file_name)
    progress: list[tuple[int, int]] = []
    result = DocumentTranslator(demo_engine).translate(
        request, CallContext(), lambda done, total: progress.append((done, total))
    )
    after = case.read(result.content)  # opens in its library
    assert after.structure == before.structure
    assert after.fixed == before.fixed
    assert len(after.pieces) == len(before.pieces)
    references = _references(before.pieces, reference)
    for source, translated in zip(before.pieces, after.pieces, strict=True):
        assert words_of(translated) != words_of(source), f"left in English: {source!r}"
    chrf = sacrebleu.corpus_chrf(after.pieces, [references]).score
    assert chrf >= 90, list(zip(after.pieces, references, strict=True))
    if case.bold:
        assert sentences[0].word_qaa in words_of(" ".join(after.bold)).split(), after.bold
    assert result.source_language == "eng_Latn" and result.model == "demo"
    assert progress[0] == (0, result.units) and progress[-1] == (result.units, result.units)
    print(f"{name}: {result.units} units, chrF {chrf:.1f}")


MARKDOWN_BLOCKS = """Title
=====

> {0}
> {1}

1. {0}
   {1}

<div class="x">raw html block</div>

    indented code block

| a \\| b | `c` |
|---|---|
| {2} | 42 |

---
"""


def test_markdown_blocks_keep_their_kind_and_code_its_bytes(
    demo_engine: Any, sentences: list[Sentence]
) -> None:
    from markdown_it import MarkdownIt

    source = MARKDOWN_BLOCKS.format(*(s.eng for s in sentences[1:4]))
    request = DocumentRequest(source.encode(), "qaa_Latn", file_name="a.md")
    out = DocumentTranslator(demo_engine).translate(request, CallContext()).content.decode()
    parser = MarkdownIt("commonmark").enable("table")
    kinds = [(t.type, t.tag, t.level) for t in parser.parse(source) if t.type != "inline"]
    assert [(t.type, t.tag, t.level) for t in parser.parse(out) if t.type != "inline"] == kinds
    for kept in ('<div class="x">raw html block</div>', "    indented code block", "`c`", "42"):
        assert kept in out
    assert sentences[1].eng not in out and sentences[1].qaa in out
