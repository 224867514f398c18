"""Validation of requests, once, at the engine's edge: the one bounds table and the limits.

`TranslationEngine` checks every request with these functions before any work; the
server's front ends only map their wire fields onto the engine's types. Everything
here raises the engine's `InvalidRequest` family with a message that says what to
change (server/errors.py maps them to INVALID_ARGUMENT). Inside the engine, requests
are trusted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from dragoman.engine.errors import InputTooLong, InvalidOption, InvalidRequest
from dragoman.engine.types import MAX_OUTPUT_TOKENS, DecodingOptions, StreamConfig

#: Beam size when a request leaves it unset (0).
DEFAULT_BEAM_SIZE = 2
#: Longest language code or model name accepted; real ones are a few characters.
MAX_NAME_CHARS = 64
#: Most language candidates DetectLanguage returns per text, and how many 0 means.
MAX_DETECT_CANDIDATES = 10
DEFAULT_DETECT_CANDIDATES = 3


@dataclass(frozen=True)
class Bound:
    """The accepted range of one numeric option; `zero_means` is what 0 stands for
    (None: 0 is a value of the range), `meaning` says it in words."""

    low: float
    high: float
    zero_means: float | None
    meaning: str = ""


#: options.<field> -> accepted range: the table the proto comments describe.
OPTION_BOUNDS: dict[str, Bound] = {
    "beam_size": Bound(1, 16, DEFAULT_BEAM_SIZE, "the default (2; 1 for interim results)"),
    "num_alternatives": Bound(0, 8, None, "none"),
    "max_output_tokens": Bound(1, MAX_OUTPUT_TOKENS, 0, "proportional to the input"),
    "repetition_penalty": Bound(1.0, 5.0, 1.0, "no penalty"),
    "no_repeat_ngram_size": Bound(0, 32, None, "off"),
    "length_penalty": Bound(0.0, 5.0, 1.0, "1.0"),
}


@dataclass(frozen=True)
class RequestLimits:
    """How much one request may ask for (beyond it, InputTooLong).

    Attributes:
        max_contents: Texts per request.
        max_text_chars: Characters per text (or streamed segment).
        max_request_chars: Characters per request, all texts together.
    """

    max_contents: int = 1024
    max_text_chars: int = 100_000
    max_request_chars: int = 1_000_000


def normalize_options(options: DecodingOptions) -> DecodingOptions:
    """Replaces "unset" zeros by defaults and checks every bound.

    Raises:
        InvalidOption: A value outside its range (or not a number); the message gives it.
    """
    changes: dict[str, float] = {}
    for name, bound in OPTION_BOUNDS.items():
        value = getattr(options, name)
        if value == 0 and bound.zero_means is not None:
            changes[name] = bound.zero_means
            continue
        if math.isnan(value) or not bound.low <= value <= bound.high:
            zero = f" (0 means {bound.meaning})" if bound.zero_means is not None else ""
            raise InvalidOption(
                f"options.{name} must be between {bound.low:g} and {bound.high:g}{zero}; "
                f"got {_show(value)}"
            )
    normalized = replace(options, **changes) if changes else options
    if normalized.num_alternatives > normalized.beam_size:
        # Alternatives come from the beam: widen it rather than refuse.
        normalized = replace(normalized, beam_size=normalized.num_alternatives)
    return normalized


def stream_options(config: StreamConfig) -> DecodingOptions:
    """The normalized options of a stream.

    Interim results come token by token, which needs greedy decoding: with
    `interim`, an unset beam size means 1, and an explicit wider beam or
    alternatives is refused rather than silently ignored.

    Raises:
        InvalidOption: Out-of-bounds options, or interim results with beam search.
    """
    options = config.options
    if not config.interim:
        return normalize_options(options)
    if options.beam_size == 0:
        options = replace(options, beam_size=1)
    normalized = normalize_options(options)
    if normalized.beam_size > 1 or normalized.num_alternatives > 0:
        asked = f"beam size {normalized.beam_size}"
        if normalized.num_alternatives:
            asked += f" and {normalized.num_alternatives} alternatives"
        raise InvalidOption(
            f"interim_results need greedy decoding, but the stream asks for {asked}: leave "
            "quality and beam_size unset (or use QUALITY_FAST / beam_size 1, no "
            "num_alternatives), or turn interim_results off"
        )
    return normalized


def check_name(value: str, field: str) -> None:
    """Bounds a language code or model name, so that error messages quoting it stay short."""
    if len(value) > MAX_NAME_CHARS or "\x00" in value:
        raise InvalidRequest(
            f"{field} is not a plausible name ({len(value):,} characters): send a code such "
            f"as 'fr' or 'fra_Latn', or a model name from ListModels"
        )


def check_languages(target: str, source: str, model: str, prefix: str = "") -> None:
    """Requires a target language and bounds the codes and the model name.

    Args:
        target, source, model: The request's target and source codes and model name.
        prefix: Where the fields sit on the wire (`config.` for a stream's).
    """
    if not target.strip():
        raise InvalidRequest(
            f"{prefix}target_language_code is required: name the language to translate "
            "into, e.g. 'fr' or 'fra_Latn' (ListLanguages lists a model's codes)"
        )
    check_name(target, f"{prefix}target_language_code")
    check_name(source, f"{prefix}source_language_code")
    check_name(model, f"{prefix}model")


def check_candidates(count: int) -> int:
    """The number of language candidates to return (0 means the default).

    Raises:
        InvalidOption: Outside 1 to `MAX_DETECT_CANDIDATES`.
    """
    if count == 0:
        return DEFAULT_DETECT_CANDIDATES
    if not 1 <= count <= MAX_DETECT_CANDIDATES:
        raise InvalidOption(
            f"max_candidates is {count}; use 1 to {MAX_DETECT_CANDIDATES} "
            f"(0 means {DEFAULT_DETECT_CANDIDATES})"
        )
    return count


def check_text(text: str, where: str, limits: RequestLimits) -> None:
    """Checks one text: not empty, not too long, no NUL characters.

    Args:
        text: The text.
        where: How to name it in messages (`contents[3]`, `segment 'a7'`).
        limits: The limits.
    """
    if not text:
        raise InvalidRequest(f"{where} is empty: send at least one character, or leave it out")
    if len(text) > limits.max_text_chars:
        raise InputTooLong(
            f"{where} has {len(text):,} characters; the limit is {limits.max_text_chars:,} "
            "per text: split it into several texts"
        )
    nul = text.find("\x00")
    if nul >= 0:
        raise InvalidRequest(
            f"{where} contains a NUL character at offset {nul}: remove control characters"
        )


def check_contents(contents: Sequence[str], limits: RequestLimits, field: str = "contents") -> None:
    """Checks a request's texts against the limits (`field` names them in messages)."""
    if not contents:
        raise InvalidRequest(f"{field} is empty: send at least one text to translate")
    if len(contents) > limits.max_contents:
        raise InputTooLong(
            f"{field} has {len(contents):,} texts; the limit is {limits.max_contents:,} "
            "per request: send them in several requests"
        )
    total = sum(len(text) for text in contents)
    if total > limits.max_request_chars:
        raise InputTooLong(
            f"{field} has {total:,} characters in all; the limit is "
            f"{limits.max_request_chars:,} per request: send them in several requests"
        )
    for index, text in enumerate(contents):
        check_text(text, f"{field}[{index}]", limits)


def _show(value: float) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return str(int(value)) if float(value).is_integer() else repr(value)
