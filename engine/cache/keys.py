"""Cache keys, the cached value of one segment, and the seal that authenticates it.

A key is `KEY_PREFIX` + sha256 of a scope digest and the segment's model input (see
`dragoman.engine.cache.segments`). A value stored outside the process is sealed: an
HMAC-SHA256 of the key and the value under the deployment secret, so a value that
was forged (another pod writing to a shared Redis), moved to another key or corrupted
is refused and served as a miss, never as a translation.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path

KEY_PREFIX = "dragoman:tc:v2:"
"""Prefix of every cache key; bump the version when the key or value format changes."""

#: Hex digits of the HMAC kept in a sealed value (128 bits).
_MAC_HEX = 32


def segment_key(scope_digest: str, segment: str) -> str:
    """Returns the cache key of one segment under a scope digest."""
    h = hashlib.sha256(scope_digest.encode("ascii"))
    h.update(b"\0")
    h.update(segment.encode("utf-8"))
    return KEY_PREFIX + h.hexdigest()


def model_identity(model_dir: str | Path, compute_type: str = "") -> str:
    """Identifies a model's outputs without hashing its weights.

    Uses `dragoman.json` (base model, adapter sha256 hashes, quantization), the
    CTranslate2 `config.json` and the size of `model.bin`, so that replicas holding
    copies of the same model share Redis entries, while a re-converted or re-adapted
    model gets new keys.

    Args:
        model_dir: The CTranslate2 model directory.
        compute_type: The compute type the model is loaded with (outputs differ by it).

    Returns:
        A hex digest.
    """
    root = Path(model_dir)
    h = hashlib.sha256(compute_type.encode("utf-8"))
    for name in ("dragoman.json", "config.json"):
        path = root / name
        h.update(b"\0" + name.encode("ascii") + b"\0")
        if path.is_file():
            h.update(path.read_bytes())
    weights = root / "model.bin"
    h.update(b"\0model.bin\0" + str(weights.stat().st_size if weights.is_file() else -1).encode())
    return h.hexdigest()


@dataclass(frozen=True)
class CachedSegment:
    """The cached model output for one source segment.

    It has the `hypotheses`, `scores` and `alignments` of a decoded segment, so the
    engine restores texts, alternatives and scores from a hit exactly as from a
    fresh run.

    Attributes:
        hypotheses: Target tokens of each hypothesis, best first (target prefix included).
        scores: The hypotheses' scores.
        alignments: Per hypothesis, the source piece of each target word (segments
            decoded with attention only).
    """

    hypotheses: list[list[str]]
    scores: list[float] = field(default_factory=list)
    alignments: list[list[int]] = field(default_factory=list)

    def encode(self) -> str:
        """Serialises the entry as compact JSON."""
        data: dict[str, object] = {"h": self.hypotheses, "s": self.scores}
        if self.alignments:
            data["a"] = self.alignments
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def decode(cls, value: str) -> CachedSegment | None:
        """Parses an entry; returns None for a malformed one (treated as a miss)."""
        try:
            data = json.loads(value)
            hypotheses = [[str(token) for token in hyp] for hyp in data["h"]]
            scores = [float(score) for score in data.get("s", ())]
            alignments = [[int(i) for i in a] for a in data.get("a", ())]
        except (ValueError, KeyError, TypeError):
            return None
        if alignments and len(alignments) != len(hypotheses):
            return None
        return cls(hypotheses, scores, alignments) if hypotheses else None


class Sealer:
    """Seals values with an HMAC bound to their key; opens only intact ones."""

    def __init__(self, secret: str = "") -> None:
        """A sealer keyed by `secret` (a random per-process key when empty)."""
        self.shared = bool(secret)
        self._key = secret.encode("utf-8") if secret else secrets.token_bytes(32)

    def _mac(self, key: str, value: str) -> str:
        message = key.encode("utf-8") + b"\0" + value.encode("utf-8")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:_MAC_HEX]

    def seal(self, key: str, value: str) -> str:
        """`value` with its MAC in front."""
        return self._mac(key, value) + value

    def open(self, key: str, sealed: str) -> str | None:
        """The value, or None when the MAC does not match (forged, moved or corrupted)."""
        mac, value = sealed[:_MAC_HEX], sealed[_MAC_HEX:]
        if len(mac) != _MAC_HEX or not hmac.compare_digest(mac, self._mac(key, value)):
            return None
        return value
