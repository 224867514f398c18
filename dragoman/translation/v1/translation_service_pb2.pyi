from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Quality(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    QUALITY_UNSPECIFIED: _ClassVar[Quality]
    QUALITY_FAST: _ClassVar[Quality]
    QUALITY_BALANCED: _ClassVar[Quality]
    QUALITY_BEST: _ClassVar[Quality]
QUALITY_UNSPECIFIED: Quality
QUALITY_FAST: Quality
QUALITY_BALANCED: Quality
QUALITY_BEST: Quality

class TranslationOptions(_message.Message):
    __slots__ = ("quality", "beam_size", "num_alternatives", "return_scores", "max_output_tokens", "repetition_penalty", "no_repeat_ngram_size", "length_penalty")
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    BEAM_SIZE_FIELD_NUMBER: _ClassVar[int]
    NUM_ALTERNATIVES_FIELD_NUMBER: _ClassVar[int]
    RETURN_SCORES_FIELD_NUMBER: _ClassVar[int]
    MAX_OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    REPETITION_PENALTY_FIELD_NUMBER: _ClassVar[int]
    NO_REPEAT_NGRAM_SIZE_FIELD_NUMBER: _ClassVar[int]
    LENGTH_PENALTY_FIELD_NUMBER: _ClassVar[int]
    quality: Quality
    beam_size: int
    num_alternatives: int
    return_scores: bool
    max_output_tokens: int
    repetition_penalty: float
    no_repeat_ngram_size: int
    length_penalty: float
    def __init__(self, quality: _Optional[_Union[Quality, str]] = ..., beam_size: _Optional[int] = ..., num_alternatives: _Optional[int] = ..., return_scores: _Optional[bool] = ..., max_output_tokens: _Optional[int] = ..., repetition_penalty: _Optional[float] = ..., no_repeat_ngram_size: _Optional[int] = ..., length_penalty: _Optional[float] = ...) -> None: ...

class GlossaryEntry(_message.Message):
    __slots__ = ("source_term", "target_term")
    SOURCE_TERM_FIELD_NUMBER: _ClassVar[int]
    TARGET_TERM_FIELD_NUMBER: _ClassVar[int]
    source_term: str
    target_term: str
    def __init__(self, source_term: _Optional[str] = ..., target_term: _Optional[str] = ...) -> None: ...

class TranslationGlossaryConfig(_message.Message):
    __slots__ = ("glossary", "entries", "ignore_case")
    GLOSSARY_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    IGNORE_CASE_FIELD_NUMBER: _ClassVar[int]
    glossary: str
    entries: _containers.RepeatedCompositeFieldContainer[GlossaryEntry]
    ignore_case: bool
    def __init__(self, glossary: _Optional[str] = ..., entries: _Optional[_Iterable[_Union[GlossaryEntry, _Mapping]]] = ..., ignore_case: _Optional[bool] = ...) -> None: ...

class TranslateTextRequest(_message.Message):
    __slots__ = ("contents", "source_language_code", "target_language_code", "model", "options", "mime_type", "glossary_config", "do_not_translate", "disable_placeholder_protection")
    CONTENTS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_LANGUAGE_CODE_FIELD_NUMBER: _ClassVar[int]
    TARGET_LANGUAGE_CODE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    MIME_TYPE_FIELD_NUMBER: _ClassVar[int]
    GLOSSARY_CONFIG_FIELD_NUMBER: _ClassVar[int]
    DO_NOT_TRANSLATE_FIELD_NUMBER: _ClassVar[int]
    DISABLE_PLACEHOLDER_PROTECTION_FIELD_NUMBER: _ClassVar[int]
    contents: _containers.RepeatedScalarFieldContainer[str]
    source_language_code: str
    target_language_code: str
    model: str
    options: TranslationOptions
    mime_type: str
    glossary_config: TranslationGlossaryConfig
    do_not_translate: _containers.RepeatedScalarFieldContainer[str]
    disable_placeholder_protection: bool
    def __init__(self, contents: _Optional[_Iterable[str]] = ..., source_language_code: _Optional[str] = ..., target_language_code: _Optional[str] = ..., model: _Optional[str] = ..., options: _Optional[_Union[TranslationOptions, _Mapping]] = ..., mime_type: _Optional[str] = ..., glossary_config: _Optional[_Union[TranslationGlossaryConfig, _Mapping]] = ..., do_not_translate: _Optional[_Iterable[str]] = ..., disable_placeholder_protection: _Optional[bool] = ...) -> None: ...

class TranslationAlternative(_message.Message):
    __slots__ = ("translated_text", "score")
    TRANSLATED_TEXT_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    translated_text: str
    score: float
    def __init__(self, translated_text: _Optional[str] = ..., score: _Optional[float] = ...) -> None: ...

class Translation(_message.Message):
    __slots__ = ("translated_text", "detected_language_code", "model", "score", "alternatives", "cached", "applied_glossary_entries")
    TRANSLATED_TEXT_FIELD_NUMBER: _ClassVar[int]
    DETECTED_LANGUAGE_CODE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    ALTERNATIVES_FIELD_NUMBER: _ClassVar[int]
    CACHED_FIELD_NUMBER: _ClassVar[int]
    APPLIED_GLOSSARY_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    translated_text: str
    detected_language_code: str
    model: str
    score: float
    alternatives: _containers.RepeatedCompositeFieldContainer[TranslationAlternative]
    cached: bool
    applied_glossary_entries: _containers.RepeatedCompositeFieldContainer[GlossaryEntry]
    def __init__(self, translated_text: _Optional[str] = ..., detected_language_code: _Optional[str] = ..., model: _Optional[str] = ..., score: _Optional[float] = ..., alternatives: _Optional[_Iterable[_Union[TranslationAlternative, _Mapping]]] = ..., cached: _Optional[bool] = ..., applied_glossary_entries: _Optional[_Iterable[_Union[GlossaryEntry, _Mapping]]] = ...) -> None: ...

class TranslateTextResponse(_message.Message):
    __slots__ = ("translations",)
    TRANSLATIONS_FIELD_NUMBER: _ClassVar[int]
    translations: _containers.RepeatedCompositeFieldContainer[Translation]
    def __init__(self, translations: _Optional[_Iterable[_Union[Translation, _Mapping]]] = ...) -> None: ...

class StreamingTranslationConfig(_message.Message):
    __slots__ = ("source_language_code", "target_language_code", "model", "options", "interim_results", "mime_type", "glossary_config", "do_not_translate", "disable_placeholder_protection")
    SOURCE_LANGUAGE_CODE_FIELD_NUMBER: _ClassVar[int]
    TARGET_LANGUAGE_CODE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    INTERIM_RESULTS_FIELD_NUMBER: _ClassVar[int]
    MIME_TYPE_FIELD_NUMBER: _ClassVar[int]
    GLOSSARY_CONFIG_FIELD_NUMBER: _ClassVar[int]
    DO_NOT_TRANSLATE_FIELD_NUMBER: _ClassVar[int]
    DISABLE_PLACEHOLDER_PROTECTION_FIELD_NUMBER: _ClassVar[int]
    source_language_code: str
    target_language_code: str
    model: str
    options: TranslationOptions
    interim_results: bool
    mime_type: str
    glossary_config: TranslationGlossaryConfig
    do_not_translate: _containers.RepeatedScalarFieldContainer[str]
    disable_placeholder_protection: bool
    def __init__(self, source_language_code: _Optional[str] = ..., target_language_code: _Optional[str] = ..., model: _Optional[str] = ..., options: _Optional[_Union[TranslationOptions, _Mapping]] = ..., interim_results: _Optional[bool] = ..., mime_type: _Optional[str] = ..., glossary_config: _Optional[_Union[TranslationGlossaryConfig, _Mapping]] = ..., do_not_translate: _Optional[_Iterable[str]] = ..., disable_placeholder_protection: _Optional[bool] = ...) -> None: ...

class TranslationSegment(_message.Message):
    __slots__ = ("segment_id", "text")
    SEGMENT_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    segment_id: str
    text: str
    def __init__(self, segment_id: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...

class StreamTranslateTextRequest(_message.Message):
    __slots__ = ("config", "segment")
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    config: StreamingTranslationConfig
    segment: TranslationSegment
    def __init__(self, config: _Optional[_Union[StreamingTranslationConfig, _Mapping]] = ..., segment: _Optional[_Union[TranslationSegment, _Mapping]] = ...) -> None: ...

class StreamTranslateTextResponse(_message.Message):
    __slots__ = ("segment_id", "translated_text", "is_final", "detected_language_code", "model", "text_offset")
    SEGMENT_ID_FIELD_NUMBER: _ClassVar[int]
    TRANSLATED_TEXT_FIELD_NUMBER: _ClassVar[int]
    IS_FINAL_FIELD_NUMBER: _ClassVar[int]
    DETECTED_LANGUAGE_CODE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    TEXT_OFFSET_FIELD_NUMBER: _ClassVar[int]
    segment_id: str
    translated_text: str
    is_final: bool
    detected_language_code: str
    model: str
    text_offset: int
    def __init__(self, segment_id: _Optional[str] = ..., translated_text: _Optional[str] = ..., is_final: _Optional[bool] = ..., detected_language_code: _Optional[str] = ..., model: _Optional[str] = ..., text_offset: _Optional[int] = ...) -> None: ...

class ListLanguagesRequest(_message.Message):
    __slots__ = ("model",)
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model: str
    def __init__(self, model: _Optional[str] = ...) -> None: ...

class Language(_message.Message):
    __slots__ = ("language_code", "display_name", "aliases")
    LANGUAGE_CODE_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    language_code: str
    display_name: str
    aliases: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, language_code: _Optional[str] = ..., display_name: _Optional[str] = ..., aliases: _Optional[_Iterable[str]] = ...) -> None: ...

class ListLanguagesResponse(_message.Message):
    __slots__ = ("languages",)
    LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    languages: _containers.RepeatedCompositeFieldContainer[Language]
    def __init__(self, languages: _Optional[_Iterable[_Union[Language, _Mapping]]] = ...) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Model(_message.Message):
    __slots__ = ("name", "family", "device", "compute_type", "language_codes", "default", "versions")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FAMILY_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    COMPUTE_TYPE_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_CODES_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_FIELD_NUMBER: _ClassVar[int]
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    name: str
    family: str
    device: str
    compute_type: str
    language_codes: _containers.RepeatedScalarFieldContainer[str]
    default: bool
    versions: _containers.RepeatedCompositeFieldContainer[ModelVersion]
    def __init__(self, name: _Optional[str] = ..., family: _Optional[str] = ..., device: _Optional[str] = ..., compute_type: _Optional[str] = ..., language_codes: _Optional[_Iterable[str]] = ..., default: _Optional[bool] = ..., versions: _Optional[_Iterable[_Union[ModelVersion, _Mapping]]] = ...) -> None: ...

class ModelVersion(_message.Message):
    __slots__ = ("version", "model", "weight", "live")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    LIVE_FIELD_NUMBER: _ClassVar[int]
    version: str
    model: str
    weight: int
    live: bool
    def __init__(self, version: _Optional[str] = ..., model: _Optional[str] = ..., weight: _Optional[int] = ..., live: _Optional[bool] = ...) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("models",)
    MODELS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[Model]
    def __init__(self, models: _Optional[_Iterable[_Union[Model, _Mapping]]] = ...) -> None: ...

class DetectLanguageRequest(_message.Message):
    __slots__ = ("contents", "model", "max_candidates")
    CONTENTS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    MAX_CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    contents: _containers.RepeatedScalarFieldContainer[str]
    model: str
    max_candidates: int
    def __init__(self, contents: _Optional[_Iterable[str]] = ..., model: _Optional[str] = ..., max_candidates: _Optional[int] = ...) -> None: ...

class DetectedLanguage(_message.Message):
    __slots__ = ("language_code", "confidence", "supported")
    LANGUAGE_CODE_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    SUPPORTED_FIELD_NUMBER: _ClassVar[int]
    language_code: str
    confidence: float
    supported: bool
    def __init__(self, language_code: _Optional[str] = ..., confidence: _Optional[float] = ..., supported: _Optional[bool] = ...) -> None: ...

class LanguageDetection(_message.Message):
    __slots__ = ("languages",)
    LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    languages: _containers.RepeatedCompositeFieldContainer[DetectedLanguage]
    def __init__(self, languages: _Optional[_Iterable[_Union[DetectedLanguage, _Mapping]]] = ...) -> None: ...

class DetectLanguageResponse(_message.Message):
    __slots__ = ("detections",)
    DETECTIONS_FIELD_NUMBER: _ClassVar[int]
    detections: _containers.RepeatedCompositeFieldContainer[LanguageDetection]
    def __init__(self, detections: _Optional[_Iterable[_Union[LanguageDetection, _Mapping]]] = ...) -> None: ...

class Document(_message.Message):
    __slots__ = ("content", "mime_type", "file_name")
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    MIME_TYPE_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    content: bytes
    mime_type: str
    file_name: str
    def __init__(self, content: _Optional[bytes] = ..., mime_type: _Optional[str] = ..., file_name: _Optional[str] = ...) -> None: ...

class TranslateDocumentRequest(_message.Message):
    __slots__ = ("document", "source_language_code", "target_language_code", "model", "options", "glossary_config", "do_not_translate", "disable_placeholder_protection")
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_LANGUAGE_CODE_FIELD_NUMBER: _ClassVar[int]
    TARGET_LANGUAGE_CODE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    GLOSSARY_CONFIG_FIELD_NUMBER: _ClassVar[int]
    DO_NOT_TRANSLATE_FIELD_NUMBER: _ClassVar[int]
    DISABLE_PLACEHOLDER_PROTECTION_FIELD_NUMBER: _ClassVar[int]
    document: Document
    source_language_code: str
    target_language_code: str
    model: str
    options: TranslationOptions
    glossary_config: TranslationGlossaryConfig
    do_not_translate: _containers.RepeatedScalarFieldContainer[str]
    disable_placeholder_protection: bool
    def __init__(self, document: _Optional[_Union[Document, _Mapping]] = ..., source_language_code: _Optional[str] = ..., target_language_code: _Optional[str] = ..., model: _Optional[str] = ..., options: _Optional[_Union[TranslationOptions, _Mapping]] = ..., glossary_config: _Optional[_Union[TranslationGlossaryConfig, _Mapping]] = ..., do_not_translate: _Optional[_Iterable[str]] = ..., disable_placeholder_protection: _Optional[bool] = ...) -> None: ...

class TranslateDocumentResponse(_message.Message):
    __slots__ = ("document", "detected_language_code", "model", "segment_count", "character_count")
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    DETECTED_LANGUAGE_CODE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    CHARACTER_COUNT_FIELD_NUMBER: _ClassVar[int]
    document: Document
    detected_language_code: str
    model: str
    segment_count: int
    character_count: int
    def __init__(self, document: _Optional[_Union[Document, _Mapping]] = ..., detected_language_code: _Optional[str] = ..., model: _Optional[str] = ..., segment_count: _Optional[int] = ..., character_count: _Optional[int] = ...) -> None: ...

class StreamTranslateDocumentRequest(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: TranslateDocumentRequest
    def __init__(self, request: _Optional[_Union[TranslateDocumentRequest, _Mapping]] = ...) -> None: ...

class DocumentTranslationProgress(_message.Message):
    __slots__ = ("translated_segment_count", "total_segment_count")
    TRANSLATED_SEGMENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SEGMENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    translated_segment_count: int
    total_segment_count: int
    def __init__(self, translated_segment_count: _Optional[int] = ..., total_segment_count: _Optional[int] = ...) -> None: ...

class StreamTranslateDocumentResponse(_message.Message):
    __slots__ = ("progress", "result")
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    progress: DocumentTranslationProgress
    result: TranslateDocumentResponse
    def __init__(self, progress: _Optional[_Union[DocumentTranslationProgress, _Mapping]] = ..., result: _Optional[_Union[TranslateDocumentResponse, _Mapping]] = ...) -> None: ...
