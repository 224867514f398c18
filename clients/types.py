"""Typed results and options of the dragoman client: frozen dataclasses, no protobuf."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class GlossaryEntry:
    """A source term and the text it must become.

    Attributes:
        source_term: The source term, matched as whole words.
        target_term: What the term must become in the translation.
    """

    source_term: str
    target_term: str


@dataclass(frozen=True)
class Glossary:
    """Terminology for a request: a glossary stored on the server, inline entries, or both.

    Attributes:
        name: Name of a glossary stored on the server; empty for none.
        entries: Inline entries; they win over the stored glossary where both match.
        ignore_case: Match the inline entries' source terms regardless of case.
    """

    name: str = ""
    entries: tuple[GlossaryEntry, ...] = ()
    ignore_case: bool = False

    @classmethod
    def of(cls, terms: dict[str, str], ignore_case: bool = False) -> Glossary:
        """Inline entries from a `{source_term: target_term}` mapping."""
        entries = tuple(GlossaryEntry(s, t) for s, t in terms.items())
        return cls(entries=entries, ignore_case=ignore_case)


@dataclass(frozen=True)
class TranslationOptions:
    """How to translate; every field left at its default means the server's default.

    Attributes:
        quality: `fast` (greedy), `balanced` or `best`; ignored when `beam_size` is set.
        beam_size: Beam size, 1 to 16; 0 derives it from `quality`.
        num_alternatives: Alternative translations per text, 0 to 8.
        return_scores: Return the model's average log-probability per token.
        max_output_tokens: Maximum tokens generated per sentence; 0 is proportional
            to the input length.
        repetition_penalty: Penalty on tokens already generated (1.0 to 5.0); 0 is none.
        no_repeat_ngram_size: Forbid repeating n-grams of this size; 0 disables.
        length_penalty: Length normalisation exponent in beam search; 0 means 1.0.
        mime_type: `text/plain` (default) or `text/html` (also XHTML/XML): markup is
            kept and only the text translated.
        glossary: Terms whose translation is forced.
        do_not_translate: Terms kept exactly as they are (product names, identifiers).
        protect_placeholders: Keep placeholders (`{name}`, `%s`, ICU messages), URLs,
            e-mail addresses and code spans byte-identical (the server's default).
    """

    quality: str = ""
    beam_size: int = 0
    num_alternatives: int = 0
    return_scores: bool = False
    max_output_tokens: int = 0
    repetition_penalty: float = 0.0
    no_repeat_ngram_size: int = 0
    length_penalty: float = 0.0
    mime_type: str = ""
    glossary: Glossary | None = None
    do_not_translate: tuple[str, ...] = ()
    protect_placeholders: bool = True


@dataclass(frozen=True)
class Alternative:
    """One alternative translation.

    Attributes:
        text: The alternative translation.
        score: Average log-probability per token (0.0 unless scores were asked for).
    """

    text: str
    score: float = 0.0


@dataclass(frozen=True)
class Translation:
    """The translation of one text.

    Attributes:
        text: The translated text, with the source's whitespace kept.
        detected_language: The source language (detected, or the requested one as a
            model code).
        model: Name of the model that translated it.
        score: Average log-probability per token (0.0 unless scores were asked for).
        alternatives: Alternative translations, best first.
        cached: True when every sentence came from the server's translation cache.
        applied_glossary_entries: The glossary entries that matched the text.
    """

    text: str
    detected_language: str = ""
    model: str = ""
    score: float = 0.0
    alternatives: tuple[Alternative, ...] = ()
    cached: bool = False
    applied_glossary_entries: tuple[GlossaryEntry, ...] = ()


@dataclass(frozen=True)
class DetectedLanguage:
    """A possible language of a text.

    Attributes:
        code: The model's code when the model serves the language, else the
            detector's ISO 639 code (`und` for a text without letters).
        confidence: 0 to 1.
        supported: True when the model translates from this language.
    """

    code: str
    confidence: float = 0.0
    supported: bool = False


@dataclass(frozen=True)
class Segment:
    """A piece of text for a translation stream.

    Attributes:
        text: The text to translate.
        segment_id: Caller's identifier, echoed in the segment's results; empty means
            the segment's position in the stream (`"0"`, `"1"`, ...).
    """

    text: str
    segment_id: str = ""


@dataclass(frozen=True)
class StreamResult:
    """A result of a translation stream.

    Attributes:
        segment_id: The segment's identifier (the caller's, or its position).
        text: The translation so far (interim) or the whole translation (final).
        is_final: True for the segment's final result.
        detected_language: Source language of the segment.
        model: Name of the model that translated it.
    """

    segment_id: str
    text: str
    is_final: bool
    detected_language: str = ""
    model: str = ""


@dataclass(frozen=True)
class Language:
    """A language a model serves.

    Attributes:
        code: The model's own code (`eng_Latn`, `en`, `qaa_Latn`).
        display_name: Human-readable name.
        aliases: Other codes accepted for it (BCP-47).
    """

    code: str
    display_name: str = ""
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Model:
    """A model the server has loaded.

    Attributes:
        name: Name to pass as `model`.
        family: `nllb`, `m2m100` or `demo`.
        device: `cpu` or `cuda`.
        compute_type: CTranslate2 compute type in use.
        languages: The model's language codes.
        default: True for the model used when a request names none.
    """

    name: str
    family: str = ""
    device: str = ""
    compute_type: str = ""
    languages: tuple[str, ...] = field(default_factory=tuple)
    default: bool = False


@dataclass(frozen=True)
class DocumentTranslation:
    """A translated document.

    Attributes:
        content: The translated file, in the format of the one sent.
        mime_type: Its format's mime type.
        file_name: The file name sent with it.
        detected_language: The source language (detected or given), as a model code.
        model: The model that translated it.
        segment_count: Text segments translated (paragraphs, cells, cues, entries).
        character_count: Source characters translated.
    """

    content: bytes
    mime_type: str = ""
    file_name: str = ""
    detected_language: str = ""
    model: str = ""
    segment_count: int = 0
    character_count: int = 0
