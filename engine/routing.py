"""Traffic routing between the versions of one model name.

Weights are whole percentages that add up to 100. A request that carries a routing key
(an API key, a user id sent as `x-dragoman-routing-key`) lands where a stable hash of
the name and the key points, so one caller's documents stay on one version for as long
as the weights stay; a request without a key is placed at random.

Versions lie on the interval [0, 100) newest first. Raising the newest version's weight
therefore moves callers only from older versions to it, never back: a canary that grows
from 10 % to 100 % keeps every caller it already had.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping, Sequence

from dragoman.engine.errors import InvalidRequest, ModelNotFound

#: Total of a name's weights.
FULL = 100
_SPAN = 2**64


def check_weights(name: str, weights: Mapping[str, int], loaded: Sequence[str]) -> dict[str, int]:
    """Validates a traffic split; returns the weight of every loaded version.

    Versions the split leaves out get 0.

    Raises:
        ModelNotFound: The split names a version that is not loaded.
        InvalidRequest: A weight is negative, or the weights do not add up to 100.
    """
    unknown = sorted(set(weights) - set(loaded))
    if unknown:
        raise ModelNotFound(
            f"model {name!r} has no loaded version {', '.join(map(repr, unknown))}; "
            f"its versions are: {', '.join(loaded)}"
        )
    negative = sorted(v for v, w in weights.items() if w < 0)
    if negative:
        raise InvalidRequest(f"weights must be 0 to {FULL}; {', '.join(negative)} are negative")
    total = sum(weights.values())
    if total != FULL:
        shown = ", ".join(f"{v}={w}" for v, w in sorted(weights.items())) or "(none)"
        raise InvalidRequest(
            f"the weights of model {name!r} add up to {total}, not {FULL} ({shown}): give "
            f"percentages that sum to {FULL}, e.g. 90/10 for a canary"
        )
    return {version: int(weights.get(version, 0)) for version in loaded}


def point(name: str, routing_key: str) -> float:
    """Where a caller lands on [0, 100): stable for a key, random without one."""
    if not routing_key:
        return random.random() * FULL
    digest = hashlib.sha256(f"{name}\0{routing_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SPAN * FULL


def choose(newest_first: Sequence[tuple[str, int]], where: float) -> str:
    """The version whose stretch of [0, 100) holds `where`.

    Args:
        newest_first: (version, weight) pairs, newest version first; weights add up to 100.
        where: A point from `point`.
    """
    edge = 0
    for version, weight in newest_first:
        edge += weight
        if where < edge:
            return version
    # Only reached through rounding at the very top: the last version with weight.
    return next(v for v, w in reversed(newest_first) if w > 0)
