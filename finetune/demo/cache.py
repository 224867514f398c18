"""Where demo builds are cached, and a lock so that two processes never build one twice."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

# The demo model shipped as package data (dragoman/models/demo/).
SHIPPED_DEMO_DIR = Path(__file__).resolve().parents[2] / "dragoman" / "models" / "demo"


def cache_root() -> Path:
    """`$DRAGOMAN_CACHE_DIR`, else `$XDG_CACHE_HOME/dragoman`, else `~/.cache/dragoman`."""
    if os.environ.get("DRAGOMAN_CACHE_DIR"):
        return Path(os.environ["DRAGOMAN_CACHE_DIR"])
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "dragoman"


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[Path]:
    """Holds an exclusive lock on `directory` (created if needed) while in the block."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield directory
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
