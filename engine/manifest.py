"""Model directories: what a CTranslate2 model says about itself.

A model directory holds `model.bin`, `config.json`, the vocabulary, the tokenizer
file and, optionally, `dragoman.json` naming its family and languages. Without
`dragoman.json`, the family and languages are inferred from the vocabulary.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from dragoman.engine.errors import ModelLoadError
from dragoman.engine.families import ModelFamily, get_family, infer_family
from dragoman.engine.tokenizer import SENTENCEPIECE_FILES
from dragoman.engine.types import LanguageInfo

logger = logging.getLogger(__name__)

MANIFEST = "dragoman.json"
DEMO = "demo"


@dataclass(frozen=True)
class ModelManifest:
    """What dragoman knows about a model directory.

    Attributes:
        path: The directory.
        name: The model's own name (dragoman.json `name`, else the directory name).
        family: The model family.
        languages: The model's languages, in the order the model lists them.
        tokenizer_type: Tokenizer kind (see `dragoman.engine.tokenizer`).
        tokenizer_path: The tokenizer file.
        quantization: Weight type the model was converted with ("" when unknown).
    """

    path: Path
    name: str
    family: ModelFamily
    languages: tuple[LanguageInfo, ...]
    tokenizer_type: str
    tokenizer_path: Path
    quantization: str = ""


def demo_model_path() -> Path:
    """The demo model shipped as package data (`dragoman/models/demo`)."""
    return Path(str(resources.files("dragoman") / "models" / DEMO))


def resolve_model_path(path: str) -> Path:
    """Maps "demo" to the shipped demo model; other paths are taken as they are."""
    if path == DEMO and not Path(path).is_dir():
        return demo_model_path()
    return Path(path).expanduser()


def read_vocabulary(directory: Path) -> list[str]:
    """The target vocabulary of a CTranslate2 model directory."""
    for name in ("shared_vocabulary.json", "target_vocabulary.json"):
        if (directory / name).is_file():
            return list(json.loads((directory / name).read_text(encoding="utf-8")))
    for name in ("shared_vocabulary.txt", "target_vocabulary.txt"):
        if (directory / name).is_file():
            return (directory / name).read_text(encoding="utf-8").splitlines()
    raise ModelLoadError(f"{directory} holds no CTranslate2 vocabulary (shared_vocabulary.json)")


def _languages_from_json(entries: list[dict[str, Any]], family: ModelFamily) -> list[LanguageInfo]:
    builtin = {lang.code: lang for lang in family.builtin_languages()}
    languages = []
    for entry in entries:
        code = entry["code"]
        known = builtin.get(code)
        aliases = tuple(entry.get("aliases", ())) + (known.aliases if known else ())
        name = entry.get("display_name") or (known.display_name if known else code)
        languages.append(LanguageInfo(code, name, tuple(dict.fromkeys(aliases))))
    return languages


def _find_sentencepiece(directory: Path) -> Path:
    for name in SENTENCEPIECE_FILES:
        if (directory / name).is_file():
            return directory / name
    models = sorted(directory.glob("*.model"))
    if models:
        return models[0]
    raise ModelLoadError(
        f"{directory} has no tokenizer: expected one of {', '.join(SENTENCEPIECE_FILES)} "
        f"or a {MANIFEST} naming it"
    )


def read_manifest(directory: Path) -> ModelManifest:
    """Reads a model directory's description.

    Raises:
        ModelLoadError: The directory is not a usable model.
    """
    if not (directory / "model.bin").is_file():
        raise ModelLoadError(f"{directory} is not a CTranslate2 model directory (no model.bin)")
    vocabulary = read_vocabulary(directory)
    manifest_file = directory / MANIFEST
    if not manifest_file.is_file():
        family = infer_family(vocabulary)
        languages = family.languages_from_vocabulary(vocabulary)
        logger.info("%s: no %s, inferred family %s", directory, MANIFEST, family.name)
        return ModelManifest(
            directory, directory.name, family, tuple(languages), "sentencepiece",
            _find_sentencepiece(directory),
        )  # fmt: skip
    try:
        data = json.loads(manifest_file.read_text(encoding="utf-8"))
        family = get_family(data["family"])
        entries = data.get("languages") or []
        languages = (
            _languages_from_json(entries, family)
            if entries
            else family.languages_from_vocabulary(vocabulary)
        )
        tokenizer = data.get("tokenizer") or {}
        tokenizer_path = (
            directory / tokenizer["model"]
            if "model" in tokenizer
            else _find_sentencepiece(directory)
        )
        return ModelManifest(
            path=directory,
            name=str(data.get("name") or directory.name),
            family=family,
            languages=tuple(languages),
            tokenizer_type=str(tokenizer.get("type", "sentencepiece")),
            tokenizer_path=tokenizer_path,
            quantization=str(data.get("quantization", "")),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ModelLoadError(f"{manifest_file} is malformed: {error!r}") from error
