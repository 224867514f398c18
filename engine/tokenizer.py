"""Subword tokenizers, registered by the `tokenizer.type` of dragoman.json."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from dragoman.engine.errors import ModelLoadError


class Tokenizer(Protocol):
    """Turns text into the model's subword pieces and back."""

    def encode(self, text: str) -> list[str]:
        """Returns the pieces of `text`."""
        ...

    def decode(self, pieces: Sequence[str]) -> str:
        """Returns the text of `pieces`."""
        ...


class SentencePieceTokenizer:
    """A sentencepiece model, as NLLB-200, M2M100 and the demo model ship."""

    def __init__(self, path: Path) -> None:
        import sentencepiece

        self._sp = sentencepiece.SentencePieceProcessor()
        if not self._sp.Load(str(path)):
            raise ModelLoadError(f"cannot load the sentencepiece model {path}")

    def encode(self, text: str) -> list[str]:
        """Returns the pieces of `text`."""
        return list(self._sp.EncodeAsPieces(text))

    def decode(self, pieces: Sequence[str]) -> str:
        """Returns the text of `pieces`."""
        return str(self._sp.DecodePieces(list(pieces)))


_TOKENIZERS: dict[str, Callable[[Path], Tokenizer]] = {"sentencepiece": SentencePieceTokenizer}
# File names that hold a sentencepiece model, in the order a directory is searched.
SENTENCEPIECE_FILES = ("sentencepiece.bpe.model", "spm.model", "sentencepiece.model")


def load_tokenizer(kind: str, path: Path) -> Tokenizer:
    """Loads a tokenizer of type `kind` from `path`.

    Raises:
        ModelLoadError: Unknown type or unreadable file.
    """
    factory = _TOKENIZERS.get(kind)
    if factory is None:
        raise ModelLoadError(
            f"unknown tokenizer type {kind!r}; supported types are: {', '.join(_TOKENIZERS)}"
        )
    if not path.is_file():
        raise ModelLoadError(f"tokenizer file {path} does not exist")
    return factory(path)
