"""dragoman.json: what a converted model says about itself (engine/ reads it)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dragoman.engine.families import ModelFamily, get_family, infer_family

from dragoman import __version__

METADATA_FILE = "dragoman.json"
FORMAT_VERSION = 1
SENTENCEPIECE_FILE = "sentencepiece.bpe.model"


@dataclass(frozen=True)
class AdapterInfo:
    """A LoRA adapter merged into a converted model."""

    name: str
    sha256: str
    path: str = ""


@dataclass
class ModelMetadata:
    """The content of dragoman.json."""

    name: str
    family: str
    languages: list[dict[str, Any]]
    base_model: str
    quantization: str
    adapters: list[AdapterInfo] = field(default_factory=list)
    tokenizer_model: str = SENTENCEPIECE_FILE
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The JSON object written to dragoman.json."""
        data: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "name": self.name,
            "family": self.family,
            "languages": self.languages,
            "tokenizer": {"type": "sentencepiece", "model": self.tokenizer_model},
            "base_model": self.base_model,
            "adapters": [{"name": a.name, "sha256": a.sha256} for a in self.adapters],
            "quantization": self.quantization,
            "dragoman_version": __version__,
        }
        data.update(self.extra)
        return data

    def write(self, directory: Path) -> Path:
        """Writes dragoman.json into `directory`."""
        path = directory / METADATA_FILE
        path.write_text(json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n", "utf-8")
        return path


def read_metadata(directory: Path) -> dict[str, Any]:
    """Reads a model directory's dragoman.json ({} when it has none)."""
    path = Path(directory) / METADATA_FILE
    if not path.is_file():
        return {}
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def directory_sha256(directory: Path) -> str:
    """A content hash of a directory: every file's relative path and bytes, in sorted order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(directory).rglob("*") if p.is_file()):
        digest.update(path.relative_to(directory).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def adapter_sha256(directory: Path) -> str:
    """The hash of a LoRA adapter: its config and weights (not logs or checkpoints)."""
    digest = hashlib.sha256()
    for path in sorted(Path(directory).glob("adapter_*")):
        if path.is_file():
            digest.update(path.name.encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def detect_family(vocabulary: Iterable[str], name: str = "") -> ModelFamily:
    """The family called `name`, or the one inferred from a vocabulary's language tokens."""
    return get_family(name) if name else infer_family(vocabulary)


def languages_of(family: ModelFamily, vocabulary: Sequence[str]) -> list[dict[str, Any]]:
    """The languages a vocabulary serves, as dragoman.json entries."""
    return [
        {"code": lang.code, "display_name": lang.display_name, "aliases": list(lang.aliases)}
        for lang in family.languages_from_vocabulary(vocabulary)
    ]
