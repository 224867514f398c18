"""Model names, their versions, and which version serves each request.

A *name* is what requests put in `model`. It has one or more *versions*, each a
CTranslate2 directory opened with its own batcher (the pipeline's `Served`). Requests for the name
are routed between its versions by weight (`dragoman.engine.routing`); `name@version`
addresses one version directly.

A version's life:

    load:   checks -> open (model + batcher) -> warm-up -> ready (takes its weight)
    unload: draining (no new requests; leases held finish) -> freed

Every use of a version is a *lease*, counted while it runs, so unloading frees the
memory only after the requests and streams still on the version are done. A load that
fails at any step closes what it opened: the serving set stays as it was.

Responses name the version that answered: `name@version` once a name has explicit
versions; a model served without one (`--model NAME=DIR`) answers as plain `name` and
is listed as version `initial` (and answers as `name@initial` beside other versions).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING

from dragoman.engine import load_checks, routing
from dragoman.engine.config import ModelSpec
from dragoman.engine.errors import (
    BadModelDirectory,
    EngineError,
    ModelLoadError,
    ModelNotFound,
    NotEnoughMemory,
    RolloutRefused,
    VersionExists,
)
from dragoman.engine.types import CallContext, VersionInfo
from dragoman.engine.versions import (
    DRAINING,
    IMPLICIT_VERSION,
    READY,
    Opener,
    Version,
    VersionObserver,
    Warmer,
    close_served,
    outcome_of,
    version_key,
)

if TYPE_CHECKING:
    from dragoman.engine.pipeline import Served

__all__ = ["IMPLICIT_VERSION", "ModelRegistry", "Version", "VersionObserver"]

logger = logging.getLogger(__name__)


class ModelRegistry:
    """The loaded versions of every model name, and the routing between them.

    Thread-safe: requests lease versions while admin calls load and unload them.

    Args:
        open_version: Opens a model and its batcher from a spec (name = the version key).
        warm_version: Runs a warm-up translation on a loaded version; raising refuses it.
        default_name: The name requests without `model` use (default: the first loaded).
        observer: Receives version events.
        memory_headroom: A model needs its `model.bin` size times this in free memory.
    """

    def __init__(
        self,
        open_version: Opener,
        warm_version: Warmer,
        default_name: str = "",
        observer: VersionObserver | None = None,
        memory_headroom: float = load_checks.DEFAULT_MEMORY_HEADROOM,
    ) -> None:
        self._open = open_version
        self._warm = warm_version
        self.default_name = default_name
        self._observer = observer or VersionObserver()
        self._headroom = memory_headroom
        self._cond = threading.Condition()
        self._names: dict[str, dict[str, Version]] = {}
        self._loading: set[tuple[str, str]] = set()
        self._seq = 0

    # --- changes -------------------------------------------------------------------

    def load(self, spec: ModelSpec, *, warm: bool = True, promote: bool = False) -> VersionInfo:
        """Loads a version of `spec.name` from `spec.path`, warms it up, and adds it.

        The first version of a name takes all its traffic; later ones take none until
        `set_weights` or `promote` (or `promote=True` here) gives them some.

        Raises:
            InvalidRequest: Bad name or version label.
            VersionExists: The version is loaded or being loaded.
            BadModelDirectory: Missing, half-written or broken model, or warm-up failed.
            NotEnoughMemory: Not enough free memory for the model.
            RolloutRefused: It lacks languages the name's live version serves.
        """
        name, explicit = spec.name, bool(spec.version)
        version = spec.version or IMPLICIT_VERSION
        if explicit:
            load_checks.check_reference(name, version)
        self._reserve(name, version)
        try:
            path = load_checks.check_directory(spec.path)
            load_checks.check_memory(path, self._headroom)
            started = time.monotonic()
            served = self._open_checked(replace(spec, name=version_key(name, version, explicit)))
            load_seconds = time.monotonic() - started
            try:
                self._check_languages(name, version, served)
                started = time.monotonic()
                if warm:
                    self._warm_checked(name, version, served)
            except BaseException:
                close_served(served, 0.0)
                raise
            record = Version(name, version, explicit, served, 0, load_seconds,
                            time.monotonic() - started)  # fmt: skip
            self._publish(record, promote)
        finally:
            with self._cond:
                self._loading.discard((name, version))
        self._observer.on_version_loaded(name, version, record.key)
        logger.info(
            "model version %s loaded from %s in %.2fs (warm-up %.2fs), weight %d%%",
            record.key, path, record.load_seconds, record.warmup_seconds, record.weight,
        )  # fmt: skip
        return self._info(record)

    def add(self, name: str, version: str, directory: str, promote: bool = False) -> VersionInfo:
        """Loads a version with the settings (device, threads) of the name's live version,
        or of the default model for a new name. See `load`."""
        with self._cond:
            base = self._live(name) if name in self._names else self._live(self.default_name)
            spec = base.model.spec
        return self.load(replace(spec, name=name, version=version, path=directory),
                         promote=promote)  # fmt: skip

    def unload(self, name: str, version: str, drain_timeout: float) -> bool:
        """Takes a version out of service, waits for its leases, frees it.

        Returns:
            True when it was freed; False when leases outlasted `drain_timeout` (it
            takes no new requests and is freed when the last one ends).

        Raises:
            ModelNotFound: No such version.
            RolloutRefused: It still has traffic, serves the default model alone, or is
                already being unloaded.
        """
        with self._cond:
            record = self._version(name, version)
            self._check_unload(record)
            record.state, record.weight = DRAINING, 0
            self._refresh(name)
            logger.info("model version %s draining (%d in flight)", record.key, record.in_flight)
            end = time.monotonic() + drain_timeout
            while record.in_flight and (left := end - time.monotonic()) > 0:
                self._cond.wait(left)
            drained = record.in_flight == 0
            record.abandoned = not drained
        if drained:
            self._free(record)
        else:
            logger.warning(
                "model version %s: %d calls outlasted the %.0fs drain; freed when they end",
                record.key, record.in_flight, drain_timeout,
            )  # fmt: skip
        return drained

    def set_weights(self, name: str, weights: Mapping[str, int]) -> None:
        """Sets the traffic split of `name` (version -> percent, adding up to 100).

        Raises:
            ModelNotFound: Unknown name or version.
            InvalidRequest: The weights do not add up to 100.
        """
        with self._cond:
            versions = self._ready(name)
            split = routing.check_weights(name, weights, [s.version for s in versions])
            for record in versions:
                record.weight = split[record.version]
            self._refresh(name)
        self._observer.on_weights(name, split)
        logger.info("model %s traffic split set to %s", name, _shown(split))

    def promote(self, name: str, version: str) -> None:
        """Sends all traffic of `name` to `version`."""
        self.set_weights(name, {version: routing.FULL})

    def close(self, timeout: float) -> None:
        """Stops every batcher (engine shutdown); models stay until the process ends."""
        end = time.monotonic() + timeout
        with self._cond:
            everything = [s for versions in self._names.values() for s in versions.values()]
        for record in everything:
            record.served.batcher.close(max(end - time.monotonic(), 0.0))

    # --- serving -------------------------------------------------------------------

    @contextmanager
    def lease(self, ref: str, ctx: CallContext) -> Iterator[Version]:
        """The version that serves one call of model `ref`, held while the block runs.

        `ref` is a name (routed by weight, sticky on `ctx.routing_key`), `name@version`,
        or "" for the default name; inside `pin`, the pinned version serves its name.

        Raises:
            ModelNotFound: No such name or version.
        """
        record = self._acquire(ref, ctx)
        started = time.monotonic()
        error: BaseException | None = None
        try:
            yield record
        except BaseException as exc:
            error = exc
            raise
        finally:
            self._release(record)
            self._observer.on_version_call(
                record.name, record.version, time.monotonic() - started, outcome_of(error)
            )

    @contextmanager
    def pin(self, ref: str, ctx: CallContext) -> Iterator[CallContext]:
        """Routes once; calls made with the yielded context stay on that version (a
        stream's segments), and unloading the version waits for the block to end."""
        record = self._acquire(ref, ctx)
        try:
            yield replace(ctx, pinned=record)
        finally:
            self._release(record)

    def live(self, ref: str) -> Version:
        """The version `ref` names, or its name's live version (catalogue calls)."""
        name, version = self._split(ref)
        with self._cond:
            return self._version(name, version) if version else self._live(name)

    # --- catalogue -----------------------------------------------------------------

    def names(self) -> list[str]:
        """Names with a ready version, sorted."""
        with self._cond:
            return sorted(
                name
                for name, versions in self._names.items()
                if any(s.state == READY for s in versions.values())
            )

    def versions(self, name: str) -> tuple[VersionInfo, ...]:
        """Every loaded version of `name`, oldest first."""
        with self._cond:
            return tuple(self._info(s) for s in self._names.get(name, {}).values())

    def loaded(self) -> list[Version]:
        """Every loaded version (draining ones too)."""
        with self._cond:
            return [s for versions in self._names.values() for s in versions.values()]

    def __len__(self) -> int:
        with self._cond:
            return sum(len(v) for v in self._names.values())

    # --- internals (called with the lock held unless said otherwise) ---------------

    def _reserve(self, name: str, version: str) -> None:
        with self._cond:
            if (name, version) in self._loading or version in self._names.get(name, {}):
                raise VersionExists(
                    f"model {name!r} already has version {version!r} loaded or loading: "
                    "unload it first, or load the new directory under another version"
                )
            self._loading.add((name, version))

    def _open_checked(self, spec: ModelSpec) -> Served:
        """Opens outside the lock; any load failure is the directory's fault."""
        try:
            return self._open(spec)
        except BadModelDirectory:
            raise
        except ModelLoadError as error:
            if "out of memory" in str(error).lower():  # CUDA: the GPU is full (not checked ahead)
                raise NotEnoughMemory(
                    f"{error}: unload a version first (dragoman admin models unload) or use a "
                    "device with more free memory"
                ) from error
            raise BadModelDirectory(str(error)) from error
        except (IndexError, KeyError, OSError) as error:  # CTranslate2 on damaged files
            raise BadModelDirectory(
                f"CTranslate2 cannot load {spec.path}: {type(error).__name__}: {error}"
            ) from error

    def _warm_checked(self, name: str, version: str, served: Served) -> None:
        try:
            self._warm(served)
        except EngineError as error:
            raise BadModelDirectory(
                f"version {version!r} of model {name!r} failed its warm-up translation "
                f"({type(error).__name__}: {error}); it was not added"
            ) from error

    def _check_languages(self, name: str, version: str, served: Served) -> None:
        with self._cond:
            if not any(s.state == READY for s in self._names.get(name, {}).values()):
                return
            live = self._live(name)
        load_checks.check_languages(
            name, version, served.model.languages.codes, live.version, live.model.languages.codes
        )

    def _publish(self, record: Version, promote: bool) -> None:
        with self._cond:
            versions = self._names.setdefault(record.name, {})
            first = not any(s.state == READY for s in versions.values())
            self._seq += 1
            record.seq = self._seq
            if promote or first:
                for other in versions.values():
                    other.weight = 0
                record.weight = routing.FULL
            versions[record.version] = record
            if not self.default_name:
                self.default_name = record.name
            self._refresh(record.name)
            split = {s.version: s.weight for s in versions.values() if s.state == READY}
        self._observer.on_weights(record.name, split)

    def _check_unload(self, record: Version) -> None:
        if record.state == DRAINING:
            raise RolloutRefused(f"model version {record.key} is already being unloaded")
        others = [s for s in self._ready(record.name) if s is not record]
        if not others and record.name == self.default_name:
            raise RolloutRefused(
                f"version {record.version!r} is the only version of {record.name!r}, the "
                "default model: load another version first, or make another model the default"
            )
        if others and record.weight > 0:
            target = max(others, key=lambda s: s.seq).version
            raise RolloutRefused(
                f"version {record.version!r} of {record.name!r} still takes {record.weight}% "
                f"of its traffic: route it away first (dragoman admin models promote "
                f"{record.name} {target})"
            )

    def _acquire(self, ref: str, ctx: CallContext) -> Version:
        with self._cond:
            pinned = ctx.pinned
            record = pinned if pinned is not None and self._is_pinned(pinned, ref) else None
            record = record or self._route(ref, ctx.routing_key)
            record.in_flight += 1
            return record

    def _release(self, record: Version) -> None:
        """Called without the lock."""
        with self._cond:
            record.in_flight -= 1
            if record.in_flight:
                return
            self._cond.notify_all()
            free = record.abandoned
            record.abandoned = False
        if free:
            self._free(record)

    def _free(self, record: Version) -> None:
        """Called without the lock, once the version is drained."""
        close_served(record.served, 5.0)
        with self._cond:
            versions = self._names.get(record.name, {})
            versions.pop(record.version, None)
            if not versions:
                self._names.pop(record.name, None)
            else:
                self._refresh(record.name)
        self._observer.on_version_unloaded(record.name, record.version, record.key)
        logger.info("model version %s unloaded and freed", record.key)

    def _split(self, ref: str) -> tuple[str, str]:
        ref = ref or self.default_name
        if ref in self._names:
            return ref, ""
        name, _, version = ref.rpartition("@")
        return (name, version) if name else (ref, "")

    def _is_pinned(self, pinned: Version, ref: str) -> bool:
        name, version = self._split(ref)
        return name == pinned.name and version in ("", pinned.version)

    def _route(self, ref: str, routing_key: str) -> Version:
        name, version = self._split(ref)
        if version:
            return self._version(name, version)
        versions = sorted(self._ready(name), key=lambda s: -s.seq)
        chosen = routing.choose([(s.version, s.weight) for s in versions],
                                routing.point(name, routing_key))  # fmt: skip
        return next(s for s in versions if s.version == chosen)

    def _ready(self, name: str) -> list[Version]:
        ready = [s for s in self._names.get(name, {}).values() if s.state == READY]
        if not ready:
            known = ", ".join(sorted(self._names)) or "(none loaded)"
            raise ModelNotFound(f"unknown model {name!r}; loaded models are: {known}")
        return ready

    def _version(self, name: str, version: str) -> Version:
        record = self._names.get(name, {}).get(version) if version else None
        if record is None or record.state != READY:
            loaded = [s.version for s in self._ready(name)]
            raise ModelNotFound(
                f"model {name!r} has no ready version {version!r}; its versions are: "
                + ", ".join(loaded)
            )
        return record

    def _live(self, name: str) -> Version:
        return max(self._ready(name), key=lambda s: (s.weight, s.seq))

    def _refresh(self, name: str) -> None:
        """Recomputes the labels of `name`'s versions (`name` alone needs no `@`)."""
        versions = self._names.get(name, {})
        plain = all(not s.explicit for s in versions.values())
        for record in versions.values():
            record.label = record.name if plain else f"{record.name}@{record.version}"

    def _info(self, record: Version) -> VersionInfo:
        with self._cond:
            return record.info(live=record.state == READY and self._live(record.name) is record)


def _shown(split: Mapping[str, int]) -> str:
    return ", ".join(f"{version}={weight}%" for version, weight in split.items())
