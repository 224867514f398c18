"""`--models-dir DIR`: serve the model versions found in a directory, and new ones as
they appear.

Layout: `DIR/<name>/<version>/` holds one CTranslate2 model directory per version,
e.g. `DIR/general/2026-12-01/`. At start-up each name's newest version (the greatest
label: use sortable labels such as dates) is served. Afterwards the directory is
polled; a new finished version is loaded beside the serving ones (with the settings of
its name's live version), warmed up, and promoted when `rollout.promote_new_versions`
is set; otherwise it waits, loaded and without traffic, for an admin to route to it.

Polling, not inotify: the volumes models arrive on in Kubernetes (NFS, CSI drivers,
image volumes) often deliver no inotify events, and two levels of `scandir` every few
seconds cost nothing. A version directory is taken only when it is finished:
`dragoman convert` publishes by renaming a hidden staging directory, and a directory
copied in by other means must hold `model.bin` and `config.json` and stay unchanged
for one poll interval. A version that fails to load is logged and tried again only
when its files change.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dragoman.engine import load_checks
from dragoman.engine.errors import EngineError, VersionExists
from dragoman.engine.registry import ModelRegistry

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Found:
    """A version directory found under the models directory.

    Attributes:
        name: The model name (the parent directory's name).
        version: The version label (the directory's name).
        path: The version directory.
        signature: Names, sizes and modification times of its files: a change means
            it is still being written.
    """

    name: str
    version: str
    path: Path
    signature: tuple[tuple[str, int, int], ...]


def _signature(path: Path) -> tuple[tuple[str, int, int], ...]:
    entries = []
    with os.scandir(path) as scan:
        for entry in scan:
            if entry.is_file(follow_symlinks=True):
                stat = entry.stat()
                entries.append((entry.name, stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(entries))


def _usable(name: str, version: str) -> bool:
    try:
        load_checks.check_reference(name, version)
    except EngineError:
        return False
    return True


def scan(root: Path) -> Iterator[Found]:
    """Every finished-looking version directory under `root` (hidden ones skipped)."""
    for name_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        if name_dir.name.startswith("."):
            continue
        for version_dir in sorted(p for p in name_dir.iterdir() if p.is_dir()):
            name, version = name_dir.name, version_dir.name
            if version.startswith(".") or not _usable(name, version):
                continue
            if all((version_dir / f).is_file() for f in load_checks.REQUIRED_FILES):
                yield Found(name, version, version_dir, _signature(version_dir))


def newest_versions(root: Path) -> list[Found]:
    """Each name's newest version under `root` (what start-up serves), by name."""
    newest: dict[str, Found] = {}
    for found in scan(root):
        if found.name not in newest or found.version > newest[found.name].version:
            newest[found.name] = found
    return [newest[name] for name in sorted(newest)]


class ModelsDirWatcher:
    """Polls a models directory and loads the versions that appear in it.

    Args:
        registry: Where versions are loaded.
        root: The models directory.
        promote: Send all of a name's traffic to each new version once it is warm.
        interval: Seconds between polls.
    """

    def __init__(self, registry: ModelRegistry, root: Path, promote: bool, interval: float) -> None:
        self._registry = registry
        self._root = root
        self._promote = promote
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: Versions seen at start-up or loaded since: never loaded again.
        self._done: set[tuple[str, str]] = set()
        #: Signature of each pending version at the last poll (loaded once stable).
        self._pending: dict[tuple[str, str], tuple[tuple[str, int, int], ...]] = {}
        #: Signature a version failed to load with (retried when it changes).
        self._failed: dict[tuple[str, str], tuple[tuple[str, int, int], ...]] = {}

    def start(self) -> None:
        """Marks what is there now as seen and starts polling on a daemon thread."""
        self._done = {(f.name, f.version) for f in scan(self._root)}
        self._thread = threading.Thread(target=self._run, name="models-dir", daemon=True)
        self._thread.start()
        logger.info("watching %s for new model versions every %.1fs", self._root, self._interval)

    def stop(self) -> None:
        """Stops polling (a load in progress finishes first)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def poll(self) -> list[tuple[str, str]]:
        """One pass: loads each new version whose files did not change since the last
        pass. Returns the (name, version) pairs loaded."""
        loaded = []
        current: set[tuple[str, str]] = set()
        for found in scan(self._root):
            key = (found.name, found.version)
            current.add(key)
            if key in self._done or self._failed.get(key) == found.signature:
                continue
            if self._pending.get(key) != found.signature:
                self._pending[key] = found.signature  # new or still changing: next pass
                continue
            del self._pending[key]
            if self._load(found):
                loaded.append(key)
        for key in set(self._pending) - current:
            del self._pending[key]
        return loaded

    def _load(self, found: Found) -> bool:
        try:
            self._registry.add(found.name, found.version, str(found.path), self._promote)
        except VersionExists:  # an admin loaded it already
            self._done.add((found.name, found.version))
            return False
        except EngineError as error:
            self._failed[(found.name, found.version)] = found.signature
            logger.error("models dir: cannot load %s@%s from %s: %s",
                         found.name, found.version, found.path, error)  # fmt: skip
            return False
        self._done.add((found.name, found.version))
        routed = "promoted" if self._promote else "no traffic until routed"
        logger.info("models dir: loaded %s@%s (%s)", found.name, found.version, routed)
        return True

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.poll()
            except OSError as error:  # the volume went away for a moment: try again
                logger.warning("models dir %s unreadable: %s", self._root, error)
            except Exception:  # a bug must not stop the watching for good
                logger.exception("models dir %s: poll failed", self._root)
