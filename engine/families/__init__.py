"""Model families, registered by name.

Each family lives in its own module and registers itself with `@register_family`,
the way CTranslate2's converters use `@register_loader`. The engine picks a family
by the name in `dragoman.json`, or infers it from the model's vocabulary.
"""

from __future__ import annotations

from collections.abc import Iterable

from dragoman.engine.errors import ModelLoadError
from dragoman.engine.families.base import ModelFamily

_FAMILIES: dict[str, type[ModelFamily]] = {}


def register_family(cls: type[ModelFamily]) -> type[ModelFamily]:
    """Class decorator that makes a family available under `cls.name`."""
    _FAMILIES[cls.name] = cls
    return cls


def family_names() -> list[str]:
    """The registered family names, sorted."""
    return sorted(_FAMILIES)


def get_family(name: str) -> ModelFamily:
    """Returns a new instance of the family called `name`.

    Raises:
        ModelLoadError: No family has that name.
    """
    try:
        return _FAMILIES[name]()
    except KeyError:
        raise ModelLoadError(
            f"unknown model family {name!r}; known families are: {', '.join(family_names())}"
        ) from None


def infer_family(vocabulary: Iterable[str]) -> ModelFamily:
    """Picks the family whose language tokens the vocabulary holds most of.

    Raises:
        ModelLoadError: The vocabulary holds no known language token.
    """
    vocab = set(vocabulary)
    inferable: list[tuple[int, str]] = [
        (cls.vocabulary_score(vocab), name) for name, cls in _FAMILIES.items() if cls.inferable
    ]
    score, name = max(inferable, default=(0, ""))
    if score == 0:
        raise ModelLoadError(
            "cannot infer the model family: the vocabulary has no NLLB (eng_Latn) or M2M100 "
            "(__en__) language tokens; add a dragoman.json naming the family "
            f"(one of: {', '.join(family_names())})"
        )
    return get_family(name)


def _import_builtin_families() -> None:
    from dragoman.engine.families import demo, m2m100, nllb  # noqa: F401


_import_builtin_families()

__all__ = ["ModelFamily", "family_names", "get_family", "infer_family", "register_family"]
