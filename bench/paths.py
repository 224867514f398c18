"""Every path through the one pipeline, side by side; and long-text quality.

    .venv/bin/python bench/paths.py [--model demo] [--sentences 256]

(b) `dragoman serve` (translation cache off, QUALITY_FAST, one sentence per request)
driven by 1 and 32 concurrent clients on each path (median of `--repeat` rounds): plain
text; the same sentences with a placeholder (` {name}`); with a one-entry glossary; as
HTML with an inline tag; as stream segments (final results only); as stream segments
with interim results.
Prints sentences/s and each path's ratio to plain (the issue's targets at 32 clients:
placeholder, glossary and markup >= 0.8x plain, interim streams >= 0.7x).

(c) Long text: a ~2,000-character paragraph of held-out demo sentences, joined with and
without capitals (run-on chat or speech-recognition text), translated in one request:
chrF against the reference joined the same way, and the length ratio.

Figures: bench/results/paths.json and the chart bench/results/paths.png.
"""

from __future__ import annotations

import argparse
import json
import queue
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from server_batching import Server, _languages, drive_clients, sentences  # noqa: E402

from dragoman.translation.v1 import translation_service_pb2 as pb  # noqa: E402
from dragoman.translation.v1 import translation_service_pb2_grpc as pb_grpc  # noqa: E402

RESULTS = BENCH / "results"
FAST = pb.TranslationOptions(quality=pb.QUALITY_FAST)
Send = Callable[[str], None]


def _unary(stub: Any, source: str, target: str, path: str) -> Send:
    """Sends one TranslateText request for a sentence, shaped for `path`."""
    glossary = pb.TranslationGlossaryConfig(
        entries=[pb.GlossaryEntry(source_term="the", target_term="THE")]
    )

    def send(text: str) -> None:
        request = pb.TranslateTextRequest(
            source_language_code=source, target_language_code=target, options=FAST
        )
        if path == "placeholder":
            text = text[:-1] + " {name}."
        elif path == "glossary":
            request.glossary_config.CopyFrom(glossary)
        elif path == "markup":
            first, _, rest = text.partition(" ")
            text = f"<p><b>{first}</b> {rest}</p>"
            request.mime_type = "text/html"
        request.contents.append(text)
        stub.TranslateText(request, timeout=600)

    return send


def _stream(stub: Any, source: str, target: str, interim: bool) -> tuple[Send, Callable[[], None]]:
    """One bidi stream; each send is a segment, answered when its final result comes."""
    outgoing: queue.Queue[pb.StreamTranslateTextRequest | None] = queue.Queue()
    config = pb.StreamingTranslationConfig(
        source_language_code=source, target_language_code=target, interim_results=interim,
        options=FAST,
    )  # fmt: skip
    outgoing.put(pb.StreamTranslateTextRequest(config=config))

    def requests() -> Iterator[pb.StreamTranslateTextRequest]:
        while (message := outgoing.get()) is not None:
            yield message

    responses = stub.StreamTranslateText(requests(), timeout=3600)

    def send(text: str) -> None:
        outgoing.put(pb.StreamTranslateTextRequest(segment=pb.TranslationSegment(text=text)))
        for response in responses:
            if response.is_final:
                return

    def close() -> None:
        outgoing.put(None)
        for _ in responses:
            pass

    return send, close


PATHS = ["plain", "placeholder", "glossary", "markup", "stream final", "stream interim"]


def drive_path(port: int, path: str, clients: int, texts: list[str]) -> dict[str, Any]:
    """`texts` through `path` from `clients` concurrent clients (own channel each)."""
    source, target = _languages(port)

    def open_client() -> tuple[Send, Callable[[], None]]:
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=60)
        stub = pb_grpc.TranslationServiceStub(channel)
        if path.startswith("stream"):
            send, close = _stream(stub, source, target, path == "stream interim")

            def closing() -> None:
                close()
                channel.close()

            return send, closing
        return _unary(stub, source, target, path), channel.close

    return drive_clients(clients, texts, open_client)


