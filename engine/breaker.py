"""Circuit breaker around the engine's model calls.

Consecutive engine failures (real errors: CTranslate2 raising, a device gone; never a
caller's mistake, an overload or a deadline) open the breaker: calls fail fast with
`CircuitOpen` (UNAVAILABLE) and health turns NOT_SERVING. After `reset_timeout`
seconds it lets one trial call through (half-open); success closes it, failure opens
it again. `status()` and `reset()` serve the admin service; listeners hear every state
change (metrics, health).
"""

from __future__ import annotations

import enum
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from dragoman.engine.errors import CircuitOpen, EngineError

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


class BreakerState(enum.IntEnum):
    """Breaker states; the values are what the state gauge reports."""

    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


@dataclass(frozen=True)
class BreakerConfig:
    """Breaker settings.

    Attributes:
        enabled: False lets every call through and never opens.
        failure_threshold: Consecutive failures that open the breaker.
        reset_timeout: Seconds the breaker stays open before a trial call.
    """

    enabled: bool = True
    failure_threshold: int = 5
    reset_timeout: float = 30.0


@dataclass(frozen=True)
class BreakerStatus:
    """A snapshot of the breaker.

    Attributes:
        state: The current state.
        consecutive_failures: Failures since the last success.
        opened_count: How many times the breaker has opened since start.
        retry_after: Seconds until a trial call is allowed (0 unless open).
        last_error: The last failure's message, or "" (admin only: callers never see it).
    """

    state: BreakerState
    consecutive_failures: int
    opened_count: int
    retry_after: float
    last_error: str


def is_engine_failure(exc: BaseException) -> bool:
    """True for errors that say the engine is unwell, False for the caller's or load's.

    Every `EngineError` (bad input, unknown model, overload, deadline, cancellation,
    shutdown) is raised on purpose and says nothing about the engine's health.
    """
    return isinstance(exc, Exception) and not isinstance(exc, EngineError)


StateListener = Callable[[BreakerState], None]


