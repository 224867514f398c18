"""One loaded model version, what the registry tells observers about versions, and the
labels responses carry.

`Version` is the registry's record of a version: its pipeline `Served` (model, batcher,
preparer, cache identity), its traffic weight, and a count of the calls using it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from dragoman.engine.config import ModelSpec
from dragoman.engine.errors import (
    Cancelled,
    DeadlineExceeded,
    InvalidRequest,
    ModelNotFound,
    Overloaded,
)
from dragoman.engine.types import StreamUpdate, Translation, VersionInfo

if TYPE_CHECKING:
    from dragoman.engine.model import TranslationModel
    from dragoman.engine.pipeline import Served

#: The version label of a model served without one.
IMPLICIT_VERSION = "initial"
READY, DRAINING = "ready", "draining"
#: Engine error -> the `outcome` of a version call in metrics (a small, fixed set).
OUTCOMES: dict[type[BaseException], str] = {
    InvalidRequest: "invalid",
    ModelNotFound: "invalid",
    DeadlineExceeded: "deadline",
    Cancelled: "cancelled",
    GeneratorExit: "cancelled",
    Overloaded: "overloaded",
}


Opener = Callable[[ModelSpec], "Served"]
Warmer = Callable[["Served"], None]


def close_served(served: Served, timeout: float) -> None:
    """Stops a version's batcher threads and frees its model's memory."""
    served.batcher.close(timeout)
    served.model.unload()
    trim_heap()


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    trim = getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    return trim


def trim_heap() -> None:
    """Gives freed heap memory back to the operating system (glibc's `malloc_trim`).

    CTranslate2 frees an unloaded model's buffers, but glibc keeps freed memory in its
    per-thread arenas, so the process does not shrink (CTranslate2 issues #824, #1642).
    Measured here: 8 load/unload cycles of an NLLB-600M-shaped model left RSS at about
    700 MiB without it and at 43 MiB (where it started) with it. A no-op where the C
    library has no `malloc_trim` (musl, macOS).
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


class VersionObserver:
    """Receives version events (metrics); every method is a no-op here."""

    def on_version_loaded(self, name: str, version: str, key: str) -> None:
        """A version is ready; `key` is what its batcher reports as `model`."""

    def on_version_unloaded(self, name: str, version: str, key: str) -> None:
        """A version was freed: forget its series."""

    def on_weights(self, name: str, weights: Mapping[str, int]) -> None:
        """The traffic split of `name` changed (version -> percent)."""

    def on_version_call(self, name: str, version: str, seconds: float, outcome: str) -> None:
        """A request or stream on a version ended with `outcome` (`ok`, `invalid`, ...)."""


@dataclass(eq=False)
class Version:
    """One loaded version of a name (mutable fields change under the registry's lock)."""

    name: str
    version: str
    explicit: bool
    served: Served
    seq: int
    load_seconds: float
    warmup_seconds: float
    state: str = READY
    weight: int = 0
    in_flight: int = 0
    label: str = ""
    #: Unload stopped waiting: the last lease frees the version.
    abandoned: bool = False

    @property
    def key(self) -> str:
        """Unique among loaded versions: `name@version`, or `name` for an implicit one."""
        return version_key(self.name, self.version, self.explicit)

    @property
    def model(self) -> TranslationModel:
        """The loaded model."""
        return self.served.model

    def info(self, live: bool) -> VersionInfo:
        """What ListModels shows of this version (`live`: its name's live version)."""
        return VersionInfo(
            version=self.version,
            label=self.label,
            state=self.state,
            weight=self.weight,
            live=live,
            directory=str(self.model.manifest.path),
            in_flight=self.in_flight,
            load_seconds=self.load_seconds,
            warmup_seconds=self.warmup_seconds,
        )

    def relabel(self, translations: list[Translation]) -> list[Translation]:
        """Translations naming this version as it is called now (see `label`)."""
        if self.label == self.key:
            return translations
        return [replace(t, model=self.label) for t in translations]

    def relabel_update(self, update: StreamUpdate) -> StreamUpdate:
        """A stream update naming this version as it is called now."""
        return update if self.label == self.key else replace(update, model=self.label)


def version_key(name: str, version: str, explicit: bool) -> str:
    """`name@version`, or `name` for a model served without versions."""
    return f"{name}@{version}" if explicit else name


def outcome_of(error: BaseException | None) -> str:
    """The metric outcome of a call that ended with `error` (None: `ok`)."""
    if error is None:
        return "ok"
    for cls in type(error).__mro__:
        if cls in OUTCOMES:
            return OUTCOMES[cls]
    return "error"
