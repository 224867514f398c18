"""A model rollout under live traffic: load a second version, canary it, promote it,
unload the first.

    .venv/bin/python bench/rollout.py                     # demo model, 60 s
    .venv/bin/python bench/rollout.py --model DIR --seconds 120

32 clients (unary calls, some with a routing key, and streams of several segments)
translate without pause while the script, through AdminService, loads `NAME@v2`, routes
10 % then 100 % of the traffic to it and unloads `NAME@v1`. It reports failed calls,
streams that changed version, the split each phase observed against its weights, sticky
callers that moved back, the time to load + warm the new version, and the p99 latency of
unary calls while it loaded against before. tests/server/test_rollout.py runs the same
scenario for a shorter time and asserts on it.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import grpc

from dragoman.admin.v1 import admin_service_pb2 as apb
from dragoman.admin.v1 import admin_service_pb2_grpc as agrpc
from dragoman.translation.v1 import translation_service_pb2 as pb
from dragoman.translation.v1 import translation_service_pb2_grpc as tgrpc

RESULTS = Path(__file__).resolve().parent / "results"
TOKEN = "rollout-bench-admin-token-0123456789abcdef"
SENTENCES = ["The cat sees the dog.", "My friend reads a book today.", "Hello.",
             "The small river runs near the city.", "Your garden is green."]  # fmt: skip


@dataclass
class Call:
    """One finished call: what answered it and when."""

    kind: str  # unary | keyed | stream
    client: int
    start: float
    end: float
    models: list[str] = field(default_factory=list)
    error: str = ""


@dataclass
class Phase:
    """A stretch of the run with one traffic split (weights of the new version)."""

    name: str
    start: float
    end: float
    new_weight: int


class Traffic:
    """Clients that translate without pause until stopped; every call is recorded."""

    def __init__(self, address: str, clients: int, target: str, source: str) -> None:
        self._channel = grpc.insecure_channel(address)
        self._stub = tgrpc.TranslationServiceStub(self._channel)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._languages = (source, target)
        self.calls: list[Call] = []
        # 3 in 8 clients stream, 1 in 8 sends a routing key, half make plain unary calls
        # (the independent samples the observed split is measured on).
        kinds = ["stream", "unary", "keyed", "unary", "stream", "unary", "stream", "unary"]
        self._threads = [
            threading.Thread(target=self._client, args=(i, kinds[i % len(kinds)]), daemon=True)
            for i in range(clients)
        ]

    def start(self) -> None:
        """Starts every client."""
        for thread in self._threads:
            thread.start()

    def finished_since(self, start: float) -> int:
        """Plain unary calls that started at `start` or later and have finished."""
        with self._lock:
            return sum(1 for c in self.calls if c.kind == "unary" and c.start >= start)

    def stop(self) -> list[Call]:
        """Stops the clients after their current call; returns every call."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=120)
        self._channel.close()
        return self.calls

    def _client(self, index: int, kind: str) -> None:
        rng = random.Random(index)
        while not self._stop.is_set():
            call = Call(kind, index, time.monotonic(), 0.0)
            try:
                call.models = (
                    self._stream(rng) if kind == "stream" else self._unary(index, kind, rng)
                )
            except grpc.RpcError as error:
                call.error = f"{error.code().name}: {error.details()}"
            call.end = time.monotonic()
            with self._lock:
                self.calls.append(call)

    def _unary(self, index: int, kind: str, rng: random.Random) -> list[str]:
        source, target = self._languages
        request = pb.TranslateTextRequest(
            contents=[rng.choice(SENTENCES)], source_language_code=source,
            target_language_code=target,
        )  # fmt: skip
        metadata = (("x-dragoman-routing-key", f"user-{index}"),) if kind == "keyed" else ()
        response = self._stub.TranslateText(request, timeout=60, metadata=metadata)
        return [t.model for t in response.translations]

    def _stream(self, rng: random.Random) -> list[str]:
        source, target = self._languages

        def messages() -> Iterator[pb.StreamTranslateTextRequest]:
            config = pb.StreamingTranslationConfig(
                source_language_code=source, target_language_code=target, interim_results=True
            )
            yield pb.StreamTranslateTextRequest(config=config)
            for number in range(4):
                time.sleep(rng.uniform(0.05, 0.25))  # a speaker between sentences
                segment = pb.TranslationSegment(segment_id=str(number), text=rng.choice(SENTENCES))
                yield pb.StreamTranslateTextRequest(segment=segment)

        return [r.model for r in self._stub.StreamTranslateText(messages(), timeout=60)]


