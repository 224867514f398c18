"""The batcher on a real tiny model: merging, overload, deadlines, cancellation, drain.

A gate in front of the CTranslate2 call holds the worker while a test queues work,
so what gets merged is decided by the test, not by timing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dragoman.engine.batcher import Batcher, Job
from dragoman.engine.config import BatchingConfig, ModelSpec
from dragoman.engine.errors import Cancelled, DeadlineExceeded, Overloaded, ShuttingDown
from dragoman.engine.model import TranslationModel
from dragoman.engine.observer import NullObserver, StatsCounter
from dragoman.engine.service import TranslationEngine
from dragoman.engine.types import CallContext, DecodingOptions, TranslationRequest

GREEDY = DecodingOptions(beam_size=1)
WORDS = ["cat", "dog", "house", "river", "tree", "city", "road", "book", "garden", "window"]


class Gate:
    """Holds every CTranslate2 call until opened (the fault: a slow model)."""

    def __init__(self, run: Callable[..., list[Any]]) -> None:
        self._run = run
        self.opened = threading.Event()
        self.entered = threading.Event()

    def __call__(self, *args: Any, **kwargs: Any) -> list[Any]:
        self.entered.set()
        assert self.opened.wait(30), "test never opened the gate"
        return self._run(*args, **kwargs)


class Recorder(NullObserver):
    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.tokens_in: list[int] = []

    def on_batch(
        self, model: str, size: int, tokens_in: int, tokens_out: int, seconds: float
    ) -> None:
        self.sizes.append(size)
        self.tokens_in.append(tokens_in)


@pytest.fixture(scope="module")
def model(tiny_nllb_dir: Path) -> TranslationModel:
    return TranslationModel(ModelSpec("tiny", str(tiny_nllb_dir), device="cpu", intra_threads=1))


@pytest.fixture
def gated(model: TranslationModel) -> Iterator[tuple[Batcher, Gate, StatsCounter, Recorder]]:
    gate = Gate(model.translate_batch)
    stats, recorder = StatsCounter(), Recorder()
    config = BatchingConfig(max_wait_ms=0, max_queue_segments=40, max_batch_size=64)
    batcher = Batcher("tiny", gate, config, stats, recorder, workers=1)
    yield batcher, gate, stats, recorder
    gate.opened.set()
    batcher.close(timeout=10)


def _segment(model: TranslationModel, text: str) -> Job:
    return Job(model.frame(model.tokenizer.encode(text), "eng_Latn", "fra_Latn"))


def _submit(batcher: Batcher, model: TranslationModel, text: str, ctx: CallContext) -> Any:
    return batcher.translate([_segment(model, text)], GREEDY, ctx)[0]


def test_32_concurrent_requests_are_merged(
    gated: tuple[Batcher, Gate, StatsCounter, Recorder],
    model: TranslationModel,
    wait_until: Callable[[Callable[[], bool]], None],
) -> None:
    batcher, gate, stats, recorder = gated
    texts = [f"The {WORDS[i % 10]} sees {i} small {WORDS[(i * 3) % 10]}" for i in range(32)]
    results: dict[int, Any] = {}

    def client(i: int) -> None:
        results[i] = _submit(batcher, model, texts[i], CallContext())

    threads = [threading.Thread(target=client, args=(i,)) for i in range(32)]
    threads[0].start()
    wait_until(gate.entered.is_set)  # request 0 is in the worker; the rest must queue
    for thread in threads[1:]:
        thread.start()
    wait_until(lambda: batcher.depth == 31)
    gate.opened.set()
    for thread in threads:
        thread.join(30)
    snapshot = stats.snapshot()
    assert recorder.sizes == [1, 31]
    assert snapshot.batches == 2 and snapshot.max_batch_size == 31
    assert snapshot.merged_batches == 1 and snapshot.segments == 32
    for i, text in enumerate(texts):  # each caller got its own sentence's translation
        alone = model.translate_batch([_segment(model, text).input], GREEDY)[0]
        assert results[i].hypotheses == alone.hypotheses


def test_token_budget_splits_batches(model: TranslationModel) -> None:
    gate = Gate(model.translate_batch)
    stats, recorder = StatsCounter(), Recorder()
    config = BatchingConfig(max_wait_ms=0, max_batch_tokens=40, max_batch_size=64)
    batcher = Batcher("tiny", gate, config, stats, recorder, workers=1)
    jobs = [_segment(model, f"The {w} walks near the river") for w in WORDS]  # ~9 tokens
    try:
        gate.opened.set()
        outputs = batcher.translate(jobs, GREEDY, CallContext())
    finally:
        batcher.close(timeout=10)
    assert len(outputs) == 10
    assert all(tokens <= 40 for tokens in recorder.tokens_in)
    assert sum(recorder.sizes) == 10 and len(recorder.sizes) > 1


def test_full_queue_reports_overload(
    gated: tuple[Batcher, Gate, StatsCounter, Recorder],
    model: TranslationModel,
    wait_until: Callable[[Callable[[], bool]], None],
) -> None:
    batcher, gate, stats, _ = gated
    first = threading.Thread(target=_submit, args=(batcher, model, "The cat.", CallContext()))
    first.start()
    wait_until(gate.entered.is_set)
    job = _segment(model, "The dog.")
    filler = threading.Thread(target=batcher.translate, args=([job] * 40, GREEDY, CallContext()))
    filler.start()
    wait_until(lambda: batcher.depth == 40)
    with pytest.raises(Overloaded, match=r"queue of model 'tiny' is full \(40 of 40"):
        _submit(batcher, model, "One more.", CallContext())
    assert stats.snapshot().overloaded == 1
    gate.opened.set()
    first.join(30)
    filler.join(30)
    assert _submit(batcher, model, "Works again.", CallContext()).hypotheses


def test_lone_client_does_not_wait_for_company(model: TranslationModel) -> None:
    # A ten-minute max wait: were a lone caller kept waiting, this test would hang.
    stats = StatsCounter()
    config = BatchingConfig(max_wait_ms=600_000)
    batcher = Batcher("tiny", model.translate_batch, config, stats, NullObserver(), workers=1)
    try:
        for text in ("The cat.", "The dog.", "The tree."):
            assert _submit(batcher, model, text, CallContext()).hypotheses
    finally:
        batcher.close(timeout=10)
    assert stats.snapshot().batches == 3


def test_request_larger_than_the_queue_runs_when_idle(
    gated: tuple[Batcher, Gate, StatsCounter, Recorder], model: TranslationModel
) -> None:
    batcher, gate, stats, _ = gated
    gate.opened.set()
    outputs = batcher.translate([_segment(model, "The dog.")] * 50, GREEDY, CallContext())
    assert len(outputs) == 50 and stats.snapshot().overloaded == 0


@pytest.mark.parametrize("how", ["deadline", "cancel"])
def test_waiting_caller_gives_up_and_its_segment_is_skipped(
    gated: tuple[Batcher, Gate, StatsCounter, Recorder],
    model: TranslationModel,
    how: str,
    wait_until: Callable[[Callable[[], bool]], None],
) -> None:
    batcher, gate, stats, recorder = gated
    first = threading.Thread(target=_submit, args=(batcher, model, "The cat.", CallContext()))
    first.start()
    wait_until(gate.entered.is_set)
    ctx = CallContext(deadline=time.monotonic() + 0.2 if how == "deadline" else None)
    if how == "cancel":
        threading.Timer(0.1, ctx.cancelled.set).start()
    expected = DeadlineExceeded if how == "deadline" else Cancelled
    with pytest.raises(expected):
        _submit(batcher, model, "The dog.", ctx)
    gate.opened.set()
    first.join(30)
    _submit(batcher, model, "Next.", CallContext())
    assert recorder.sizes == [1, 1]  # the abandoned segment never reached CTranslate2
    counters = stats.snapshot()
    assert (counters.deadline_exceeded, counters.cancelled) == (
        (1, 0) if how == "deadline" else (0, 1)
    )


def test_close_drains_queued_work_then_refuses(
    gated: tuple[Batcher, Gate, StatsCounter, Recorder],
    model: TranslationModel,
    wait_until: Callable[[Callable[[], bool]], None],
) -> None:
    batcher, gate, _, _ = gated
    results: list[Any] = []
    clients = [
        threading.Thread(
            target=lambda t=t: results.append(_submit(batcher, model, t, CallContext()))
        )
        for t in ("The cat.", "The dog.", "The tree.")
    ]
    clients[0].start()
    wait_until(gate.entered.is_set)
    for client in clients[1:]:
        client.start()
    wait_until(lambda: batcher.depth == 2)
    closer = threading.Thread(target=batcher.close, args=(30,))
    closer.start()
    with pytest.raises(ShuttingDown):
        wait_until(lambda: batcher._closing)
        _submit(batcher, model, "Too late.", CallContext())
    gate.opened.set()
    for thread in (*clients, closer):
        thread.join(30)
    assert len(results) == 3 and all(r.hypotheses for r in results)


def test_engine_merges_concurrent_clients(tiny_nllb_dir: Path) -> None:
    engine = TranslationEngine(
        [ModelSpec("tiny", str(tiny_nllb_dir), device="cpu", intra_threads=1)],
        batching=BatchingConfig(max_wait_ms=200),
    )
    engine.load()
    barrier = threading.Barrier(32)
    texts = [f"The {WORDS[i % 10]} reads {i} books" for i in range(32)]
    results: dict[int, str] = {}

    def client(i: int) -> None:
        barrier.wait()
        request = TranslationRequest((texts[i],), "fr", "en", options=GREEDY)
        results[i] = engine.translate(request, CallContext())[0].text

    threads = [threading.Thread(target=client, args=(i,)) for i in range(32)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert engine.stats.max_batch_size > 1 and engine.stats.merged_batches >= 1
        assert engine.stats.segments == 32
        alone = engine.translate(TranslationRequest(tuple(texts), "fr", "en", options=GREEDY),
                                 CallContext())  # fmt: skip
        assert [t.text for t in alone] == [results[i] for i in range(32)]
    finally:
        engine.shutdown(timeout=10)


class Turnstile:
    """Lets one CTranslate2 call through per `release()`; counts the calls that arrived."""

    def __init__(self, run: Callable[..., list[Any]]) -> None:
        self._run = run
        self._permits = threading.Semaphore(0)
        self.arrived = 0

    def release(self) -> None:
        self._permits.release()

    def __call__(self, *args: Any, **kwargs: Any) -> list[Any]:
        self.arrived += 1
        assert self._permits.acquire(timeout=30), "test never released the call"
        return self._run(*args, **kwargs)


def test_after_a_slow_batch_the_worker_waits_for_the_callers_it_answered(
    model: TranslationModel,
    wait_until: Callable[[Callable[[], bool]], None],
) -> None:
    """Callers a batch just answered send their next request a moment later; a segment
    that queued meanwhile must not run alone (32 clients used to settle into alternating
    batches of 1 and 31). Here the wait after a batch is unbounded in practice, so only
    "every caller is back" (more requests queued than the last batch held) ends it."""
    turnstile = Turnstile(model.translate_batch)
    stats, recorder = StatsCounter(), Recorder()
    config = BatchingConfig(max_wait_ms=0, wait_fraction=1e6, max_adaptive_wait_ms=600_000)
    batcher = Batcher("tiny", turnstile, config, stats, recorder, workers=1)

    def submit(text: str) -> threading.Thread:
        thread = threading.Thread(target=_submit, args=(batcher, model, text, CallContext()))
        thread.start()
        return thread

    try:
        first = submit("Hi.")  # a lone caller: runs at once, held in the turnstile
        wait_until(lambda: turnstile.arrived == 1)
        pair = [submit("The cat."), submit("The dog.")]
        wait_until(lambda: batcher.depth == 2)
        turnstile.release()  # [Hi.] done; the pair runs together, held
        wait_until(lambda: turnstile.arrived == 2)
        straggler = submit("A tree.")  # queues while the pair runs
        wait_until(lambda: batcher.depth == 1)
        turnstile.release()  # the pair is answered; the straggler waits for them
        for thread in (first, *pair):
            thread.join(30)
        again = [submit("The cat again."), submit("The dog again.")]
        wait_until(lambda: turnstile.arrived == 3)
        turnstile.release()
        for thread in (straggler, *again):
            thread.join(30)
    finally:
        for _ in range(3):
            turnstile.release()
        batcher.close(timeout=10)
    assert recorder.sizes == [1, 2, 3]