def path_table(
    model: str, count: int, threads: int, repeat: int
) -> dict[str, list[dict[str, Any]]]:
    """Each path at 1 and 32 clients; of `repeat` rounds (paths interleaved, so that a
    burst of load elsewhere hits every path alike), each level's median run."""
    server = Server(model, threads, batching=True)
    rounds: dict[str, list[list[dict[str, Any]]]] = {path: [[], []] for path in PATHS}
    try:
        drive_path(server.port, "plain", 2, sentences(8))  # warm-up
        for _ in range(repeat):
            for path in PATHS:
                rounds[path][0].append(drive_path(server.port, path, 1, sentences(count // 4)))
                rounds[path][1].append(drive_path(server.port, path, 32, sentences(count)))
    finally:
        server.stop()
    return {
        path: [sorted(runs, key=lambda r: r["sentences_per_s"])[len(runs) // 2] for runs in levels]
        for path, levels in rounds.items()
    }


def long_text(model: str, threads: int) -> dict[str, Any]:
    """chrF and length ratio (output vs reference) of a ~2,000-character paragraph, with
    and without capitals."""
    from dragoman.engine.service import ModelSpec, TranslationEngine
    from dragoman.engine.types import CallContext, TranslationRequest
    from dragoman.finetune.demo import grammar
    from sacrebleu import corpus_chrf

    sampler = grammar.ClauseSampler(seed=987_654)  # the held-out seed of tests/engine
    rows: list[dict[str, str]] = []
    while sum(len(row["eng_Latn"]) + 1 for row in rows) < 2000:
        rows.append(grammar.realize(sampler.sample()))
    engine = TranslationEngine([ModelSpec("demo", model, device="cpu", intra_threads=threads)])
    engine.load()
    out: dict[str, Any] = {}
    try:
        for name, capitals in (("capitals", True), ("lowercase", False)):

            def join(language: str, capitals: bool = capitals) -> str:
                texts = [row[language] for row in rows]
                return " ".join(t if capitals else t[:1].lower() + t[1:] for t in texts)

            source, reference = join("eng_Latn"), join("qaa_Latn")
            began = time.perf_counter()
            request = TranslationRequest((source,), "qaa_Latn", "eng_Latn")
            (translation,) = engine.translate(request, CallContext())
            text = translation.text
            out[name] = {
                "source_chars": len(source),
                "output_chars": len(text),
                "length_ratio": len(text) / len(reference),
                "chrf": corpus_chrf([text], [[reference]]).score,
                "seconds": time.perf_counter() - began,
            }
    finally:
        engine.shutdown(10)
    return out


def chart(table: dict[str, list[dict[str, Any]]], path: Path, title: str) -> None:
    """Sentences/s per path at 1 and 32 clients."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axis = plt.subplots(figsize=(10, 4))
    width = 0.38
    for index, label in enumerate(("1 client", "32 clients")):
        offset = (index - 0.5) * width
        values = [table[p][index]["sentences_per_s"] for p in PATHS]
        bars = axis.bar([i + offset for i in range(len(PATHS))], values, width, label=label)
        axis.bar_label(bars, fmt="%.0f", fontsize=8)
    axis.set_xticks(range(len(PATHS)), PATHS)
    axis.set_ylabel("sentences / s")
    axis.set_title(title, fontsize=10)
    axis.legend()
    axis.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="demo")
    parser.add_argument("--sentences", type=int, default=256, help="sentences at 32 clients")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the median is kept")
    parser.add_argument("--output", type=Path, default=RESULTS / "paths")
    args = parser.parse_args()
    model = args.model
    if model == "demo":
        from dragoman.engine.manifest import resolve_model_path

        model = str(resolve_model_path("demo"))
    table = path_table(model, args.sentences, args.threads, args.repeat)
    plain = {run["clients"]: run["sentences_per_s"] for run in table["plain"]}
    print(f"{'path':<16} {'1 client':>10} {'32 clients':>11} {'vs plain at 32':>15}")
    for path in PATHS:
        one, many = table[path]
        print(f"{path:<16} {one['sentences_per_s']:>10.1f} {many['sentences_per_s']:>11.1f} "
              f"{many['sentences_per_s'] / plain[32]:>14.2f}x")  # fmt: skip
    quality = long_text(model, args.threads)
    for name, row in quality.items():
        print(f"long text, {name}: {row['source_chars']} characters in, {row['output_chars']} "
              f"out (ratio {row['length_ratio']:.2f}), chrF {row['chrf']:.1f}")  # fmt: skip
    args.output.parent.mkdir(parents=True, exist_ok=True)
    result = {"paths": table, "long_text": quality, "sentences": args.sentences}
    args.output.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    title = (f"dragoman serve --model {Path(model).name}: one sentence per request, "
             f"QUALITY_FAST, cache off, {args.threads} CPU threads")  # fmt: skip
    chart(table, args.output.with_suffix(".png"), title)


if __name__ == "__main__":
    main()
