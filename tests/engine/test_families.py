"""Model families: token conventions, registry, inference, and language aliases."""

from __future__ import annotations

import pytest
from dragoman.engine.errors import ModelLoadError, UnsupportedLanguage
from dragoman.engine.families import family_names, get_family, infer_family
from dragoman.engine.families.m2m100 import M2M100_CODES
from dragoman.engine.families.nllb_languages import NLLB_LANGUAGES
from dragoman.engine.languages import LanguageTable

CONVENTIONS = [
    # family, source code, target code, expected source tokens, expected target prefix
    ("nllb", "eng_Latn", "fra_Latn", ["eng_Latn", "▁Hi", "</s>"], ["fra_Latn"]),
    ("demo", "eng_Latn", "qaa_Latn", ["eng_Latn", "▁Hi", "</s>"], ["qaa_Latn"]),
    ("m2m100", "en", "fr", ["__en__", "▁Hi", "</s>"], ["__fr__"]),
]


@pytest.mark.parametrize(
    ("family", "source", "target", "tokens", "prefix"), CONVENTIONS, ids=[c[0] for c in CONVENTIONS]
)
def test_family_frames_source_and_target(
    family: str, source: str, target: str, tokens: list[str], prefix: list[str]
) -> None:
    fam = get_family(family)
    assert fam.source_tokens(["▁Hi"], source) == tokens
    assert fam.target_prefix(target) == prefix
    # The hypothesis starts with the target prefix; it never reaches the text.
    assert fam.output_pieces([*prefix, "▁Sal", "ut", "</s>"]) == ["▁Sal", "ut"]


def test_registry_lists_the_three_families() -> None:
    assert family_names() == ["demo", "m2m100", "nllb"]


def test_unknown_family_lists_known_ones() -> None:
    with pytest.raises(ModelLoadError, match="demo, m2m100, nllb"):
        get_family("marian")


INFERENCE = [
    (["<s>", "▁a", "eng_Latn", "fra_Latn"], "nllb"),
    (["<s>", "▁a", "__en__", "__fr__", "__de__"], "m2m100"),
    (["<s>", "▁a", "qaa_Latn", "eng_Latn"], "nllb"),  # the demo needs its dragoman.json
]


@pytest.mark.parametrize(("vocabulary", "family"), INFERENCE, ids=["nllb", "m2m100", "demo-like"])
def test_family_is_inferred_from_vocabulary(vocabulary: list[str], family: str) -> None:
    assert infer_family(vocabulary).name == family


def test_vocabulary_without_language_tokens_is_refused() -> None:
    with pytest.raises(ModelLoadError, match=r"dragoman\.json"):
        infer_family(["<s>", "▁a", "▁b"])


def test_builtin_tables_have_every_language() -> None:
    nllb = get_family("nllb").builtin_languages()
    m2m = get_family("m2m100").builtin_languages()
    assert len(nllb) == len(NLLB_LANGUAGES) == 202
    assert len(m2m) == len(M2M100_CODES) == 100
    assert all(lang.display_name and lang.display_name != lang.code for lang in (*nllb, *m2m))


NLLB_ALIASES = [
    ("eng_Latn", "eng_Latn"),
    ("en", "eng_Latn"),
    ("EN-us", "eng_Latn"),
    ("eng", "eng_Latn"),
    ("fr", "fra_Latn"),
    ("fr-CA", "fra_Latn"),
    ("zh", "zho_Hans"),
    ("zh-Hans", "zho_Hans"),
    ("zh-CN", "zho_Hans"),
    ("zh-Hant", "zho_Hant"),
    ("zh-TW", "zho_Hant"),
    ("pt-BR", "por_Latn"),
    ("ar", "arb_Arab"),
    ("fa-AF", "prs_Arab"),
    ("no", "nob_Latn"),
    ("iw", "heb_Hebr"),
    ("ms", "zsm_Latn"),
    ("ace", "ace_Latn"),
    ("sr", "srp_Cyrl"),
    ("sr-Cyrl", "srp_Cyrl"),
    ("sr-Latn", None),  # a script subtag is never dropped
    ("xx", None),
    ("", None),
]


@pytest.mark.parametrize(
    ("code", "expected"), NLLB_ALIASES, ids=[c or "empty" for c, _ in NLLB_ALIASES]
)
def test_nllb_alias_resolution(code: str, expected: str | None) -> None:
    table = LanguageTable(get_family("nllb").builtin_languages())
    assert table.lookup(code) == expected


M2M_ALIASES = [
    ("en", "en"),
    ("eng_Latn", "en"),
    ("eng", "en"),
    ("zh-Hans", "zh"),
    ("pt-BR", "pt"),
    ("nso_Latn", "ns"),
    ("nb", "no"),
    ("fry_Latn", "fy"),
    ("zz", None),
]


@pytest.mark.parametrize(("code", "expected"), M2M_ALIASES, ids=[c for c, _ in M2M_ALIASES])
def test_m2m100_alias_resolution(code: str, expected: str | None) -> None:
    table = LanguageTable(get_family("m2m100").builtin_languages())
    assert table.lookup(code) == expected


def test_unknown_code_message_suggests_close_matches() -> None:
    table = LanguageTable(get_family("nllb").builtin_languages())
    with pytest.raises(UnsupportedLanguage, match=r"'eng_Ltn'.*closest matches: eng-latn"):
        table.resolve("eng_Ltn")


def test_small_table_lists_every_code_in_its_message() -> None:
    table = LanguageTable(
        lang for lang in get_family("nllb").builtin_languages() if lang.code[:3] in {"eng", "fra"}
    )
    with pytest.raises(UnsupportedLanguage, match="supported codes are: eng_Latn, fra_Latn"):
        table.resolve("de", role="source")
    with pytest.raises(UnsupportedLanguage, match="target language code is required"):
        table.resolve("  ")


def test_first_language_keeps_a_shared_alias() -> None:
    table = LanguageTable(get_family("nllb").builtin_languages())
    assert "zh" in table.get("zho_Hans").aliases
    assert "zh" not in table.get("zho_Hant").aliases