def _admin(address: str) -> tuple[Any, Any]:
    channel = grpc.insecure_channel(address)
    return channel, agrpc.AdminServiceStub(channel)


def run_scenario(
    address: str,
    name: str,
    directory: str,
    phase_seconds: float,
    clients: int = 32,
    min_calls: int = 0,
) -> dict[str, Any]:
    """Runs the rollout against a server serving `name@v1`; returns the raw report.

    Args:
        address: The server (its admin token must be `TOKEN`).
        name: The model name; `name@v1` must be loaded, and live.
        directory: The model directory loaded as `name@v2`.
        phase_seconds: How long each phase lasts at least (before, 10 %, after unload).
        clients: Concurrent clients.
        min_calls: A phase also lasts until this many plain unary calls finished inside
            it (up to 10 x `phase_seconds`), so a slow machine still samples the split.
    """
    md = (("authorization", f"Bearer {TOKEN}"),)
    channel, admin = _admin(address)
    source, target = _languages(address, name)
    traffic = Traffic(address, clients, target, source)
    traffic.start()
    phases: list[Phase] = []

    def hold(label: str, weight: int) -> None:
        start = time.monotonic()
        time.sleep(phase_seconds)
        cap = start + 10 * phase_seconds
        while traffic.finished_since(start) < min_calls and time.monotonic() < cap:
            time.sleep(0.1)
        phases.append(Phase(label, start, time.monotonic(), weight))

    hold("before", 0)
    load_start = time.monotonic()
    loaded = admin.LoadModel(apb.LoadModelRequest(name=name, version="v2", directory=directory),
                             metadata=md, timeout=600)  # fmt: skip
    load_end = time.monotonic()
    phases.append(Phase("loading", load_start, load_end, 0))
    admin.SetTrafficSplit(apb.SetTrafficSplitRequest(name=name, weights={"v1": 90, "v2": 10}),
                          metadata=md)  # fmt: skip
    hold("v2 at 10%", 10)
    admin.SetTrafficSplit(apb.SetTrafficSplitRequest(name=name, weights={"v2": 100}), metadata=md)
    promoted = time.monotonic()
    time.sleep(0.2)  # streams that started on v1 are still running: the unload drains them
    unload_start = time.monotonic()
    unloaded = admin.UnloadModel(apb.UnloadModelRequest(name=name, version="v1"), metadata=md,
                                 timeout=120)  # fmt: skip
    unload_seconds = time.monotonic() - unload_start
    phases.append(Phase("v2 at 100%", promoted, unload_start, 100))
    hold("after unload", 100)
    calls = traffic.stop()
    channel.close()
    v2 = next(v for v in loaded.model.versions if v.version == "v2")
    return {
        "calls": [asdict(c) for c in calls],
        "phases": [asdict(p) for p in phases],
        "load_wall_s": load_end - load_start,
        "load_seconds": v2.load_seconds,
        "warmup_seconds": v2.warmup_seconds,
        "unload_freed": unloaded.freed,
        "unload_seconds": unload_seconds,
        "unload_start": unload_start,
        "names": {"v1": f"{name}@v1", "v2": f"{name}@v2"},
    }


def _languages(address: str, name: str) -> tuple[str, str]:
    with grpc.insecure_channel(address) as channel:
        models = tgrpc.TranslationServiceStub(channel).ListModels(pb.ListModelsRequest())
    codes = list(next(m for m in models.models if m.name == name).language_codes)
    return codes[0], codes[1] if len(codes) > 1 else codes[0]


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else 0.0


