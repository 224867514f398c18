"""Bounds of the decoding options, checked once at the engine's edge."""

from __future__ import annotations

from dataclasses import replace
from typing import NamedTuple

from dragoman.engine.errors import InvalidOption
from dragoman.engine.types import DecodingOptions, StreamConfig

#: Beam size when a request leaves it unset (0).
DEFAULT_BEAM_SIZE = 2


class Bound(NamedTuple):
    """Inclusive range of one option, and the value 0 stands for ("unset")."""

    low: float
    high: float
    unset: float | None


# One row per option: the table the proto comments describe.
BOUNDS: dict[str, Bound] = {
    "beam_size": Bound(1, 16, DEFAULT_BEAM_SIZE),
    "num_alternatives": Bound(0, 8, None),
    "max_output_tokens": Bound(0, 1024, None),
    "repetition_penalty": Bound(1.0, 5.0, 1.0),
    "no_repeat_ngram_size": Bound(0, 32, None),
    "length_penalty": Bound(0.0, 5.0, 1.0),
}


def normalize_options(options: DecodingOptions) -> DecodingOptions:
    """Replaces "unset" zeros by defaults and checks every bound.

    Raises:
        InvalidOption: A value outside its range; the message gives the range.
    """
    changes = {}
    for name, bound in BOUNDS.items():
        value = getattr(options, name)
        if value == 0 and bound.unset is not None:
            changes[name] = bound.unset
            continue
        if not bound.low <= value <= bound.high:
            raise InvalidOption(
                f"{name} must be between {_show(bound.low)} and {_show(bound.high)}, "
                f"got {_show(value)}"
            )
    normalized = replace(options, **changes) if changes else options
    if normalized.num_alternatives > normalized.beam_size:
        # Alternatives come from the beam: widen it rather than refuse.
        normalized = replace(normalized, beam_size=normalized.num_alternatives)
    return normalized


def _show(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


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
        raise InvalidOption(
            f"interim_results need greedy decoding, but the stream asks for beam size "
            f"{normalized.beam_size}"
            + (
                f" and {normalized.num_alternatives} alternatives"
                if options.num_alternatives
                else ""
            )
            + ": leave quality and beam_size unset (or use QUALITY_FAST / beam_size 1, no "
            "num_alternatives), or turn interim_results off"
        )
    return normalized
