"""Language codes as LibreTranslate and DeepL clients spell them, on NLLB-200's table."""

from __future__ import annotations

import pytest
from dragoman.engine.families.nllb import nllb_languages
from dragoman.engine.languages import LanguageTable
from dragoman.server.http.codes import CodeBook


@pytest.fixture(scope="module")
def book() -> CodeBook:
    return CodeBook(LanguageTable(nllb_languages()).languages)


@pytest.mark.parametrize(
    ("sent", "model_code"),
    [
        ("en", "eng_Latn"), ("EN-US", "eng_Latn"), ("zh", "zho_Hans"), ("zh-Hans", "zho_Hans"),
        ("ZH-HANS", "zho_Hans"), ("zt", "zho_Hant"), ("zh-Hant", "zho_Hant"), ("pb", "por_Latn"),
        ("pt-BR", "por_Latn"), ("PT-PT", "por_Latn"), ("iw", "heb_Hebr"), ("he", "heb_Hebr"),
        ("fra_Latn", "fra_Latn"), ("ace_Latn", "ace_Latn"),
    ],
)  # fmt: skip
def test_client_spellings_resolve_to_model_codes(
    book: CodeBook, sent: str, model_code: str
) -> None:
    assert book.resolve(sent) == model_code


def test_unknown_codes_do_not_resolve(book: CodeBook) -> None:
    assert book.resolve("xx") is None
    assert book.resolve("sr-Zzzz") is None


@pytest.mark.parametrize(
    ("model_code", "libre", "deepl_targets"),
    [
        ("eng_Latn", "en", ("EN-GB", "EN-US")), ("por_Latn", "pt", ("PT-BR", "PT-PT")),
        ("zho_Hans", "zh-Hans", ("ZH-HANS",)), ("zho_Hant", "zh-Hant", ("ZH-HANT",)),
        ("deu_Latn", "de", ("DE",)), ("ace_Latn", "ace_Latn", ("ACE_LATN",)),
    ],
)  # fmt: skip
def test_public_spellings_per_api(
    book: CodeBook, model_code: str, libre: str, deepl_targets: tuple[str, ...]
) -> None:
    assert book.libre(model_code) == libre
    assert book.deepl(model_code) == libre.upper()
    assert book.deepl_targets(model_code) == deepl_targets
    assert book.resolve(libre) == model_code, "every listed code is accepted back"


def test_every_public_code_is_unique_and_accepted(book: CodeBook) -> None:
    codes = [book.libre(lang.code) for lang in book.languages]
    assert len(set(codes)) == len(codes) == 202
    assert all(
        book.resolve(code) == lang.code for code, lang in zip(codes, book.languages, strict=True)
    )
