"""The engine's limit: CTranslate2 offline `translate_batch` vs `dragoman serve`, same model.

    .venv/bin/python bench/served_vs_offline.py [--sentences 256] [--threads 2]

On an NLLB-200-distilled-600M-shaped model (bench/nllb600m.py builds it once, offline):
the same sentences, greedy, every decode exactly `--new-tokens` tokens (min = max
decoding length offline, `max_output_tokens` served: random weights never emit `</s>`),
the same CPU threads. Prints CTranslate2's own sentences/s in batches of 32, dragoman at
1 and 32 concurrent clients (one sentence per request), the ratios (the issue's target:
served at 32 clients >= 0.9 x offline) and batch-1 latency vs a bare CTranslate2 call
(target: within 10 %). Figures land in bench/results/served_vs_offline.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import nllb600m  # noqa: E402
from server_batching import Server, drive, sentences  # noqa: E402

from dragoman.translation.v1 import translation_service_pb2 as pb  # noqa: E402

RESULTS = BENCH / "results"


def offline(model_dir: Path, texts: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """CTranslate2 alone: batches of `--batch-size`, then batch-1 latency."""
    import ctranslate2
    import sentencepiece

    translator = ctranslate2.Translator(
        str(model_dir), device="cpu", compute_type="int8", intra_threads=args.threads
    )
    processor = sentencepiece.SentencePieceProcessor(
        model_file=str(model_dir / "sentencepiece.bpe.model")
    )
    sources = [["eng_Latn", *processor.encode(t, out_type=str), "</s>"] for t in texts]
    length = args.new_tokens + 1  # CT2's decoding length counts the target prefix

    def run(batch: list[list[str]]) -> None:
        translator.translate_batch(
            batch, [["fra_Latn"]] * len(batch), beam_size=1, max_input_length=0,
            min_decoding_length=length, max_decoding_length=length,
        )  # fmt: skip

    run(sources[:2])  # warm-up
    began = time.perf_counter()
    for start in range(0, len(sources), args.batch_size):
        run(sources[start : start + args.batch_size])
    elapsed = time.perf_counter() - began
    singles = []
    for source in sources[: args.singles]:
        began = time.perf_counter()
        run([source])
        singles.append(time.perf_counter() - began)
    return {
        "sentences_per_s": len(sources) / elapsed,
        "batch1_p50_ms": 1000 * statistics.median(singles),
    }


def served(model_dir: Path, texts: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """dragoman serve (batching on, cache off) at 1 and 32 clients."""
    options = pb.TranslationOptions(quality=pb.QUALITY_FAST, max_output_tokens=args.new_tokens)
    server = Server(str(model_dir), args.threads, batching=True)
    try:
        drive(server.port, 2, texts[:2], options)  # warm-up
        alone = drive(server.port, 1, texts[: args.singles], options)
        many = drive(server.port, 32, texts, options)
    finally:
        server.stop()
    return {"1": alone, "32": many}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=256)
    parser.add_argument("--singles", type=int, default=16, help="batch-1 requests timed")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, default=RESULTS / "served_vs_offline.json")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    model_dir = nllb600m.build()
    texts = sentences(args.sentences)
    ct2 = offline(model_dir, texts, args)
    dragoman = served(model_dir, texts, args)
    result = {
        "model": "NLLB-200-distilled-600M shape, random weights, int8",
        "threads": args.threads,
        "new_tokens": args.new_tokens,
        "offline": ct2,
        "served": dragoman,
        "ratio_32": dragoman["32"]["sentences_per_s"] / ct2["sentences_per_s"],
        "batch1_ratio": dragoman["1"]["p50_ms"] / ct2["batch1_p50_ms"],
    }
    print(
        f"CT2 offline translate_batch (batch {args.batch_size}): "
        f"{ct2['sentences_per_s']:.2f} sentences/s; batch 1: {ct2['batch1_p50_ms']:.0f} ms"
    )
    for clients in ("1", "32"):
        run = dragoman[clients]
        print(
            f"dragoman serve, {clients:>2} clients: {run['sentences_per_s']:.2f} sentences/s, "
            f"p50 {run['p50_ms']:.0f} ms"
        )
    print(f"served/offline at 32 clients: {result['ratio_32']:.2f} (target >= 0.9); batch-1 "
          f"latency served/bare: {result['batch1_ratio']:.2f} (target <= 1.10)")  # fmt: skip
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
