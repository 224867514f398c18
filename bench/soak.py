"""Soak: many clients, every RPC and feature, for minutes; zero errors and flat memory.

    .venv/bin/python bench/soak.py [--model demo|DIR] [--clients 64] [--minutes 5]
        [--json bench/results/soak.json]

Starts `dragoman serve` in a subprocess and runs `--clients` clients, each on its own
channel, for `--minutes`. Every client loops over a fixed mix of calls: TranslateText
(plain, HTML with inline tags, glossary and do-not-translate, placeholders, several
texts at once), StreamTranslateText (interim results on), DetectLanguage, ListModels and
ListLanguages. The server's RSS is sampled every 5 s. The run passes with 0 errors and
an RSS at the end within 10 % of the RSS once warm (after the first fifth of the run).
Exit status 0 when it passes, 1 when it does not.
"""

from __future__ import annotations

import argparse
import collections
import json
import queue
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc

from dragoman.translation.v1 import translation_service_pb2 as pb
from dragoman.translation.v1 import translation_service_pb2_grpc as pb_grpc

REPO = Path(__file__).resolve().parents[1]
RSS_TOLERANCE = 0.10
SAMPLE_S = 5.0
SENTENCES = [
    "The farmer sees the red boat near the bridge.",
    "My sister carries a heavy basket every day.",
    "The old teacher likes the quiet garden.",
    "Our neighbours paint the long river after the rain.",
    "A tired traveller finds an old letter.",
]


class Server:
    """`dragoman serve` in a subprocess on a free port; its stderr is drained."""

    def __init__(self, model: str, clients: int) -> None:
        self.port = _free_port()
        argv = [sys.executable, "-m", "dragoman.server.cli", "--model", f"soak={model}",
                "--port", str(self.port), "--device", "cpu", "--log-format", "json",
                "--log-level", "WARNING", "--grace-period", "30", "--no-http",
                # Every client is one caller from 127.0.0.1: it may use every slot.
                "--workers", str(clients + 16), "--max-rpcs-per-caller", str(clients + 16),
                "--max-streams-per-caller", str(clients + 16)]  # fmt: skip
        self.proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True)
        self._lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self._wait_serving()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.append(line)
            self._lines.put(line)
        self._lines.put("")

    def _wait_serving(self) -> None:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("dragoman serve exited:\n" + "".join(self.log))
            with grpc.insecure_channel(f"127.0.0.1:{self.port}") as channel:
                try:
                    stub = pb_grpc.TranslationServiceStub(channel)
                    stub.ListModels(pb.ListModelsRequest(), timeout=5)
                    return
                except grpc.RpcError:
                    pass
            time.sleep(0.5)
        raise RuntimeError("dragoman serve did not start within 600 s")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def stop(self) -> int:
        self.proc.terminate()
        return self.proc.wait(timeout=120)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _stream(stub: Any, target: str, index: int) -> int:
    def requests() -> Iterator[pb.StreamTranslateTextRequest]:
        yield pb.StreamTranslateTextRequest(
            config=pb.StreamingTranslationConfig(
                target_language_code=target,
                interim_results=True,
                options=pb.TranslationOptions(quality=pb.QUALITY_FAST),
            )
        )
        for n in range(3):
            text = SENTENCES[(index + n) % len(SENTENCES)]
            segment = pb.TranslationSegment(segment_id=str(n), text=text)
            yield pb.StreamTranslateTextRequest(segment=segment)

    finals = sum(r.is_final for r in stub.StreamTranslateText(requests(), timeout=300))
    if finals != 3:
        raise AssertionError(f"stream got {finals} final results for 3 segments")
    return finals


