"""Language identification (py3langid + model profiles) and the glossary file store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dragoman.engine.errors import InvalidOption, UnsupportedLanguage
from dragoman.engine.glossary_store import GlossaryNotFound, GlossaryStore
from dragoman.engine.langid import LanguageDetector, LanguageProfiles, is_private
from dragoman.engine.languages import LanguageTable
from dragoman.engine.service import TranslationEngine
from dragoman.engine.terminology import GlossaryEntry
from dragoman.engine.types import CallContext, DecodingOptions, LanguageInfo, TranslationRequest

NLLB_LIKE = LanguageTable(
    [
        LanguageInfo("eng_Latn", "English", ("en",)),
        LanguageInfo("fra_Latn", "French", ("fr",)),
        LanguageInfo("deu_Latn", "German", ("de",)),
        LanguageInfo("rus_Cyrl", "Russian", ("ru",)),
        LanguageInfo("qaa_Latn", "Qaa", ("qaa",)),
    ]
)
# A made-up language with its own words, as the demo model's would be.
QAA_SAMPLES = [
    "ka zusa mir porta lum", "tu gaden pik ne rin", "zusa mar ka lum porta ne",
    "mir rin gaden tu zusa", "ka pik lum mar porta", "ne zusa ka gaden mir",
]  # fmt: skip
ENG_SAMPLES = ["the cat sees the dog", "a big house near the river", "my friend reads a book"]

MIXED = {
    "The weather is lovely today and we are going for a walk.": ("eng_Latn", True),
    "Le chat noir dort sur le canapé pendant que nous mangeons.": ("fra_Latn", True),
    "Der Hund spielt im Garten mit dem roten Ball.": ("deu_Latn", True),
    "Мы пошли в парк и долго гуляли вдоль реки.": ("rus_Cyrl", True),
    "Ka zusa mir porta lum ne gaden.": ("qaa_Latn", True),
    "El perro come su comida en la cocina todos los días.": ("es", False),
    "123 456 !!!": ("und", False),
}


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    profiles = LanguageProfiles.build({"qaa_Latn": QAA_SAMPLES, "eng_Latn": ENG_SAMPLES})
    detector = LanguageDetector(NLLB_LIKE.lookup, profiles)
    detector.warm()
    return detector


def test_mixed_batch_is_detected_per_text(detector: LanguageDetector) -> None:
    for text, (code, supported) in MIXED.items():
        best = detector.detect(text)[0]
        assert (best.code, best.supported) == (code, supported), text


def test_candidates_are_ranked_probabilities(detector: LanguageDetector) -> None:
    candidates = detector.detect("Le chat noir dort sur le canapé.", top_k=5)
    confidences = [c.confidence for c in candidates]
    assert confidences == sorted(confidences, reverse=True)
    assert 0 < sum(confidences) <= 1.0001 and len(candidates) <= 5


def test_profiles_round_trip_through_a_file(tmp_path: Path) -> None:
    profiles = LanguageProfiles.build({"qaa_Latn": QAA_SAMPLES})
    profiles.save(tmp_path / "langid.json")
    loaded = LanguageProfiles.load(tmp_path / "langid.json")
    assert loaded.coverage("zusa mir") == profiles.coverage("zusa mir") == {"qaa_Latn": 1.0}


def test_private_use_codes() -> None:
    assert is_private("qaa_Latn") and is_private("qtz") and not is_private("eng_Latn")


def test_engine_detects_each_text_and_refuses_unserved_languages(
    engine: TranslationEngine,
) -> None:
    options = DecodingOptions(beam_size=1, max_output_tokens=8)
    texts = ("The weather is lovely today and we are going for a walk.",
             "Мы пошли в парк и долго гуляли вдоль реки.",
             "Le chat noir dort sur le canapé pendant que nous mangeons.")  # fmt: skip
    results = engine.translate(TranslationRequest(texts, "de", "", "nllb", options), CallContext())
    assert [r.source_language for r in results] == ["eng_Latn", "rus_Cyrl", "fra_Latn"]
    spanish = ("El perro come su comida en la cocina todos los días con mucho gusto.",)
    with pytest.raises(UnsupportedLanguage, match=r"'es'.*does not translate"):
        engine.translate(TranslationRequest(spanish, "de", "", "nllb", options), CallContext())


def test_store_put_get_list_delete(tmp_path: Path) -> None:
    store = GlossaryStore(tmp_path / "glossaries")
    entries = (GlossaryEntry("cat", "Katze"), GlossaryEntry("dog", "Hund"))
    store.put("pets", entries, ignore_case=True)
    glossary = store.get("pets")
    assert glossary.entries == entries and glossary.ignore_case
    assert [(i.name, i.entry_count) for i in store.list()] == [("pets", 2)]
    assert store.delete("pets") and not store.delete("pets")
    with pytest.raises(GlossaryNotFound, match="stored glossaries are: \\(none\\)"):
        store.get("pets")


def test_store_reads_tsv_and_picks_up_edits(tmp_path: Path) -> None:
    store = GlossaryStore(tmp_path)
    path = tmp_path / "terms.tsv"
    path.write_text("# comment\ncat\tKatze\n\n", encoding="utf-8")
    assert store.get("terms").entries == (GlossaryEntry("cat", "Katze"),)
    path.write_text("cat\tMieze\ndog\tHund\n", encoding="utf-8")
    assert [e.target for e in store.get("terms").entries] == ["Mieze", "Hund"]


BAD_FILES = {
    "no-tab": ("bad.tsv", "cat Katze\n", "expected 'source<TAB>target'"),
    "empty-term": ("bad.json", json.dumps({"entries": [["", "x"]]}), "empty source term"),
    "not-json": ("bad.json", "{", "is invalid"),
}


@pytest.mark.parametrize("name, content, message", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_glossary_files_are_reported(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    (tmp_path / name).write_text(content, encoding="utf-8")
    with pytest.raises(InvalidOption, match=message):
        GlossaryStore(tmp_path).get("bad")


@pytest.mark.parametrize("name", ["", "Upper", "../etc", "a" * 64, "sp ace"])
def test_bad_glossary_names(tmp_path: Path, name: str) -> None:
    with pytest.raises(InvalidOption, match="invalid glossary name"):
        GlossaryStore(tmp_path).get(name)
