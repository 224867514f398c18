"""OpenAPI descriptions of the compatible APIs' bodies (documentation only).

The routes read their bodies themselves (JSON or form, `q` a string or an array, in
the API's own error shape), so these models describe the fields for /docs and
/openapi.json without validating anything.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

_CONTENT_TYPES = ("application/json", "application/x-www-form-urlencoded")


def body_schema(model: type[BaseModel] | None = None, fields: dict[str, str] | None = None) -> dict:
    """`openapi_extra` describing a JSON or form body with `model`'s fields (or `fields`)."""
    if fields is not None or model is None:
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {name: {"type": kind} for name, kind in (fields or {}).items()},
        }
    else:
        schema = model.model_json_schema()
    return {
        "requestBody": {
            "required": True,
            "content": {kind: {"schema": schema} for kind in _CONTENT_TYPES},
        }
    }


class LibreTranslateRequest(BaseModel):
    """POST /translate."""

    q: str | list[str] = Field(description="Text(s) to translate")
    source: str = Field(description="Source language code, or `auto` to detect it", examples=["en"])
    target: str = Field(description="Target language code", examples=["qaa_Latn"])
    format: str = Field("text", description="`text` or `html`")
    alternatives: int = Field(0, description="Alternative translations wanted (0 to 7)")
    api_key: str | None = Field(None, description="API key, when the server requires keys")


class LibreDetected(BaseModel):
    """The detected source language of a text."""

    language: str
    confidence: float = Field(description="0 to 100")


class LibreTranslation(BaseModel):
    """/translate's answer; lists when `q` was a list."""

    translatedText: str | list[str]
    detectedLanguage: LibreDetected | list[LibreDetected] | None = None
    alternatives: list[str] | list[list[str]] | None = None


class LibreDetection(BaseModel):
    """One language candidate of /detect."""

    language: str
    confidence: float = Field(description="0 to 100")


class LibreLanguage(BaseModel):
    """One language of /languages."""

    code: str
    name: str
    targets: list[str]


class LibreLanguageRef(BaseModel):
    """A language in /frontend/settings."""

    code: str
    name: str


class LibreDefaultPair(BaseModel):
    """The front end's default language pair."""

    source: LibreLanguageRef
    target: LibreLanguageRef


class LibreSettings(BaseModel):
    """/frontend/settings."""

    charLimit: int
    frontendTimeout: int
    apiKeys: bool
    keyRequired: bool
    suggestions: bool
    filesTranslation: bool
    supportedFilesFormat: list[str]
    language: LibreDefaultPair


class DeepLTranslateRequest(BaseModel):
    """POST /v2/translate (form fields may repeat `text`)."""

    text: list[str] = Field(description="Texts to translate")
    target_lang: str = Field(description="Target language, e.g. `EN-US`, `PT-BR`, `ZH-HANS`")
    source_lang: str | None = Field(None, description="Source language; omitted = detect")
    tag_handling: str | None = Field(None, description="`html` or `xml`")
    glossary_id: str | None = Field(None, description="A glossary from /v2/glossaries")
    preserve_formatting: bool | None = Field(None, description="Always on in dragoman")
    split_sentences: str | None = Field(None, description="`0`, `1` or `nonewlines`")


class DeepLTextResult(BaseModel):
    """One translation of /v2/translate."""

    detected_source_language: str
    text: str
    billed_characters: int


class DeepLTranslation(BaseModel):
    """/v2/translate's answer."""

    translations: list[DeepLTextResult]


class DeepLLanguage(BaseModel):
    """One language of /v2/languages."""

    language: str
    name: str
    supports_formality: bool | None = None


class DeepLUsage(BaseModel):
    """/v2/usage: characters used in the current rate-limit window, and the budget."""

    character_count: int
    character_limit: int


class DeepLGlossaryRequest(BaseModel):
    """POST /v2/glossaries."""

    name: str
    source_lang: str
    target_lang: str
    entries: str = Field(description="One `source<TAB>target` pair per line (or CSV)")
    entries_format: str = Field("tsv", description="`tsv` or `csv`")


class DeepLGlossary(BaseModel):
    """A glossary as /v2/glossaries shows it."""

    glossary_id: str
    name: str
    ready: bool
    source_lang: str
    target_lang: str
    creation_time: str
    entry_count: int


class DeepLGlossaries(BaseModel):
    """GET /v2/glossaries."""

    glossaries: list[DeepLGlossary]
