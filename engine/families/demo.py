"""The demo model: NLLB conventions, languages only from its dragoman.json.

Its constructed languages use private-use codes (`qaa_Latn`), so its language table
comes from the model directory, not from a built-in list.
"""

from __future__ import annotations

from dragoman.engine.families import register_family
from dragoman.engine.families.nllb import NllbFamily


@register_family
class DemoFamily(NllbFamily):
    """dragoman's own demo model (NLLB architecture and token conventions)."""

    name = "demo"
    # Trained on single clauses of at most 16 pieces.
    preferred_source_tokens = 32
    # A vocabulary with FLORES-style tokens is inferred as NLLB; the demo model says
    # "demo" in its dragoman.json.
    inferable = False
