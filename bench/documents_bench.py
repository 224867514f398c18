"""Document translation: pages per second for a 20-page .docx, alone and 8 at once.

    .venv/bin/python bench/documents_bench.py [--model demo|DIR] [--pages 20]
        [--concurrency 1 8] [--json bench/results/documents_bench.json]

Builds 20-page Word documents with python-docx (paragraphs of three sentences from
the demo grammar, one bold word in every third paragraph, a 2x2 table and a page
break per page), then translates one document, then 8 documents at once (threads,
each its own document), in process through `DocumentTranslator` on one engine
(cross-request batching on, one CTranslate2 worker, no cache). For each run it prints
pages per second and the share of wall time spent outside CTranslate2: CTranslate2's
time is the seconds of every batch the engine's observer reports (`on_batch`; every
segment, plain or with markup, goes through the batcher, and with one worker batches
do not overlap). "Outside" is everything else: reading and writing the .docx, building
and decoding inline markup, segmentation, tokenization, alignment, queue waits.
Figures land in bench/results/documents_bench.json; they depend on the machine's load.
"""

from __future__ import annotations

import argparse
import io
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

from dragoman.engine.documents import DocumentRequest, DocumentTranslator
from dragoman.engine.observer import EngineObserver
from dragoman.engine.service import BatchingConfig, ModelSpec, TranslationEngine
from dragoman.engine.types import CallContext

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
PARAGRAPHS_PER_PAGE = 12


def build_docx(pages: int, seed: int) -> bytes:
    """A Word document of `pages` pages of demo-grammar English."""
    import docx
    from docx.enum.text import WD_BREAK
    from dragoman.finetune.demo.grammar import ClauseSampler, realize

    sampler = ClauseSampler(seed=seed)
    document = docx.Document()
    for page in range(pages):
        document.add_heading(realize(sampler.sample())["eng_Latn"], level=2)
        for index in range(PARAGRAPHS_PER_PAGE):
            text = " ".join(realize(sampler.sample())["eng_Latn"] for _ in range(3))
            paragraph = document.add_paragraph()
            if index % 3 == 0:
                words = text.split(" ")
                paragraph.add_run(" ".join(words[:3]) + " ")
                paragraph.add_run(words[3]).bold = True
                paragraph.add_run(" " + " ".join(words[4:]))
            else:
                paragraph.add_run(text)
        table = document.add_table(rows=2, cols=2)
        for cell in (c for row in table.rows for c in row.cells):
            cell.text = realize(sampler.sample())["eng_Latn"]
        if page < pages - 1:
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


class BatchSeconds(EngineObserver):
    """Adds up the seconds of every CTranslate2 batch the engine reports."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._lock = threading.Lock()

    def on_batch(
        self, model: str, size: int, tokens_in: int, tokens_out: int, seconds: float
    ) -> None:
        with self._lock:
            self.seconds += seconds


def run(
    translator: DocumentTranslator,
    documents: list[bytes],
    observer: BatchSeconds,
    pages: int,
) -> dict[str, float]:
    """Translates `documents` at once (one thread each); pages/s and the shares."""
    errors: list[BaseException] = []

    def one(content: bytes) -> None:
        try:
            translator.translate(DocumentRequest(content, "qaa_Latn", "", "a.docx"), CallContext())
        except BaseException as error:  # reported after the run
            errors.append(error)

    threads = [threading.Thread(target=one, args=(d,)) for d in documents]
    observed = observer.seconds
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if errors:
        raise errors[0]
    ct2_s = observer.seconds - observed
    return {
        "documents": len(documents),
        "pages": pages * len(documents),
        "seconds": round(wall, 2),
        "pages_per_s": round(pages * len(documents) / wall, 2),
        "ct2_s": round(ct2_s, 2),
        "outside_share": round(1 - min(ct2_s / wall, 1.0), 3),
    }


def main(argv: list[str] | None = None) -> int:
    """Runs the benchmark and prints one line per concurrency level."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="demo", help="demo or a CTranslate2 model directory")
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--json", type=Path, default=RESULTS / "documents_bench.json")
    args = parser.parse_args(argv)
    path = str(REPO / "dragoman" / "models" / "demo") if args.model == "demo" else args.model
    observer = BatchSeconds()
    engine = TranslationEngine(
        [ModelSpec("bench", path, device="cpu")], batching=BatchingConfig(), observer=observer
    )
    engine.load()
    translator = DocumentTranslator(engine)
    build: Callable[[int], bytes] = lambda seed: build_docx(args.pages, seed)  # noqa: E731
    translator.translate(DocumentRequest(build(0), "qaa_Latn", "", "a.docx"), CallContext())
    rows = []
    for count in args.concurrency:
        documents = [build(100 + count * 10 + i) for i in range(count)]
        row = run(translator, documents, observer, args.pages)
        rows.append(row)
        print(
            f"{count} x {args.pages}-page .docx: {row['pages_per_s']:.2f} pages/s "
            f"({row['seconds']:.1f} s); outside CTranslate2: "
            f"{row['outside_share']:.0%} of wall time",
            flush=True,
        )
    engine.shutdown(timeout=10)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"model": args.model, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
