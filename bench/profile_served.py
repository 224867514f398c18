"""Where a served batch's CPU goes: `dragoman serve` under 32 clients vs CTranslate2 alone.

    .venv/bin/python bench/profile_served.py [--sentences 64] [--py-spy out.txt]

On the NLLB-600M-shaped model (bench/nllb600m.py), greedy, 32 new tokens per sentence:
prints the CPU seconds per sentence of CTranslate2 offline (batches of 32) and of the
server, split by thread (from /proc/<pid>/task: CTranslate2's compute threads vs
everything else), and with `--py-spy` a py-spy record
(raw collapsed stacks, `--native`) of the server's Python threads meanwhile. CPU seconds
rather than wall time, so that a busy machine blurs the comparison less.
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import nllb600m  # noqa: E402
from server_batching import Server, drive, sentences  # noqa: E402

from dragoman.translation.v1 import translation_service_pb2 as pb  # noqa: E402


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds of every thread of `pid` so far, by thread id."""
    ticks = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            fields = Path(f"/proc/{pid}/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds[tid] = (int(fields[11]) + int(fields[12])) / ticks
    return seconds


def offline_cpu(model_dir: Path, texts: list[str], threads: int) -> float:
    """CPU seconds per sentence of CTranslate2 alone, batches of 32."""
    import ctranslate2
    import sentencepiece

    translator = ctranslate2.Translator(
        str(model_dir), device="cpu", compute_type="int8", intra_threads=threads
    )
    spm = sentencepiece.SentencePieceProcessor(
        model_file=str(model_dir / "sentencepiece.bpe.model")
    )
    sources = [["eng_Latn", *spm.encode(t, out_type=str), "</s>"] for t in texts]
    began = time.process_time()
    for start in range(0, len(sources), 32):
        batch = sources[start : start + 32]
        translator.translate_batch(
            batch, [["fra_Latn"]] * len(batch), beam_size=1, max_input_length=0,
            min_decoding_length=33, max_decoding_length=33,
        )  # fmt: skip
    return (time.process_time() - began) / len(sources)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--py-spy", type=Path, help="write a py-spy raw profile here")
    args = parser.parse_args()
    model = nllb600m.build()
    texts = sentences(args.sentences)
    print(f"CT2 offline: {offline_cpu(model, texts, args.threads):.3f} CPU-s per sentence")
    options = pb.TranslationOptions(quality=pb.QUALITY_FAST, max_output_tokens=32)
    server = Server(str(model), args.threads, batching=True)
    try:
        drive(server.port, 2, texts[:2], options)  # warm-up
        before = thread_cpu(server.proc.pid)
        spy = None
        if args.py_spy:
            spy = threading.Timer(1.0, subprocess.run, args=([
                str(Path(sys.executable).with_name("py-spy")), "record", "--pid",
                str(server.proc.pid), "--duration", "20", "--rate", "40", "--format", "raw",
                "--threads", "--native", "-o", str(args.py_spy)],))  # fmt: skip
            spy.start()
        result = drive(server.port, 32, texts, options)
        after = thread_cpu(server.proc.pid)
        if spy is not None:
            spy.join()
    finally:
        server.stop()
    spent = sorted((after[t] - before.get(t, 0.0) for t in after), reverse=True)
    compute, rest = spent[: args.threads], spent[args.threads :]
    print(f"dragoman serve, 32 clients: {result['sentences_per_s']:.2f} sentences/s, "
          f"{sum(spent) / len(texts):.3f} CPU-s per sentence: CTranslate2 compute threads "
          f"{sum(compute):.1f} s, the {len(rest)} other threads {sum(rest):.2f} s")  # fmt: skip
    counts = collections.Counter(round(s, 1) for s in rest if s >= 0.05)
    if counts:
        print("other threads over 0.05 s:", dict(counts))


if __name__ == "__main__":
    main()