def mix(target: str) -> list[tuple[str, Callable[[Any, int], Any]]]:
    """The calls every client repeats, by name."""

    def translate(contents: list[str] | None = None) -> Callable[[Any, int], Any]:
        def call(stub: Any, i: int) -> Any:
            texts = contents or [SENTENCES[i % len(SENTENCES)]]
            request = pb.TranslateTextRequest(contents=texts, target_language_code=target)
            return stub.TranslateText(request, timeout=300)

        return call

    glossary = pb.TranslationGlossaryConfig(
        entries=[pb.GlossaryEntry(source_term="boat", target_term="BOAT")]
    )
    return [
        ("translate", translate()),
        ("translate-batch", translate(contents=SENTENCES)),
        ("translate-html", lambda s, i: s.TranslateText(pb.TranslateTextRequest(
            contents=[f"<p>The <b>farmer</b> sees <a href='/{i}'>the boat</a>.</p>"],
            target_language_code=target, mime_type="text/html"), timeout=300)),
        ("translate-glossary", lambda s, i: s.TranslateText(pb.TranslateTextRequest(
            contents=["The farmer sees the red boat."], target_language_code=target,
            glossary_config=glossary, do_not_translate=["farmer"]), timeout=300)),
        ("translate-placeholders", lambda s, i: s.TranslateText(pb.TranslateTextRequest(
            contents=[f"Hello {{name}}, you have %d boats ({i})."],
            target_language_code=target), timeout=300)),
        ("stream", lambda s, i: _stream(s, target, i)),
        ("detect", lambda s, i: s.DetectLanguage(pb.DetectLanguageRequest(
            contents=SENTENCES), timeout=300)),
        ("list-models", lambda s, i: s.ListModels(pb.ListModelsRequest(), timeout=300)),
        ("list-languages", lambda s, i: s.ListLanguages(pb.ListLanguagesRequest(), timeout=300)),
    ]  # fmt: skip


def run(port: int, clients: int, seconds: float, server: Server) -> dict[str, Any]:
    """Drives the server; returns the counts, errors and RSS samples."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        (model,) = pb_grpc.TranslationServiceStub(channel).ListModels(pb.ListModelsRequest()).models
    target = next(c for c in model.language_codes if c not in ("eng_Latn", "en"))
    calls = mix(target)
    counts: collections.Counter[str] = collections.Counter()
    errors: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(index: int) -> None:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = pb_grpc.TranslationServiceStub(channel)
            n = index
            while not stop.is_set():
                name, call = calls[n % len(calls)]
                try:
                    call(stub, n)
                    with lock:
                        counts[name] += 1
                except Exception as error:  # every failure is a finding
                    with lock:
                        errors.append(f"{name}: {error!r}"[:300])
                n += 1

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    rss = []
    while time.monotonic() - started < seconds:
        time.sleep(SAMPLE_S)
        rss.append(round(server.rss_mb(), 1))
        print(f"{time.monotonic() - started:6.0f} s  calls {sum(counts.values()):7d}  "
              f"errors {len(errors)}  RSS {rss[-1]:.0f} MB", flush=True)  # fmt: skip
    stop.set()
    for thread in threads:
        thread.join(timeout=600)
    elapsed = time.monotonic() - started
    warm = statistics.median(rss[len(rss) // 5 : len(rss) // 5 + 3])
    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "calls": dict(counts),
        "calls_per_s": round(sum(counts.values()) / elapsed, 1),
        "errors": len(errors),
        "first_errors": errors[:10],
        "rss_mb": rss,
        "rss_warm_mb": warm,
        "rss_end_mb": rss[-1],
        "rss_growth": round(rss[-1] / warm - 1, 4),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="demo", help="demo or a CTranslate2 model directory")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--json", type=Path, default=REPO / "bench" / "results" / "soak.json")
    args = parser.parse_args()
    server = Server(args.model, args.clients)
    try:
        figures = run(server.port, args.clients, args.minutes * 60, server)
    finally:
        status = server.stop()
    figures["server_exit"] = status
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    passed = figures["errors"] == 0 and abs(figures["rss_growth"]) <= RSS_TOLERANCE and status == 0
    print(
        f"{figures['clients']} clients, {figures['seconds']:.0f} s: "
        f"{sum(figures['calls'].values())} calls ({figures['calls_per_s']}/s), "
        f"{figures['errors']} errors, RSS warm {figures['rss_warm_mb']:.0f} MB -> end "
        f"{figures['rss_end_mb']:.0f} MB ({figures['rss_growth']:+.1%}), server exit {status}: "
        + ("PASS" if passed else "FAIL")
    )
    for error in figures["first_errors"]:
        print("  ", error)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
