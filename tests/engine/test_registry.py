"""Model versions in the engine: routing, stickiness, pinning, draining, refusals, memory.

Real models throughout (the demo model, and a tiny model whose languages differ); the
only faked fault is a machine without free memory.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from dragoman.engine import errors, routing
from dragoman.engine.registry import IMPLICIT_VERSION
from dragoman.engine.service import ModelSpec, TranslationEngine
from dragoman.engine.types import CallContext, StreamConfig, TranslationRequest


def request(model: str = "") -> TranslationRequest:
    return TranslationRequest(("The cat sees the dog.",), "qaa_Latn", "eng_Latn", model)


def served_by(engine: TranslationEngine, model: str = "", key: str = "") -> str:
    (translation,) = engine.translate(request(model), CallContext(routing_key=key))
    return translation.model


@pytest.fixture
def engine(demo_model_dir: Path) -> Iterator[TranslationEngine]:
    """The demo model served as `demo` (no version), loaded."""
    engine = TranslationEngine([ModelSpec("demo", str(demo_model_dir), device="cpu",
                                          intra_threads=1)])  # fmt: skip
    engine.load()
    yield engine
    engine.shutdown(timeout=5)


def names(engine: TranslationEngine) -> dict[str, list[tuple[str, int]]]:
    """name -> [(version, weight)], what the serving set looks like."""
    return {m.name: [(v.version, v.weight) for v in m.versions] for m in engine.list_models()}


# --- routing (pure) -------------------------------------------------------------------


def test_sticky_points_are_stable_and_spread() -> None:
    assert routing.point("m", "alice") == routing.point("m", "alice")
    assert routing.point("m", "alice") != routing.point("other", "alice")
    points = [routing.point("m", f"user-{i}") for i in range(4000)]
    share = sum(p < 10 for p in points) / len(points)
    assert 0.08 < share < 0.12


def test_growing_the_newest_weight_only_moves_callers_to_it() -> None:
    points = [routing.point("m", f"user-{i}") for i in range(500)]
    before = [routing.choose([("v2", 10), ("v1", 90)], p) for p in points]
    after = [routing.choose([("v2", 50), ("v1", 50)], p) for p in points]
    assert all(b == "v1" for b, a in zip(before, after, strict=True) if a == "v1")


@pytest.mark.parametrize(
    ("weights", "error"),
    [({"v1": 50, "v2": 40}, errors.InvalidRequest), ({"v1": 110, "v2": -10}, errors.InvalidRequest),
     ({}, errors.InvalidRequest), ({"v3": 100}, errors.ModelNotFound)],
    ids=["short-of-100", "negative", "empty", "unknown-version"],
)  # fmt: skip
def test_bad_weights_are_refused(weights: dict[str, int], error: type[Exception]) -> None:
    with pytest.raises(error):
        routing.check_weights("m", weights, ["v1", "v2"])


# --- versions in a live engine ----------------------------------------------------------


def test_a_new_version_waits_without_traffic_and_is_reachable_by_name(
    engine: TranslationEngine, demo_model_dir: Path
) -> None:
    assert served_by(engine) == "demo"
    info = engine.registry.add("demo", "v2", str(demo_model_dir))
    assert info.weight == 0 and info.warmup_seconds > 0
    assert {served_by(engine) for _ in range(20)} == {f"demo@{IMPLICIT_VERSION}"}
    assert served_by(engine, "demo@v2") == "demo@v2"
    engine.registry.promote("demo", "v2")
    assert {served_by(engine) for _ in range(20)} == {"demo@v2"}


def test_weights_split_traffic_and_keys_stick(
    engine: TranslationEngine, demo_model_dir: Path
) -> None:
    engine.registry.add("demo", "v2", str(demo_model_dir))
    engine.registry.set_weights("demo", {IMPLICIT_VERSION: 70, "v2": 30})
    counts = Counter(served_by(engine) for _ in range(400))
    assert 0.20 < counts["demo@v2"] / 400 < 0.40
    for user in ("alice", "bob", "carol"):
        assert len({served_by(engine, key=user) for _ in range(10)}) == 1


def test_a_pinned_stream_stays_on_its_version_and_delays_the_unload(
    engine: TranslationEngine, demo_model_dir: Path
) -> None:
    engine.registry.add("demo", "v2", str(demo_model_dir))
    with engine.pin("demo", CallContext()) as ctx:
        assert ctx.pinned is not None and ctx.pinned.version == IMPLICIT_VERSION
        engine.registry.promote("demo", "v2")
        freed: list[bool] = []
        unload = threading.Thread(
            target=lambda: freed.append(engine.registry.unload("demo", IMPLICIT_VERSION, 30))
        )
        unload.start()
        time.sleep(0.3)
        assert unload.is_alive()  # draining: the pinned stream still uses it
        config = StreamConfig("qaa_Latn", "eng_Latn", "demo", interim=True)
        updates = list(engine.stream_segment("1", "Hello there.", config, ctx))
        assert {u.model for u in updates} == {f"demo@{IMPLICIT_VERSION}"}
        with pytest.raises(errors.ModelNotFound):  # no new request reaches it
            served_by(engine, f"demo@{IMPLICIT_VERSION}")
    unload.join(timeout=30)
    assert freed == [True]
    assert names(engine) == {"demo": [("v2", 100)]}


def test_unload_gives_up_waiting_and_frees_after_the_last_call(
    engine: TranslationEngine, demo_model_dir: Path
) -> None:
    engine.registry.add("demo", "v2", str(demo_model_dir))
    with engine.pin("demo@v2", CallContext()):
        assert engine.registry.unload("demo", "v2", drain_timeout=0.1) is False
        assert [v.state for v in engine.registry.versions("demo")] == ["ready", "draining"]
    assert names(engine) == {"demo": [(IMPLICIT_VERSION, 100)]}


@pytest.mark.parametrize(
    ("prepare", "error"),
    [
        (lambda e, d: e.registry.unload("demo", IMPLICIT_VERSION, 1), errors.RolloutRefused),
        (lambda e, d: e.registry.unload("demo", "v9", 1), errors.ModelNotFound),
        (lambda e, d: e.registry.add("demo", IMPLICIT_VERSION, str(d)), errors.VersionExists),
        (lambda e, d: e.registry.add("demo", "bad/label", str(d)), errors.InvalidRequest),
        (lambda e, d: e.registry.add("demo", "v2", str(d / "missing")), errors.BadModelDirectory),
        (lambda e, d: e.registry.set_weights("demo", {IMPLICIT_VERSION: 90}),
         errors.InvalidRequest),
    ],
    ids=["only-version-of-default", "unknown-version", "duplicate", "bad-label", "no-dir",
         "weights-short"],
)  # fmt: skip
def test_refused_changes_leave_the_serving_set_as_it_was(
    engine: TranslationEngine, demo_model_dir: Path, prepare: Callable, error: type
) -> None:
    before = names(engine)
    with pytest.raises(error):
        prepare(engine, demo_model_dir)
    assert names(engine) == before
    assert served_by(engine) == "demo"


def test_a_weighted_version_is_not_unloaded(
    engine: TranslationEngine, demo_model_dir: Path
) -> None:
    engine.registry.add("demo", "v2", str(demo_model_dir))
    engine.registry.set_weights("demo", {IMPLICIT_VERSION: 90, "v2": 10})
    with pytest.raises(errors.RolloutRefused, match="route it away first"):
        engine.registry.unload("demo", "v2", 1)
    assert names(engine) == {"demo": [(IMPLICIT_VERSION, 90), ("v2", 10)]}


def test_a_version_missing_live_languages_is_refused(
    engine: TranslationEngine, tiny_nllb_dir: Path
) -> None:
    with pytest.raises(errors.RolloutRefused, match="does not serve"):
        engine.registry.add("demo", "v2", str(tiny_nllb_dir))
    assert names(engine) == {"demo": [(IMPLICIT_VERSION, 100)]}
    # Under its own name it is fine: a second model.
    engine.registry.add("tiny", "v1", str(tiny_nllb_dir))
    assert sorted(names(engine)) == ["demo", "tiny"]


def test_not_enough_memory_is_refused_before_loading(
    engine: TranslationEngine, demo_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = psutil.virtual_memory()
    starved = type(real)(*[1024 if f == "available" else getattr(real, f) for f in real._fields])
    monkeypatch.setattr(psutil, "virtual_memory", lambda: starved)
    with pytest.raises(errors.NotEnoughMemory, match="MiB are available"):
        engine.registry.add("demo", "v2", str(demo_model_dir))
    assert names(engine) == {"demo": [(IMPLICIT_VERSION, 100)]}


def test_a_version_failing_its_warm_up_never_takes_traffic(
    engine: TranslationEngine, demo_model_dir: Path, tmp_path: Path
) -> None:
    # A model that loads and then fails to translate is a fault a real directory does
    # not give reliably: the warm-up raises, as a failing translation would, for this one.
    broken = tmp_path / "broken"
    shutil.copytree(demo_model_dir, broken)
    real_warm = engine.registry._warm

    def failing_warm(served: Any) -> None:
        if served.model.manifest.path == broken:
            raise errors.UnsupportedLanguage("warm-up target refused")
        real_warm(served)

    engine.registry._warm = failing_warm
    with pytest.raises(errors.BadModelDirectory, match="warm-up"):
        engine.registry.add("demo", "v2", str(broken), promote=True)
    assert names(engine) == {"demo": [(IMPLICIT_VERSION, 100)]}
    assert served_by(engine) == "demo"


def _rss_mib() -> float:
    return psutil.Process().memory_info().rss / 2**20


def test_load_unload_cycles_return_their_memory(
    engine: TranslationEngine, demo_model_dir: Path
) -> None:
    def cycle(number: int) -> None:
        engine.registry.add("demo", f"c{number}", str(demo_model_dir))
        served_by(engine, f"demo@c{number}")
        assert engine.registry.unload("demo", f"c{number}", 10) is True

    for number in range(3):  # allocator pools and CTranslate2's per-thread state settle
        cycle(number)
    start = _rss_mib()
    threads = threading.active_count()
    for number in range(3, 23):
        cycle(number)
    end = _rss_mib()
    print(f"RSS after 20 load/unload cycles of the demo model: {start:.1f} -> {end:.1f} MiB")
    assert end <= start * 1.10
    assert threading.active_count() == threads  # every batcher thread stopped
    assert names(engine) == {"demo": [(IMPLICIT_VERSION, 100)]}


def test_versions_of_one_directory_never_share_cache_entries(demo_model_dir: Path) -> None:
    from dragoman.engine.cache import CacheConfig, MemoryCache

    engine = TranslationEngine(
        [ModelSpec("demo", str(demo_model_dir), device="cpu", intra_threads=1, version="v1")],
        cache=MemoryCache(CacheConfig()),
    )
    engine.load()
    try:
        engine.registry.add("demo", "v2", str(demo_model_dir))
        identities = {v.version: v.served.identity for v in engine.registry.loaded()}
        assert identities["v1"] != identities["v2"]
        first = engine.translate(request("demo@v1"), CallContext())
        again = engine.translate(request("demo@v1"), CallContext())
        other = engine.translate(request("demo@v2"), CallContext())
        assert [t.cached for t in (*first, *again, *other)] == [False, True, False]
        assert other[0].model == "demo@v2" and other[0].text == first[0].text
    finally:
        engine.shutdown(timeout=5)


def test_a_full_gpu_is_reported_as_not_enough_memory(
    engine: TranslationEngine, demo_model_dir: Path
) -> None:
    # No GPU here: CTranslate2's CUDA out-of-memory failure is the fault this fakes.
    def full_gpu(spec: ModelSpec) -> Any:
        raise errors.ModelLoadError(
            "CTranslate2 cannot load x: CUDA failed with error out of memory"
        )

    engine.registry._open = full_gpu
    with pytest.raises(errors.NotEnoughMemory, match="unload a version first"):
        engine.registry.add("demo", "v2", str(demo_model_dir))
    assert names(engine) == {"demo": [(IMPLICIT_VERSION, 100)]}
