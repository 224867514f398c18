"""Translation cache: latency of a hit vs a miss, in-process and in Redis, side by side.

    .venv/bin/python bench/cache_bench.py [--model demo|DIR] [--requests 100]
        [--sentences 4] [--threads 1] [--redis-url redis://...]

Runs the engine in process (no gRPC, batching off so no batching wait) on one model,
once per cache back-end: none, in-process (cachetools) and Redis (a redis-server
started on a free loopback port unless --redis-url is given). For each, it translates
`--requests` requests of `--sentences` fresh sentences each (every sentence a miss,
which also stores it), then the same requests again (every sentence a hit), and
prints the per-request latency of both with the miss/hit ratio. The "none" row shows
what a miss costs over no cache at all. Figures go to bench/results/cache_bench.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dragoman.engine.cache import CacheConfig, build_cache
from dragoman.engine.service import BatchingConfig, ModelSpec, TranslationEngine
from dragoman.engine.types import CallContext, TranslationRequest

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
# fmt: off
SUBJECTS = ["the farmer", "my sister", "a small child", "the old teacher", "our neighbours",
            "the doctor", "a tired traveller", "the children", "a young cat", "the baker"]
VERBS = ["sees", "carries", "finds", "likes", "paints", "brings", "watches", "remembers"]
OBJECTS = ["the red boat", "a heavy basket", "the long river", "three green apples",
           "the quiet garden", "an old letter", "the bright lamp", "a wooden table"]
TAILS = ["", " in the morning", " near the bridge", " after the rain", " every day",
         " at night", " with a friend"]
# fmt: on


def sentences(count: int) -> list[str]:
    """`count` distinct simple English sentences (deterministic)."""
    out = []
    for i in range(count):
        words = (f"{SUBJECTS[i % 10]} {VERBS[(i // 10) % 8]} {OBJECTS[(i // 80) % 8]}"
                 f"{TAILS[(i // 640) % 7]}")  # fmt: skip
        out.append(words[0].upper() + words[1:] + ".")
    if len(set(out)) != count:
        raise ValueError(f"at most {10 * 8 * 8 * 7} distinct sentences")
    return out


@contextmanager
def redis_server() -> Iterator[str]:
    """A throw-away redis-server on a free loopback port; yields its URL."""
    import redis

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory() as workdir:
        proc = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", workdir, "--maxmemory", "256mb",
             "--maxmemory-policy", "allkeys-lru"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            client = redis.Redis(port=port)
            for _ in range(200):
                try:
                    client.ping()
                    break
                except redis.exceptions.ConnectionError:
                    time.sleep(0.025)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.kill()
            proc.wait(timeout=10)


def timed(engine: TranslationEngine, requests: list[TranslationRequest]) -> list[float]:
    """Seconds per request, one request at a time."""
    out = []
    for request in requests:
        started = time.perf_counter()
        translations = engine.translate(request, CallContext())
        out.append(time.perf_counter() - started)
        assert len(translations) == len(request.texts)
    return out


def summary(seconds: list[float]) -> dict[str, float]:
    """Mean, median and p95 in milliseconds."""
    ordered = sorted(seconds)
    return {
        "mean_ms": statistics.fmean(seconds) * 1000,
        "p50_ms": ordered[len(ordered) // 2] * 1000,
        "p95_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000,
    }


def run_backend(name: str, url: str | None, args: argparse.Namespace) -> dict[str, Any]:
    """Miss and hit latency with one back-end (url None = no cache)."""
    cache = None if url is None else build_cache(CacheConfig(url=url, ttl_seconds=3600))
    spec = ModelSpec("bench", args.model, device="cpu", intra_threads=args.threads)
    engine = TranslationEngine([spec], batching=BatchingConfig(enabled=False), cache=cache)
    engine.load()
    engine.warmup()
    texts = sentences(args.requests * args.sentences)
    requests = [
        TranslationRequest((" ".join(texts[i : i + args.sentences]),), args.target, args.source)
        for i in range(0, len(texts), args.sentences)
    ]
    first = timed(engine, requests)
    again = timed(engine, requests)
    stats = cache.stats() if cache is not None else None
    engine.shutdown(timeout=5)
    result = {"backend": name, "first": summary(first), "again": summary(again)}
    if stats is not None:
        result["cache"] = {"hits": stats.hits, "misses": stats.misses, "errors": stats.errors}
    return result


def print_table(rows: list[dict[str, Any]]) -> None:
    """The side-by-side table."""
    print(f"{'cache':<10}{'miss p50':>10}{'miss mean':>11}{'hit p50':>10}{'hit mean':>10}"
          f"{'miss/hit':>10}{'hits':>8}{'misses':>8}")  # fmt: skip
    for row in rows:
        miss, hit = row["first"], row["again"]
        ratio = miss["mean_ms"] / hit["mean_ms"]
        counts = row.get("cache", {"hits": "-", "misses": "-"})
        hit_p50 = f"{hit['p50_ms']:.3f}" if "cache" in row else "-"
        hit_mean = f"{hit['mean_ms']:.3f}" if "cache" in row else "-"
        print(f"{row['backend']:<10}{miss['p50_ms']:>10.3f}{miss['mean_ms']:>11.3f}"
              f"{hit_p50:>10}{hit_mean:>10}{ratio if 'cache' in row else 1:>9.1f}x"
              f"{counts['hits']:>8}{counts['misses']:>8}")  # fmt: skip
    print("(milliseconds per request; 'none' has no hits: its second pass runs the model again)")


def main() -> int:
    """Runs the benchmark and prints the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="demo", help="model directory (default: demo)")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--sentences", type=int, default=4, help="sentences per request")
    parser.add_argument("--threads", type=int, default=1, help="CTranslate2 intra threads")
    parser.add_argument("--source", default="eng_Latn")
    parser.add_argument("--target", default="", help="target code (default: the demo's)")
    parser.add_argument("--redis-url", default="", help="use this Redis instead of starting one")
    args = parser.parse_args()
    if args.model == "demo":
        from dragoman.server.settings import demo_model_dir

        args.model = str(demo_model_dir())
    if not args.target:
        manifest = json.loads((Path(args.model) / "dragoman.json").read_text(encoding="utf-8"))
        args.target = next(c["code"] for c in manifest["languages"] if c["code"] != args.source)
    rows = [run_backend("none", None, args), run_backend("memory", "", args)]
    if args.redis_url:
        rows.append(run_backend("redis", args.redis_url, args))
    elif shutil.which("redis-server"):
        with redis_server() as url:
            rows.append(run_backend("redis", url, args))
    else:
        print("redis-server not found: skipping the Redis row", file=sys.stderr)
    print(f"model {args.model}, {args.requests} requests x {args.sentences} sentences, "
          f"{args.source} -> {args.target}, {args.threads} thread(s)")  # fmt: skip
    print_table(rows)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "cache_bench.json"
    out.write_text(json.dumps({"args": vars(args), "rows": rows}, indent=2) + "\n")
    print(f"saved {out.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
