"""Model versions and memory: load/unload cycles, and a large load beside live traffic.

    .venv/bin/python bench/version_memory.py                  # NLLB-600M shape, random weights
    .venv/bin/python bench/version_memory.py --model demo --cycles 20

1. Cycles: an engine serving the measured model loads another version of it, runs one
   translation on it and unloads it, `--cycles` times; the process RSS is read before the
   first load and after every unload.
2. Blip: a server serving the demo model takes unary calls from 16 clients; midway the
   measured model is loaded (as another model name) beside it. It reports the time to
   load + warm it, and the p99 of the calls during the load against before it.

The NLLB-600M-shaped model is bench/engine_vs_hf.py's (random weights, int8, cached under
.cache/bench/), given NLLB language tokens and a sentencepiece file so dragoman can serve
it: its outputs are noise, its size and load path are NLLB-600M's.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil
from dragoman.engine.families.nllb_languages import NLLB_LANGUAGES
from dragoman.engine.manifest import demo_model_path

RESULTS = Path(__file__).resolve().parent / "results"


def servable_nllb600m() -> Path:
    """The NLLB-600M-shaped model as a directory dragoman serves (built once, cached)."""
    from engine_vs_hf import CACHE

    served = CACHE.parent / "nllb600m-servable"
    if (served / "model.bin").is_file():
        return served
    if not (CACHE / "model.bin").is_file():
        # In a child process: torch and the HF model must not inflate the RSS measured here.
        print("building the NLLB-600M-shaped model (about a minute, 4 GB peak)", flush=True)
        build = "import engine_vs_hf as e; e.convert(e.build_hf_model(0), e.CACHE)"
        subprocess.run([sys.executable, "-c", build], cwd=Path(__file__).parent, check=True)
    served.mkdir(parents=True, exist_ok=True)
    (served / "model.bin").symlink_to(CACHE / "model.bin")
    shutil.copy(CACHE / "config.json", served / "config.json")
    vocabulary = json.loads((CACHE / "shared_vocabulary.json").read_text(encoding="utf-8"))
    codes = list(NLLB_LANGUAGES)
    vocabulary[-len(codes) :] = codes  # NLLB keeps its language tokens at the end too
    (served / "shared_vocabulary.json").write_text(json.dumps(vocabulary), encoding="utf-8")
    shutil.copy(demo_model_path() / "sentencepiece.bpe.model", served)
    return served


def _rss_mib() -> float:
    return psutil.Process().memory_info().rss / 2**20


def cycles(model: str, count: int) -> dict:
    """RSS over `count` load/translate/unload cycles of versions of `model` beside it."""
    from dragoman.engine.service import ModelSpec, TranslationEngine
    from dragoman.engine.types import CallContext, TranslationRequest

    # The rollout case: the model serves (version `live`) while other versions of it come
    # and go, so the baseline holds one loaded copy.
    engine = TranslationEngine([ModelSpec("measured", model, device="cpu", version="live")])
    engine.load()
    before = _rss_mib()
    after, load_s = [], []
    for number in range(count):
        started = time.monotonic()
        info = engine.registry.add("measured", f"c{number}", model)
        load_s.append(time.monotonic() - started)
        codes = engine.registry.live(f"measured@c{number}").model.languages.codes
        request = TranslationRequest(("Hello world.",), codes[1], codes[0], f"measured@c{number}")
        engine.translate(request, CallContext())
        assert engine.registry.unload("measured", info.version, 60)
        after.append(_rss_mib())
    engine.shutdown(5)
    return {
        "rss_before_first_load_mib": round(before, 1),
        "rss_after_first_cycle_mib": round(after[0], 1),
        "rss_after_last_cycle_mib": round(after[-1], 1),
        "rss_after_each_cycle_mib": [round(r, 1) for r in after],
        "growth_vs_before_pct": round(100 * (after[-1] / before - 1), 1),
        "growth_vs_first_cycle_pct": round(100 * (after[-1] / after[0] - 1), 1),
        "load_plus_warm_s": [round(s, 2) for s in load_s],
    }


def blip(model: str, seconds: float) -> dict:
    """p99 of live unary calls before vs while `model` loads beside the demo model."""
    import grpc
    from rollout import TOKEN, Traffic, _p99, serve

    from dragoman.admin.v1 import admin_service_pb2 as apb
    from dragoman.admin.v1 import admin_service_pb2_grpc as agrpc

    app = serve([{"name": "demo", "path": "demo", "device": "cpu"}])
    address = f"127.0.0.1:{app.port}"
    traffic = Traffic(address, 16, "qaa_Latn", "eng_Latn")
    traffic.start()
    time.sleep(seconds)
    load_start = time.monotonic()
    with grpc.insecure_channel(address) as channel:
        agrpc.AdminServiceStub(channel).LoadModel(
            apb.LoadModelRequest(name="measured", version="v1", directory=model),
            metadata=(("authorization", f"Bearer {TOKEN}"),), timeout=600,
        )  # fmt: skip
    load_end = time.monotonic()
    time.sleep(1.0)
    calls = traffic.stop()
    app.stop(grace=5)
    unary = [c for c in calls if c.kind != "stream" and not c.error]
    before = [c.end - c.start for c in unary if c.end < load_start]
    during = [c.end - c.start for c in unary if c.end > load_start and c.start < load_end]
    return {
        "load_plus_warm_beside_traffic_s": round(load_end - load_start, 2),
        "p99_before_ms": round(1000 * _p99(before), 1),
        "p99_during_load_ms": round(1000 * _p99(during), 1),
        "calls_before": len(before),
        "calls_during_load": len(during),
        "failed": sum(1 for c in calls if c.error),
    }


def main(argv: list[str] | None = None) -> int:
    """Runs both measurements, prints and saves them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="", help="model directory (default: NLLB-600M shape)")
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument("--blip-seconds", type=float, default=10.0, help="traffic before load")
    parser.add_argument("--json", default=str(RESULTS / "version_memory.json"))
    args = parser.parse_args(argv)
    model = args.model or str(servable_nllb600m())
    if model == "demo":
        model = str(demo_model_path())
    report = {"model": model, "cycles": args.cycles, **cycles(model, args.cycles)}
    report["blip"] = blip(model, args.blip_seconds)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in report.items() if k != "rss_after_each_cycle_mib"},
                     indent=2))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
