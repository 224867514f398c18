"""The DeepL-compatible API against a live server, through the official `deepl` library
(unchanged, `server_url` pointing at dragoman) and raw form requests."""

from __future__ import annotations

from collections.abc import Iterator

import deepl
import pytest
import requests


@pytest.fixture()
def translator(base_url: str) -> Iterator[deepl.Translator]:
    client = deepl.Translator("any-key", server_url=base_url, send_platform_info=False)
    yield client
    client.close()


def test_translate_text_one_and_many(
    translator: deepl.Translator, held_out: list[dict[str, str]]
) -> None:
    row = held_out[0]
    one = translator.translate_text(row["eng_Latn"], source_lang="EN", target_lang="QAA_LATN")
    assert isinstance(one, deepl.TextResult)
    assert one.text == row["qaa_Latn"]
    assert one.detected_source_lang == "EN"
    assert one.billed_characters == len(row["eng_Latn"])
    many = translator.translate_text([r["eng_Latn"] for r in held_out[:3]], target_lang="qab_Latn")
    assert [r.text for r in many] == [r["qab_Latn"] for r in held_out[:3]]
    assert [r.detected_source_lang for r in many] == ["EN"] * 3
    back = translator.translate_text(row["qaa_Latn"], target_lang="EN-US")
    assert back.text == row["eng_Latn"] and back.detected_source_lang == "QAA_LATN"


def test_html_tag_handling_keeps_markup(
    translator: deepl.Translator, held_out: list[dict[str, str]]
) -> None:
    sentence = held_out[1]["eng_Latn"]
    result = translator.translate_text(
        f"<p>{sentence}</p>", source_lang="EN", target_lang="QAA_LATN", tag_handling="html"
    )
    assert result.text.startswith("<p>") and result.text.endswith("</p>")
    assert "<p>" not in result.text[3:-4]


def test_languages(translator: deepl.Translator) -> None:
    sources = {lang.code: lang.name for lang in translator.get_source_languages()}
    assert sources == {
        "EN": "English",
        "QAA_LATN": "Demo Qaa (constructed)",
        "QAB_LATN": "Demo Qab (constructed)",
    }
    targets = [lang.code for lang in translator.get_target_languages()]
    assert targets == ["EN-GB", "EN-US", "QAA_LATN", "QAB_LATN"]


def test_usage_without_a_budget_is_unlimited(translator: deepl.Translator) -> None:
    usage = translator.get_usage()
    assert usage.character.valid and not usage.any_limit_reached
    assert usage.character.limit == 1_000_000_000_000


def test_glossaries_lifecycle_and_use(
    translator: deepl.Translator, held_out: list[dict[str, str]]
) -> None:
    row = held_out[2]
    first_word = row["eng_Latn"].split()[0]
    glossary = translator.create_glossary(
        "demo terms", source_lang="EN", target_lang="QAA_LATN", entries={first_word: "ZORK"}
    )
    try:
        assert glossary.ready and glossary.entry_count == 1 and glossary.name == "demo terms"
        assert (glossary.source_lang, glossary.target_lang) == ("EN", "QAA_LATN")
        listed = [g.glossary_id for g in translator.list_glossaries()]
        assert glossary.glossary_id in listed
        assert translator.get_glossary(glossary.glossary_id).name == "demo terms"
        assert translator.get_glossary_entries(glossary) == {first_word: "ZORK"}
        result = translator.translate_text(
            row["eng_Latn"], source_lang="EN", target_lang="QAA_LATN", glossary=glossary
        )
        assert "ZORK" in result.text
    finally:
        translator.delete_glossary(glossary)
    with pytest.raises(deepl.GlossaryNotFoundException):
        translator.get_glossary(glossary.glossary_id)


def test_raw_form_with_repeated_text_and_errors(base_url: str, http: requests.Session) -> None:
    headers = {"Authorization": "DeepL-Auth-Key whatever"}
    body = [("text", "The cat."), ("text", "The dog."), ("target_lang", "QAA")]
    answer = http.post(f"{base_url}/v2/translate", data=body, headers=headers, timeout=60)
    assert answer.status_code == 200 and len(answer.json()["translations"]) == 2
    missing = http.post(f"{base_url}/v2/translate", data={"text": "Hi."}, timeout=60)
    assert missing.status_code == 400 and "target_lang" in missing.json()["message"]
    unknown = http.get(f"{base_url}/v2/glossaries/no-such-glossary", headers=headers, timeout=10)
    assert unknown.status_code == 404 and set(unknown.json()) == {"message"}
