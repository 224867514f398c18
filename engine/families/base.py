"""The base class of model families: how a family spells language tokens.

A family knows the conventions of one kind of multilingual model: which vocabulary
token stands for a language, how the source sequence is framed, what the decoder's
target prefix is, and which languages its pretrained checkpoints serve.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from dragoman.engine.types import LanguageInfo

EOS = "</s>"


class ModelFamily:
    """Language-token conventions of one model family.

    Subclasses set `name`, implement `language_token` and `code_from_token`, and
    may provide `builtin_languages` (the family's full language table).
    """

    name: ClassVar[str] = ""
    #: Longest source sequence (in tokens, framing included) the family was trained on.
    max_source_tokens: ClassVar[int] = 512
    #: Longest sentence (in pieces) the family's models translate well: longer ones are
    #: cut at sentence ends and clause boundaries first (run-on or lowercase text).
    preferred_source_tokens: ClassVar[int] = 128
    #: Whether a model without dragoman.json may be recognised as this family.
    inferable: ClassVar[bool] = True

    def language_token(self, code: str) -> str:
        """Returns the vocabulary token that stands for model language `code`."""
        raise NotImplementedError

    def code_from_token(self, token: str) -> str | None:
        """Returns the language code a vocabulary token stands for, or None."""
        raise NotImplementedError

    def source_tokens(self, pieces: Sequence[str], source_code: str) -> list[str]:
        """Frames tokenized text as the encoder expects: `[lang] + pieces + [</s>]`."""
        return [self.language_token(source_code), *pieces, EOS]

    def target_prefix(self, target_code: str) -> list[str]:
        """The decoder prefix that selects the target language."""
        return [self.language_token(target_code)]

    def output_pieces(self, tokens: Sequence[str]) -> list[str]:
        """Strips the target-language prefix and special tokens from a hypothesis."""
        return [t for t in tokens if not self.is_special(t)]

    def is_special(self, token: str) -> bool:
        """Whether a token is a language token or a control token (not text)."""
        return token in ("<s>", EOS, "<pad>", "<unk>") or self.code_from_token(token) is not None

    def builtin_languages(self) -> tuple[LanguageInfo, ...]:
        """The family's own language table (empty when languages come from the model)."""
        return ()

    def languages_from_vocabulary(self, vocabulary: Iterable[str]) -> list[LanguageInfo]:
        """The languages a model serves, read from its vocabulary's language tokens."""
        known = {lang.code: lang for lang in self.builtin_languages()}
        found: list[LanguageInfo] = []
        for token in vocabulary:
            code = self.code_from_token(token)
            if code is not None:
                found.append(known.get(code, LanguageInfo(code=code, display_name=code)))
        return found

    @classmethod
    def vocabulary_score(cls, vocabulary: set[str]) -> int:
        """How many of the family's language tokens appear in `vocabulary`."""
        family = cls()
        return sum(1 for t in vocabulary if family.code_from_token(t) is not None)