def analyse(raw: dict[str, Any]) -> dict[str, Any]:
    """What the run shows: failures, stream consistency, split per phase, latency blip."""
    calls = [Call(**c) for c in raw["calls"]]
    names = raw["names"]
    phases = [Phase(**p) for p in raw["phases"]]
    failed = [c for c in calls if c.error]
    streams = [c for c in calls if c.kind == "stream" and not c.error]
    switched = [c for c in streams if len(set(c.models)) > 1]
    unnamed = [c for c in calls if not c.error and not set(c.models) <= set(names.values())]
    split = []
    for phase in phases:
        if phase.name == "loading":
            continue
        inside = [c for c in calls if c.kind == "unary" and not c.error
                  and phase.start <= c.start and c.end <= phase.end]  # fmt: skip
        share = 100 * sum(c.models[0] == names["v2"] for c in inside) / max(len(inside), 1)
        if inside:  # the short stretch between promote and unload may hold none
            split.append({"phase": phase.name, "weight": phase.new_weight, "observed": share,
                          "calls": len(inside)})  # fmt: skip
    moved_back = _sticky_moved_back(calls, names)
    drained = [c for c in streams if c.models and c.models[0] == names["v1"]
               and c.end > raw["unload_start"]]  # fmt: skip
    before = next(p for p in phases if p.name == "before")
    loading = next(p for p in phases if p.name == "loading")
    unary = [c for c in calls if c.kind != "stream" and not c.error]
    lat_before = [c.end - c.start for c in unary if before.start <= c.start and c.end <= before.end]
    lat_during = [c.end - c.start for c in unary if c.end > loading.start and c.start < loading.end]
    return {
        "calls": len(calls),
        "failed": len(failed),
        "failures": sorted({c.error for c in failed})[:5],
        "streams": len(streams),
        "streams_switched": len(switched),
        "v1_streams_drained_by_unload": len(drained),
        "unnamed_responses": len(unnamed),
        "split": split,
        "sticky_moved_back": moved_back,
        "load_plus_warm_s": raw["load_wall_s"],
        "load_s": raw["load_seconds"],
        "warmup_s": raw["warmup_seconds"],
        "unload_s": raw["unload_seconds"],
        "unload_freed": raw["unload_freed"],
        "p99_before_ms": 1000 * _p99(lat_before),
        "p99_during_load_ms": 1000 * _p99(lat_during),
        "samples_before": len(lat_before),
        "samples_during_load": len(lat_during),
    }


def _sticky_moved_back(calls: list[Call], names: dict[str, str]) -> int:
    """Keyed callers that went back to v1 after being served by v2."""
    moved = 0
    for client in {c.client for c in calls if c.kind == "keyed"}:
        seen_v2 = False
        for call in sorted((c for c in calls if c.client == client and not c.error),
                           key=lambda c: c.start):  # fmt: skip
            seen_v2 = seen_v2 or call.models[0] == names["v2"]
            if seen_v2 and call.models[0] == names["v1"]:
                moved += 1
                break
    return moved


def serve(models: list[dict[str, Any]]) -> Any:
    """A started, loaded in-process server of `models` (admin token `TOKEN`, no cache:
    every call runs the model it is routed to)."""
    from dragoman.server.app import build_app
    from dragoman.server.settings import Settings

    workdir = tempfile.mkdtemp(prefix="rollout-")
    settings = Settings(
        host="127.0.0.1", port=0, workers=64, log_format="text", log_level="WARNING",
        models=models, cache={"enabled": False},
        auth={"admin_token": TOKEN, "key_db": f"{workdir}/keys.sqlite3"},
        http={"enabled": False},
    )  # fmt: skip
    app = build_app(settings)
    app.start()
    app.load()
    return app


def main(argv: list[str] | None = None) -> int:
    """Serves the model, runs the scenario, prints and saves the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="demo", help="model directory (default: demo)")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the whole run")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--json", default=str(RESULTS / "rollout.json"))
    args = parser.parse_args(argv)
    app = serve([{"name": "bench", "version": "v1", "path": args.model, "device": "cpu"}])
    try:
        raw = run_scenario(f"127.0.0.1:{app.port}", "bench", args.model, args.seconds / 4,
                           args.clients)  # fmt: skip
    finally:
        app.stop(grace=5)
    report = {"model": args.model, "seconds": args.seconds, "clients": args.clients,
              **analyse(raw)}  # fmt: skip
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))
    return 0 if report["failed"] == 0 and report["streams_switched"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