class CircuitBreaker:
    """A thread-safe consecutive-failure circuit breaker."""

    def __init__(
        self,
        config: BreakerConfig = BreakerConfig(),
        *,
        is_failure: Callable[[BaseException], bool] = is_engine_failure,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Creates a closed breaker.

        Args:
            config: Threshold and timeout.
            is_failure: Decides which exceptions count as failures.
            clock: Monotonic clock (tests may pass their own).
        """
        self._config = config
        self._is_failure = is_failure
        self._clock = clock
        self._lock = threading.Lock()
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._opened_count = 0
        self._trial_running = False
        self._last_error = ""
        self._listeners: list[StateListener] = []
        self._timer: threading.Timer | None = None

    @property
    def state(self) -> BreakerState:
        """The current state (OPEN turns HALF_OPEN once the timeout has passed)."""
        with self._lock:
            return self._current_state()

    def add_listener(self, listener: StateListener) -> None:
        """Calls `listener(state)` now and after every state change."""
        with self._lock:
            self._listeners.append(listener)
            state = self._current_state()
        listener(state)

    def check(self) -> None:
        """Fails fast while the breaker is open; lets calls on when closed or half-open.

        Use it where work enters (before queueing); `guard` the model call itself.

        Raises:
            CircuitOpen: The breaker is open.
        """
        if not self._config.enabled:
            return
        with self._lock:
            if self._current_state() is BreakerState.OPEN:
                raise self._open_error()

    def before_call(self) -> None:
        """Lets a call through or raises `CircuitOpen`.

        In the half-open state exactly one trial call passes; the others fail fast
        until its outcome is recorded.

        Raises:
            CircuitOpen: The breaker is open, or a trial call is already running.
        """
        if not self._config.enabled:
            return
        changed = None
        with self._lock:
            state = self._current_state()
            if state is BreakerState.CLOSED:
                return
            if state is BreakerState.HALF_OPEN and not self._trial_running:
                self._trial_running = True
                if self._state is not BreakerState.HALF_OPEN:
                    self._state = changed = BreakerState.HALF_OPEN
            else:
                raise self._open_error()
        if changed is not None:
            logger.info("circuit breaker half-open: letting one trial call through")
            self._notify(changed)

    def record_success(self) -> None:
        """Records a successful call: resets the count, closes a half-open breaker."""
        changed = None
        with self._lock:
            self._failures = 0
            self._trial_running = False
            if self._state is not BreakerState.CLOSED:
                self._state = changed = BreakerState.CLOSED
        if changed is not None:
            logger.info("circuit breaker closed: the engine answers again")
            self._notify(changed)

    def record_failure(self, exc: BaseException) -> None:
        """Records an engine failure; opens the breaker at the threshold or after a trial."""
        changed = None
        with self._lock:
            self._failures += 1
            self._last_error = f"{type(exc).__name__}: {exc}"[:200]
            was_trial, self._trial_running = self._trial_running, False
            threshold = self._failures >= self._config.failure_threshold
            if self._config.enabled and (was_trial or threshold):
                if self._state is not BreakerState.OPEN:
                    self._opened_count += 1
                    changed = BreakerState.OPEN
                self._state = BreakerState.OPEN
                self._opened_at = self._clock()
                self._schedule_half_open()
        if changed is not None:
            logger.error(
                "circuit breaker open after %d consecutive engine failures (last: %s); "
                "failing fast for %.1fs",
                self._failures,
                self._last_error,
                self._config.reset_timeout,
            )
            self._notify(changed)

    def record(self, exc: BaseException | None) -> None:
        """Records the outcome of a call: None is success; other errors by `is_failure`.

        An error that is not an engine failure (the caller's mistake) leaves the count
        alone, except that it ends a half-open trial without a verdict.
        """
        if exc is None:
            self.record_success()
        elif self._is_failure(exc):
            self.record_failure(exc)
        else:
            with self._lock:
                self._trial_running = False

    @contextmanager
    def guard(self) -> Iterator[None]:
        """`before_call()`, then records how the body ended."""
        self.before_call()
        try:
            yield
        except BaseException as exc:
            self.record(exc)
            raise
        self.record_success()

    def wrap(self, fn: Callable[P, T]) -> Callable[P, T]:
        """`fn` run under `guard()`: its failures count, and it fails fast while open."""

        @functools.wraps(fn)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> T:
            with self.guard():
                return fn(*args, **kwargs)

        return guarded

    def status(self) -> BreakerStatus:
        """Returns a snapshot for the admin service."""
        with self._lock:
            state = self._current_state()
            return BreakerStatus(
                state=state,
                consecutive_failures=self._failures,
                opened_count=self._opened_count,
                retry_after=self._retry_after() if state is BreakerState.OPEN else 0.0,
                last_error=self._last_error,
            )

    def reset(self) -> BreakerStatus:
        """Closes the breaker and forgets the failures (admin action)."""
        with self._lock:
            was = self._current_state()
            self._state = BreakerState.CLOSED
            self._failures = 0
            self._trial_running = False
        if was is not BreakerState.CLOSED:
            logger.warning("circuit breaker reset by an administrator")
            self._notify(BreakerState.CLOSED)
        return self.status()

    # --- helpers (called with the lock held) ---------------------------------------

    def _current_state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and self._retry_after() <= 0:
            return BreakerState.HALF_OPEN
        return self._state

    def _open_error(self) -> CircuitOpen:
        # The last error stays in the log and the admin status: it came from another
        # caller's request and is not this caller's business.
        return CircuitOpen(
            "the translation engine is failing and its circuit breaker is open; retry in "
            f"{max(self._retry_after(), 0.1):.1f}s"
        )

    def _retry_after(self) -> float:
        return self._opened_at + self._config.reset_timeout - self._clock()

    def _schedule_half_open(self) -> None:
        """Announces HALF_OPEN when the timeout passes, even if no call comes.

        Without it, health would stay NOT_SERVING, a load balancer would send no
        trial call, and the breaker would never close.
        """
        if self._timer is not None:
            self._timer.cancel()
        self._timer = threading.Timer(self._config.reset_timeout, self._timeout_passed)
        self._timer.daemon = True
        self._timer.start()

    def _timeout_passed(self) -> None:
        with self._lock:
            if self._state is not BreakerState.OPEN or self._retry_after() > 0:
                return
            self._state = BreakerState.HALF_OPEN
        logger.info("circuit breaker half-open: the next call is a trial")
        self._notify(BreakerState.HALF_OPEN)

    def _notify(self, state: BreakerState) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(state)
            except Exception:
                logger.exception("circuit breaker listener failed")
