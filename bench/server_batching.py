"""Server throughput at 1 / 8 / 32 concurrent clients, cross-request batching on vs off.

    .venv/bin/python bench/server_batching.py [--model demo|DIR] [--clients 1 8 32]
        [--requests 128] [--threads N] [--quality fast|balanced|best]

Starts `dragoman serve` twice on the same model (translation cache off), once with
`--no-batching` (each request's segments run alone) and once with the batcher on, and
drives each with 1, 8 and 32 concurrent gRPC clients, every client on its own channel
sending one-sentence TranslateText requests back to back. Prints sentences/s and latency
side by side with the speed-up of batching (the issue's target: >= 3x at 32 clients), and
saves the figures (bench/results/server_batching.json) and a chart of throughput and latency vs
concurrency (bench/results/server_batching.png).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc

from dragoman.translation.v1 import translation_service_pb2 as pb
from dragoman.translation.v1 import translation_service_pb2_grpc as pb_grpc

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
QUALITY = {"fast": pb.QUALITY_FAST, "balanced": pb.QUALITY_BALANCED, "best": pb.QUALITY_BEST}
# fmt: off
SUBJECTS = ["the farmer", "my sister", "a small child", "the old teacher", "our neighbours",
            "the doctor", "a tired traveller", "the children"]
VERBS = ["sees", "carries", "finds", "likes", "paints", "brings", "watches", "remembers"]
OBJECTS = ["the red boat", "a heavy basket", "the long river", "three green apples",
           "the quiet garden", "an old letter", "the bright lamp", "a wooden table"]
TAILS = ["", " in the morning", " near the bridge", " after the rain", " every day"]
# fmt: on


def sentences(count: int) -> list[str]:
    """`count` simple English sentences of varied length (deterministic)."""
    out = []
    for i in range(count):
        words = f"{SUBJECTS[i % 8]} {VERBS[(i // 8) % 8]} {OBJECTS[(i * 3) % 8]}{TAILS[i % 5]}"
        out.append(words[0].upper() + words[1:] + ".")
    return out


class Server:
    """`dragoman serve` in a subprocess, on a free port."""

    def __init__(self, model: str, threads: int, batching: bool, http: bool = False) -> None:
        argv = [sys.executable, "-m", "dragoman.server.cli", "--model", f"bench={model}",
                "--port", "0", "--device", "cpu", "--intra-threads", str(threads),
                "--log-format", "json", "--grace-period", "5",
                # Measure translation, not the translation cache.
                "--no-cache"]  # fmt: skip
        argv += ["--http-port", "0"] if http else ["--no-http"]
        if not batching:
            argv.append("--no-batching")
        self.http_port: int | None = None
        self.proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True)
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.port = self._wait_port()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._lines.put(line)
        self._lines.put("")

    def _wait_port(self) -> int:
        seen = []
        while line := self._lines.get(timeout=600):
            seen.append(line)
            if line.startswith("{") and json.loads(line).get("message", "").startswith("serving"):
                self.http_port = json.loads(line).get("http_port")
                return int(json.loads(line)["port"])
        raise RuntimeError("dragoman serve exited:\n" + "".join(seen))

    def stop(self) -> None:
        """SIGTERM, then wait for the drain."""
        self.proc.terminate()
        self.proc.wait(timeout=60)


def _languages(port: int) -> tuple[str, str]:
    """A (source, target) pair the served model knows: English to something else."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        (model,) = pb_grpc.TranslationServiceStub(channel).ListModels(pb.ListModelsRequest()).models
    codes = list(model.language_codes)
    source = next((c for c in codes if c in ("eng_Latn", "en")), codes[0])
    return source, next(c for c in codes if c != source)


#: A client: opened in its own thread, it returns the function that sends one text, and
#: the function that closes it.
Client = Callable[[], tuple[Callable[[str], None], Callable[[], None]]]


def drive_clients(clients: int, texts: list[str], open_client: Client) -> dict[str, Any]:
    """Sends every text once from `clients` concurrent clients; returns the figures.

    Each client is opened before the clock starts, then takes texts from a shared queue
    and sends them back to back until none is left.
    """
    work: queue.Queue[str] = queue.Queue()
    for text in texts:
        work.put(text)
    latencies: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def client() -> None:
        send, close = open_client()
        try:
            start.wait()
            while True:
                try:
                    text = work.get_nowait()
                except queue.Empty:
                    return
                began = time.perf_counter()
                send(text)
                with lock:
                    latencies.append(time.perf_counter() - began)
        finally:
            close()

    with ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(client) for _ in range(clients)]
        start.wait()
        began = time.perf_counter()
        for future in futures:
            future.result()
        elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "clients": clients,
        "sentences": len(texts),
        "seconds": elapsed,
        "sentences_per_s": len(texts) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))],
    }


