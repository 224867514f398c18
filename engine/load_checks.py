"""Checks a model version passes before it is loaded beside the serving ones.

Each check raises a typed error whose message says what to fix, so that a refused
load leaves the serving set as it was: the name and version must be usable in a
request's `model` field, the directory must hold a finished CTranslate2 model, the
machine must have the memory for it, and it must serve every language its name's
live version serves.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import psutil
from dragoman.engine.errors import (
    BadModelDirectory,
    InvalidRequest,
    NotEnoughMemory,
    RolloutRefused,
)
from dragoman.engine.manifest import resolve_model_path

#: Model names and version labels: a letter or digit, then letters, digits, `.`, `_`, `-`.
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
#: Longest `name@version` (a request's `model` field is bounded to this).
MAX_REF_CHARS = 64
#: Files every finished CTranslate2 model directory holds.
REQUIRED_FILES = ("model.bin", "config.json")
#: Memory a loaded model takes beyond its `model.bin` (runtime buffers, tokenizer).
DEFAULT_MEMORY_HEADROOM = 1.5


def check_label(value: str, what: str) -> None:
    """A model name or version label that fits in `model` as `name@version`.

    Raises:
        InvalidRequest: Empty, or holds characters other than letters, digits, `.`, `_`, `-`.
    """
    if not _LABEL.match(value):
        raise InvalidRequest(
            f"{what} {value!r} is not valid: use letters, digits, '.', '_' and '-', "
            "starting with a letter or digit (e.g. 'general' and '2026-12-01')"
        )


def check_reference(name: str, version: str) -> None:
    """Both labels valid and `name@version` short enough for a request's `model`."""
    check_label(name, "model name")
    check_label(version, "version")
    if len(name) + 1 + len(version) > MAX_REF_CHARS:
        raise InvalidRequest(
            f"'{name}@{version}' is longer than {MAX_REF_CHARS} characters: shorten the "
            "name or the version"
        )


def check_directory(directory: str) -> Path:
    """The directory, if it looks like a finished CTranslate2 model.

    `dragoman convert` writes into a hidden staging directory and renames it when done;
    a directory that is hidden, or misses one of `REQUIRED_FILES`, is refused.

    Raises:
        BadModelDirectory: Missing, not a directory, hidden (staging) or half-written.
    """
    if not directory.strip():
        raise BadModelDirectory("directory is required: the CTranslate2 model directory to load")
    path = resolve_model_path(directory)
    if not path.exists():
        raise BadModelDirectory(f"directory {directory!r} does not exist on the server")
    if not path.is_dir():
        raise BadModelDirectory(f"{directory!r} is not a directory: name a CTranslate2 model dir")
    if path.name.startswith("."):
        raise BadModelDirectory(
            f"{directory!r} is a hidden (staging) directory; load the finished directory "
            "that `dragoman convert` renames it to"
        )
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if missing:
        raise BadModelDirectory(
            f"{directory!r} is not a finished CTranslate2 model directory: it lacks "
            f"{', '.join(missing)} (still being written? convert it with `dragoman convert`)"
        )
    return path


def model_bytes(path: Path) -> int:
    """Size of the model's weights on disk."""
    return (path / "model.bin").stat().st_size


def check_memory(path: Path, headroom: float = DEFAULT_MEMORY_HEADROOM) -> None:
    """Refuses a model the machine has no room for (weights x headroom > available).

    Checks host memory: CTranslate2 reads the weights into host memory before placing
    them, on a GPU too. Free GPU memory is not checked ahead: a CUDA out-of-memory while
    loading is reported as `NotEnoughMemory` too (see `ModelRegistry.load`).

    Raises:
        NotEnoughMemory: Less memory is available than the model needs.
    """
    need = int(model_bytes(path) * headroom)
    available = int(psutil.virtual_memory().available)
    if need > available:
        raise NotEnoughMemory(
            f"loading {str(path)!r} needs about {need / 2**20:,.0f} MiB "
            f"({headroom:g} x its model.bin) but only {available / 2**20:,.0f} MiB are "
            "available: unload a version first (dragoman admin models unload) or add memory"
        )


def check_languages(
    name: str, version: str, codes: Sequence[str], live_version: str, live_codes: Sequence[str]
) -> None:
    """The new version serves every language its name's live version serves.

    Requests are checked against the version they are routed to; a version that lacks a
    language would fail the share of that language's traffic it receives.

    Raises:
        RolloutRefused: Some of the live version's languages are missing.
    """
    missing = sorted(set(live_codes) - set(codes))
    if missing:
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        shown = ", ".join(missing[:10]) + more
        raise RolloutRefused(
            f"version {version!r} of model {name!r} does not serve {shown}, which the live "
            f"version {live_version!r} serves: requests routed to it would fail; load it "
            "under another model name instead"
        )
