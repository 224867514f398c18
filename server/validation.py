"""Validation at the edge: request limits and decoding-option bounds.

Everything here raises the engine's `InvalidRequest` family with a message that
says what to change; server/errors.py turns them into INVALID_ARGUMENT. Inside
the engine, requests are trusted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from dragoman.engine.errors import InputTooLong, InvalidOption, InvalidRequest
from dragoman.server.settings import LimitSettings


@dataclass(frozen=True)
class Bound:
    """The accepted range of one numeric option; `zero_means` is its default."""

    low: float
    high: float
    zero_means: float
    meaning: str = ""


#: options.<field> -> accepted range. Zero always means "the default".
OPTION_BOUNDS: dict[str, Bound] = {
    "beam_size": Bound(1, 16, 0, "derived from quality"),
    "num_alternatives": Bound(0, 8, 0, "none"),
    "max_output_tokens": Bound(1, 1024, 0, "proportional to the input"),
    "repetition_penalty": Bound(1.0, 5.0, 1.0, "no penalty"),
    "no_repeat_ngram_size": Bound(0, 32, 0, "off"),
    "length_penalty": Bound(0.0, 5.0, 1.0, "1.0"),
}


def check_option(name: str, value: float) -> float:
    """Returns the effective value of option `name`, zero replaced by its default.

    Raises:
        InvalidOption: The value is outside its range, or not a number.
    """
    bound = OPTION_BOUNDS[name]
    if value == 0:
        return bound.zero_means
    if math.isnan(value) or not bound.low <= value <= bound.high:
        raise InvalidOption(
            f"options.{name} must be between {bound.low:g} and {bound.high:g} "
            f"(0 means {bound.meaning}); got {_show(value)}"
        )
    return value


#: Longest language code or model name accepted; real ones are a few characters.
MAX_NAME_CHARS = 64


def check_name(value: str, field: str) -> None:
    """Bounds a language code or model name, so that error messages quoting it stay short."""
    if len(value) > MAX_NAME_CHARS or "\x00" in value:
        raise InvalidRequest(
            f"{field} is not a plausible name ({len(value):,} characters): send a code such "
            f"as 'fr' or 'fra_Latn', or a model name from ListModels"
        )


def check_target(code: str, field: str = "target_language_code") -> None:
    """Requires a target language; the engine checks that the model serves it."""
    if not code.strip():
        raise InvalidRequest(
            f"{field} is required: name the language to translate into, "
            "e.g. 'fr' or 'fra_Latn' (ListLanguages lists a model's codes)"
        )
    check_name(code, field)


def check_names(prefix: str, source: str, model: str) -> None:
    """Bounds the optional source language code and model name of a request or stream."""
    check_name(source, f"{prefix}source_language_code")
    check_name(model, f"{prefix}model")


def check_text(text: str, where: str, limits: LimitSettings) -> None:
    """Checks one text: not empty, not too long, no NUL characters.

    Args:
        text: The text.
        where: How to name it in messages (`contents[3]`, `segment 'a7'`).
        limits: The server's limits.
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


def check_contents(contents: Sequence[str], limits: LimitSettings) -> None:
    """Checks a TranslateText request's texts against the limits."""
    if not contents:
        raise InvalidRequest("contents is empty: send at least one text to translate")
    if len(contents) > limits.max_contents:
        raise InputTooLong(
            f"contents has {len(contents):,} texts; the limit is {limits.max_contents:,} "
            "per request: send them in several requests"
        )
    total = sum(len(text) for text in contents)
    if total > limits.max_request_chars:
        raise InputTooLong(
            f"contents has {total:,} characters in all; the limit is "
            f"{limits.max_request_chars:,} per request: send them in several requests"
        )
    for index, text in enumerate(contents):
        check_text(text, f"contents[{index}]", limits)


def _show(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)
