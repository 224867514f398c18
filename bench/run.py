"""Runs every side-by-side benchmark in one go and prints their ratios together.

    .venv/bin/python bench/run.py            # or: make bench

Each benchmark is its own script (run them alone for more options); this one runs them one
after the other on an otherwise idle machine, then prints one summary of what each compares:
CTranslate2 int8 vs HF transformers, cross-request batching on vs off, dragoman served vs
CTranslate2's own translate_batch (NLLB-600M shape), every pipeline path (placeholders,
glossary, markup, streams) vs plain text, long-text quality, cache hit vs miss,
document pages per second, a model rollout under load (time to load + warm a version,
p99 while it loads vs before), HTTP (LibreTranslate API) vs gRPC throughput, and the memory
of model versions over load/unload cycles.
Figures land in bench/results/ (JSON, and the PNG chart the README shows).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"

RUNS: list[list[str]] = [
    ["engine_vs_hf.py", "--json", str(RESULTS / "engine_vs_hf.json")],
    ["server_batching.py", "--model", "demo"],
    ["served_vs_offline.py"],
    ["paths.py", "--model", "demo"],
    ["cache_bench.py", "--model", "demo"],
    ["documents_bench.py", "--model", "demo"],
    ["rollout.py", "--model", "demo", "--seconds", "60"],
    ["http_vs_grpc.py", "--model", "demo"],
    ["version_memory.py"],
]


def _load(name: str) -> dict:
    return json.loads((RESULTS / name).read_text(encoding="utf-8"))


def summary() -> list[str]:
    """The ratios of the last run of each benchmark, one line each."""
    engine = _load("engine_vs_hf.json")
    lines = [
        f"CT2 {engine['ct2_compute_type']} vs HF generate (NLLB-600M shape): "
        f"{engine['ct2_tokens_per_s']} vs {engine['hf_fp32_tokens_per_s']} tokens/s "
        f"= {engine['ratio']}x (target >= 4x)"
    ]
    batching = _load("server_batching.json")["results"]
    for off, on in zip(batching["off"], batching["on"], strict=True):
        lines.append(
            f"batching on vs off, {on['clients']:>2} clients: {on['sentences_per_s']:.1f} vs "
            f"{off['sentences_per_s']:.1f} sentences/s = "
            f"{on['sentences_per_s'] / off['sentences_per_s']:.2f}x (target >= 3x at 32)"
        )
    limit = _load("served_vs_offline.json")
    lines.append(
        f"served vs CT2 offline translate_batch (NLLB-600M shape, 32 clients): "
        f"{limit['served']['32']['sentences_per_s']:.2f} vs "
        f"{limit['offline']['sentences_per_s']:.2f} sentences/s = {limit['ratio_32']:.2f}x "
        f"(target >= 0.9x); batch-1 latency {limit['batch1_ratio']:.2f}x bare CT2 "
        "(target <= 1.1x)"
    )
    paths = _load("paths.json")
    plain = paths["paths"]["plain"][1]["sentences_per_s"]
    lines.append(
        "paths vs plain at 32 clients: "
        + ", ".join(
            f"{path} {runs[1]['sentences_per_s'] / plain:.2f}x"
            for path, runs in paths["paths"].items()
            if path != "plain"
        )
        + " (targets: placeholder/glossary/markup >= 0.8x, interim >= 0.7x)"
    )
    for name, row in paths["long_text"].items():
        lines.append(
            f"long text ({name}, {row['source_chars']} characters run together): chrF "
            f"{row['chrf']:.1f}, length ratio {row['length_ratio']:.2f}"
        )
    for row in _load("cache_bench.json")["rows"]:
        if row["backend"] != "none":
            miss, hit = row["first"]["mean_ms"], row["again"]["mean_ms"]
            lines.append(
                f"cache {row['backend']:<6} miss vs hit: {miss:.2f} vs {hit:.2f} ms "
                f"= {miss / hit:.1f}x"
            )
    for row in _load("documents_bench.json")["rows"]:
        lines.append(
            f"documents, {row['documents']} x 20-page .docx at once: {row['pages_per_s']:.2f} "
            f"pages/s, {row['outside_share']:.0%} of the time outside CTranslate2 "
            "(target <= 20% at 8)"
        )
    rollout = _load("rollout.json")
    lines.append(
        f"rollout ({rollout['clients']} clients, {rollout['seconds']:.0f} s): load + warm "
        f"{rollout['load_plus_warm_s']:.2f} s, p99 {rollout['p99_during_load_ms']:.0f} ms while "
        f"loading vs {rollout['p99_before_ms']:.0f} ms before, {rollout['failed']} failed of "
        f"{rollout['calls']} calls, {rollout['streams_switched']} streams switched version"
    )
    fronts = _load("http_vs_grpc.json")["results"]
    for grpc_row, http_row in zip(fronts["grpc"], fronts["http"], strict=True):
        lines.append(
            f"HTTP (LibreTranslate) vs gRPC, {http_row['clients']:>2} clients: "
            f"{http_row['sentences_per_s']:.1f} vs {grpc_row['sentences_per_s']:.1f} sentences/s "
            f"= {http_row['sentences_per_s'] / grpc_row['sentences_per_s']:.2f}x "
            "(target >= 0.9x at 32)"
        )
    memory = _load("version_memory.json")
    lines.append(
        f"model versions (NLLB-600M shape): {memory['cycles']} load/unload cycles, RSS "
        f"{memory['rss_after_first_cycle_mib']:.0f} -> {memory['rss_after_last_cycle_mib']:.0f} "
        f"MiB after the first vs the last ({memory['growth_vs_first_cycle_pct']:+.1f} %, target "
        f"within 10 %); load + warm beside traffic "
        f"{memory['blip']['load_plus_warm_beside_traffic_s']:.1f} s, p99 "
        f"{memory['blip']['p99_during_load_ms']:.0f} ms during vs "
        f"{memory['blip']['p99_before_ms']:.0f} ms before"
    )
    return lines


def main() -> int:
    """Runs each benchmark, stops at the first failure, prints the summary."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    for script, *args in RUNS:
        print(f"== {script} {' '.join(args)}", flush=True)
        code = subprocess.call([sys.executable, str(BENCH / script), *args])
        if code:
            return code
    print("\n== summary")
    print("\n".join(summary()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