def drive(
    port: int, clients: int, texts: list[str], options: pb.TranslationOptions
) -> dict[str, Any]:
    """gRPC TranslateText, one sentence per request, each client on its own channel."""
    source, target = _languages(port)

    def open_client() -> tuple[Callable[[str], None], Callable[[], None]]:
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        stub = pb_grpc.TranslationServiceStub(channel)
        grpc.channel_ready_future(channel).result(timeout=60)

        def send(text: str) -> None:
            request = pb.TranslateTextRequest(
                contents=[text], source_language_code=source,
                target_language_code=target, options=options,
            )  # fmt: skip
            stub.TranslateText(request, timeout=600)

        return send, channel.close

    return drive_clients(clients, texts, open_client)


def run(args: argparse.Namespace) -> dict[str, list[dict[str, Any]]]:
    """Both modes at every concurrency level."""
    texts = sentences(args.requests)
    options = pb.TranslationOptions(quality=QUALITY[args.quality])
    results: dict[str, list[dict[str, Any]]] = {}
    for mode, batching in (("off", False), ("on", True)):
        server = Server(args.model, args.threads, batching)
        try:
            drive(server.port, 2, sentences(8), options)  # warm-up
            results[mode] = [drive(server.port, c, texts, options) for c in args.clients]
        finally:
            server.stop()
    return results


def report(results: dict[str, list[dict[str, Any]]]) -> str:
    """The figures as a table, with the speed-up of batching per concurrency level."""
    lines = [
        f"{'clients':>7} | {'off: sent/s':>11} {'p50 ms':>8} {'p95 ms':>8} | "
        f"{'on: sent/s':>10} {'p50 ms':>8} {'p95 ms':>8} | {'speed-up':>8}"
    ]
    for off, on in zip(results["off"], results["on"], strict=True):
        ratio = on["sentences_per_s"] / off["sentences_per_s"]
        lines.append(
            f"{off['clients']:>7} | {off['sentences_per_s']:>11.1f} {off['p50_ms']:>8.0f} "
            f"{off['p95_ms']:>8.0f} | {on['sentences_per_s']:>10.1f} {on['p50_ms']:>8.0f} "
            f"{on['p95_ms']:>8.0f} | {ratio:>7.2f}x"
        )
    return "\n".join(lines)


def chart(results: dict[str, list[dict[str, Any]]], path: Path, title: str) -> None:
    """Throughput and median latency vs concurrency, batching on and off."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for mode, style in (("off", "o--"), ("on", "s-")):
        clients = [r["clients"] for r in results[mode]]
        left.plot(clients, [r["sentences_per_s"] for r in results[mode]], style,
                  label=f"batching {mode}")  # fmt: skip
        right.plot(clients, [r["p50_ms"] for r in results[mode]], style, label=f"batching {mode}")
    for axis, label in ((left, "sentences / s"), (right, "median latency (ms)")):
        axis.set_xscale("log", base=2)
        axis.set_xticks([r["clients"] for r in results["on"]])
        axis.set_xticklabels([str(r["clients"]) for r in results["on"]])
        axis.set_xlabel("concurrent clients")
        axis.set_ylabel(label)
        axis.grid(True, alpha=0.3)
        axis.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="demo", help="model directory, or demo")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--requests", type=int, default=128, help="sentences per level")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="intra threads")
    parser.add_argument("--quality", choices=sorted(QUALITY), default="balanced")
    parser.add_argument("--output", type=Path, default=RESULTS / "server_batching")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    results = run(args)
    title = (f"dragoman serve --model {Path(args.model).name}: {args.requests} one-sentence "
             f"requests per level, {args.threads} CPU threads, quality {args.quality}")  # fmt: skip
    print(title)
    print(report(results))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.with_suffix(".json").write_text(
        json.dumps({"title": title, "results": results}, indent=2) + "\n", encoding="utf-8"
    )
    chart(results, args.output.with_suffix(".png"), title)
    print(f"figures: {args.output.with_suffix('.json')}, chart: {args.output.with_suffix('.png')}")


if __name__ == "__main__":
    main()
