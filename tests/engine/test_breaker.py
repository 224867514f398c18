"""The circuit breaker: opening, half-open trials, closing, reset, listeners."""

from __future__ import annotations

import threading

import pytest
from dragoman.engine import errors
from dragoman.engine.breaker import BreakerConfig, BreakerState, CircuitBreaker


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make(threshold: int = 3, timeout: float = 10.0) -> tuple[CircuitBreaker, Clock, list]:
    clock = Clock()
    breaker = CircuitBreaker(BreakerConfig(True, threshold, timeout), clock=clock)
    states: list[BreakerState] = []
    breaker.add_listener(states.append)
    return breaker, clock, states


def fail(breaker: CircuitBreaker, error: BaseException | None = None) -> None:
    with pytest.raises(type(error or RuntimeError())), breaker.guard():
        raise error or RuntimeError("CUDA error: device lost")


def test_consecutive_failures_open_it() -> None:
    breaker, _, states = make(threshold=3)
    fail(breaker)
    fail(breaker)
    with breaker.guard():
        pass  # a success resets the count
    fail(breaker)
    fail(breaker)
    assert breaker.state is BreakerState.CLOSED
    fail(breaker)
    assert breaker.state is BreakerState.OPEN
    assert states == [BreakerState.CLOSED, BreakerState.OPEN]
    with pytest.raises(errors.CircuitOpen, match=r"retry in 10\.0s$") as refused:
        breaker.check()
    # The failure came from another caller: the admin status has it, callers do not.
    assert "device lost" not in str(refused.value) and "device lost" in breaker.status().last_error
    with pytest.raises(errors.CircuitOpen):
        breaker.before_call()
    status = breaker.status()
    assert (status.consecutive_failures, status.opened_count) == (3, 1)
    assert status.retry_after == pytest.approx(10.0)


@pytest.mark.parametrize(
    "error",
    [
        errors.UnsupportedLanguage("no"),
        errors.InputTooLong("no"),
        errors.ModelNotFound("no"),
        errors.Overloaded("no"),
        errors.DeadlineExceeded("no"),
        errors.Cancelled("no"),
        errors.ShuttingDown("no"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_callers_mistakes_and_load_do_not_count(error: errors.EngineError) -> None:
    breaker, _, _ = make(threshold=1)
    fail(breaker, error)
    assert breaker.state is BreakerState.CLOSED
    assert breaker.status().consecutive_failures == 0


def test_half_open_trial_success_closes_it() -> None:
    breaker, clock, states = make(threshold=1, timeout=10)
    fail(breaker)
    clock.now += 10
    assert breaker.state is BreakerState.HALF_OPEN
    breaker.check()  # entry checks pass while half-open
    breaker.before_call()  # the trial
    with pytest.raises(errors.CircuitOpen):
        breaker.before_call()  # only one trial at a time
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    assert states == [BreakerState.CLOSED, BreakerState.OPEN, BreakerState.HALF_OPEN,
                      BreakerState.CLOSED]  # fmt: skip


def test_half_open_trial_failure_reopens_it() -> None:
    breaker, clock, states = make(threshold=5, timeout=10)
    for _ in range(5):
        fail(breaker)
    clock.now += 10
    fail(breaker)  # one failed trial is enough
    assert breaker.state is BreakerState.OPEN
    assert breaker.status().opened_count == 2
    assert breaker.status().retry_after == pytest.approx(10.0)
    assert states[-2:] == [BreakerState.HALF_OPEN, BreakerState.OPEN]


def test_trial_ended_by_a_callers_mistake_frees_the_slot() -> None:
    breaker, clock, _ = make(threshold=1)
    fail(breaker)
    clock.now += 10
    fail(breaker, errors.InvalidOption("bad beam"))
    assert breaker.state is BreakerState.HALF_OPEN
    with breaker.guard():
        pass
    assert breaker.state is BreakerState.CLOSED


def test_reset_closes_it() -> None:
    breaker, _, states = make(threshold=1)
    fail(breaker)
    status = breaker.reset()
    assert status.state is BreakerState.CLOSED and status.consecutive_failures == 0
    breaker.check()
    assert states[-1] is BreakerState.CLOSED


def test_disabled_never_opens() -> None:
    breaker = CircuitBreaker(BreakerConfig(enabled=False, failure_threshold=1))
    for _ in range(3):
        fail(breaker)
    breaker.check()
    assert breaker.state is BreakerState.CLOSED


def test_listeners_hear_half_open_without_any_call() -> None:
    """Health must come back to SERVING by itself, or no trial call would ever arrive."""
    breaker = CircuitBreaker(BreakerConfig(True, 1, reset_timeout=0.1))
    seen = threading.Event()
    breaker.add_listener(lambda state: seen.set() if state is BreakerState.HALF_OPEN else None)
    fail(breaker)
    assert seen.wait(timeout=10)
    assert breaker.state is BreakerState.HALF_OPEN


def test_concurrent_failures_open_it_once() -> None:
    breaker = CircuitBreaker(BreakerConfig(True, 10, reset_timeout=60))
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        for _ in range(10):
            try:
                with breaker.guard():
                    raise RuntimeError("boom")
            except (RuntimeError, errors.CircuitOpen):
                pass

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert breaker.state is BreakerState.OPEN
    assert breaker.status().opened_count == 1
