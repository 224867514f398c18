"""Named glossaries stored as files, that requests reference by name.

A glossary directory holds one file per glossary: `<name>.json`
(`{"ignore_case": false, "entries": [["source", "target"], ...]}`) or `<name>.tsv`
(one `source<TAB>target` pair per line; `#` starts a comment line). Files may be
added, edited or removed while the server runs: a glossary is re-read when its file
changes. `put` and `delete` (the admin API) write the same files, atomically.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dragoman.engine.errors import InvalidOption, InvalidRequest
from dragoman.engine.terminology import Glossary, GlossaryEntry

logger = logging.getLogger(__name__)

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_SUFFIXES = (".json", ".tsv")


class GlossaryNotFound(InvalidRequest):
    """A request names a glossary that is not stored."""


@dataclass(frozen=True)
class GlossaryInfo:
    """A stored glossary, as listing shows it.

    Attributes:
        name: The name requests use.
        entry_count: Its entries.
        ignore_case: Whether source terms match regardless of case.
        digest: Changes whenever the entries change.
        metadata: Free-form labels stored with it (the DeepL-compatible API keeps the
            glossary's display name and language pair there).
        modified: Unix time its file was last written.
    """

    name: str
    entry_count: int
    ignore_case: bool
    digest: str
    metadata: Mapping[str, str] = field(default_factory=dict)
    modified: float = 0.0


def check_name(name: str) -> str:
    """Returns `name` when it is a valid glossary name.

    Raises:
        InvalidOption: Saying what a name may contain.
    """
    if not _NAME.match(name):
        raise InvalidOption(
            f"invalid glossary name {name!r}: use 1 to 63 lowercase letters, digits, "
            "'-' or '_', starting with a letter or digit"
        )
    return name


def _read(path: Path, name: str) -> Glossary:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        data = json.loads(text)
        pairs = data.get("entries", [])
        entries = tuple(GlossaryEntry(str(s), str(t)) for s, t in pairs)
        return Glossary(entries, bool(data.get("ignore_case", False)), name)
    entries_list: list[GlossaryEntry] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        source, tab, target = line.partition("\t")
        if not tab:
            raise InvalidOption(f"{path}:{number}: expected 'source<TAB>target'")
        entries_list.append(GlossaryEntry(source.strip(), target.strip()))
    return Glossary(tuple(entries_list), False, name)


class GlossaryStore:
    """Named glossaries in a directory, compiled once per file version.

    Args:
        directory: Where the glossary files live; created when missing.
    """

    def __init__(self, directory: str | Path) -> None:
        self._directory = Path(directory).expanduser()
        self._directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._compiled: dict[str, tuple[tuple[str, int, int], Glossary]] = {}

    @property
    def directory(self) -> Path:
        """The glossary directory."""
        return self._directory

    def _path(self, name: str) -> Path | None:
        for suffix in _SUFFIXES:
            path = self._directory / f"{name}{suffix}"
            if path.is_file():
                return path
        return None

    def names(self) -> list[str]:
        """The stored glossaries' names, sorted."""
        return sorted(
            {
                p.stem
                for p in self._directory.iterdir()
                if p.suffix in _SUFFIXES and _NAME.match(p.stem)
            }
        )

    def get(self, name: str) -> Glossary:
        """The glossary called `name`.

        Raises:
            GlossaryNotFound: No such glossary (the message lists the stored ones).
            InvalidOption: The file holds an invalid glossary.
        """
        path = self._path(check_name(name))
        if path is None:
            known = ", ".join(self.names()) or "(none)"
            raise GlossaryNotFound(f"unknown glossary {name!r}; stored glossaries are: {known}")
        stat = path.stat()
        version = (str(path), stat.st_mtime_ns, stat.st_size)
        with self._lock:
            cached = self._compiled.get(name)
            if cached is not None and cached[0] == version:
                return cached[1]
        try:
            glossary = _read(path, name)
        except (ValueError, TypeError, KeyError) as error:
            if isinstance(error, InvalidOption):
                raise
            raise InvalidOption(f"glossary file {path.name} is invalid: {error}") from error
        with self._lock:
            self._compiled[name] = (version, glossary)
        return glossary

    def put(
        self,
        name: str,
        entries: tuple[GlossaryEntry, ...],
        ignore_case: bool = False,
        metadata: Mapping[str, str] | None = None,
    ) -> Glossary:
        """Creates or replaces a glossary (validated first), written atomically as JSON.

        Args:
            name: Its name.
            entries: Its entries.
            ignore_case: Match source terms regardless of case.
            metadata: Labels stored with it and shown by `info` and `list`.
        """
        glossary = Glossary(entries, ignore_case, check_name(name))
        payload: dict[str, object] = {
            "ignore_case": ignore_case,
            "entries": [[e.source, e.target] for e in entries],
        }
        if metadata:
            payload["metadata"] = {str(k): str(v) for k, v in metadata.items()}
        handle, temporary = tempfile.mkstemp(dir=self._directory, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(payload, file, ensure_ascii=False)
        os.replace(temporary, self._directory / f"{name}.json")
        tsv = self._directory / f"{name}.tsv"
        if tsv.exists():
            tsv.unlink()
        logger.info("stored glossary %s (%d entries)", name, len(entries))
        return glossary

    def delete(self, name: str) -> bool:
        """Removes a glossary; False when there was none."""
        removed = False
        for suffix in _SUFFIXES:
            path = self._directory / f"{check_name(name)}{suffix}"
            if path.exists():
                path.unlink()
                removed = True
        with self._lock:
            self._compiled.pop(name, None)
        return removed

    def info(self, name: str) -> GlossaryInfo:
        """What `list` shows of glossary `name`.

        Raises:
            GlossaryNotFound: No such glossary.
            InvalidOption: The file holds an invalid glossary.
        """
        glossary = self.get(name)
        path = self._path(name)
        metadata: dict[str, str] = {}
        modified = 0.0
        if path is not None:
            modified = path.stat().st_mtime
            if path.suffix == ".json":
                stored = json.loads(path.read_text(encoding="utf-8")).get("metadata") or {}
                metadata = {str(k): str(v) for k, v in dict(stored).items()}
        return GlossaryInfo(
            name, len(glossary.entries), glossary.ignore_case, glossary.digest(), metadata, modified
        )

    def list(self) -> list[GlossaryInfo]:
        """Every stored glossary, sorted by name (unreadable files are skipped)."""
        infos = []
        for name in self.names():
            try:
                infos.append(self.info(name))
            except (InvalidRequest, OSError, ValueError) as error:
                logger.warning("skipping glossary %s: %s", name, error)
        return infos
