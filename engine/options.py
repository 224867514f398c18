"""Bounds of the decoding options, checked once at the engine's edge."""

from __future__ import annotations

from dataclasses import replace
from typing import NamedTuple

from dragoman.engine.errors import InvalidOption
from dragoman.engine.types import DecodingOptions


class Bound(NamedTuple):
    """Inclusive range of one option, and the value 0 stands for ("unset")."""

    low: float
    high: float
    unset: float | None


# One row per option: the table the proto comments describe.
BOUNDS: dict[str, Bound] = {
    "beam_size": Bound(1, 16, DecodingOptions.beam_size),
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
