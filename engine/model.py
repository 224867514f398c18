"""One loaded model: a small wrapper over `ctranslate2.Translator`.

Like faster-whisper's `WhisperModel`, it gives CTranslate2's settings user-facing
names, picks device and compute type automatically, and hides tokens from callers:
text goes in, segments of tokens go to the batcher, text comes back out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dragoman.engine.alignment import word_sources
from dragoman.engine.config import ModelSpec
from dragoman.engine.errors import ModelLoadError
from dragoman.engine.languages import LanguageTable
from dragoman.engine.manifest import (
    ModelManifest,
    read_manifest,
    read_vocabulary,
    resolve_model_path,
)
from dragoman.engine.tokenizer import Tokenizer, load_tokenizer
from dragoman.engine.types import MAX_OUTPUT_TOKENS, DecodingOptions

logger = logging.getLogger(__name__)

# Output length when the caller gives none: proportional to the source, plus slack.
_AUTO_LENGTH_RATIO = 2.0
_AUTO_LENGTH_SLACK = 10
# Pieces of a text that language identification looks at.
_IDENTIFY_PIECES = 48


def pick_device(device: str) -> str:
    """ "auto" -> "cuda" when CTranslate2 sees a GPU, else "cpu"."""
    import ctranslate2

    if device != "auto":
        return device
    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


def pick_compute_type(device: str, compute_type: str, quantization: str) -> str:
    """ "auto" -> cuda: float16 (int8_float16 for an int8 model); cpu: int8."""
    if compute_type != "auto":
        return compute_type
    if device == "cuda":
        return "int8_float16" if quantization.startswith("int8") else "float16"
    return "int8"


@dataclass(frozen=True)
class ModelInput:
    """One segment as CTranslate2 sees it.

    Attributes:
        source: The framed source tokens (language token, pieces, `</s>`).
        prefix: The target prefix (the target language token).
        text_start: Index of the first text piece in `source`.
        text_length: Number of text pieces.
    """

    source: tuple[str, ...]
    prefix: tuple[str, ...]
    text_start: int
    text_length: int


@dataclass(frozen=True)
class SegmentResult:
    """The hypotheses of one segment, best first (target prefix included), and scores.

    Attributes:
        hypotheses: Target tokens of each hypothesis.
        scores: Their scores, when asked for.
        alignments: Per hypothesis, per word of its text pieces, the index of the text
            piece of the source it is aligned to (empty when attention was not asked for).
    """

    hypotheses: list[list[str]]
    scores: list[float]
    alignments: list[tuple[int, ...]] = field(default_factory=list)


#: Called from the decoding thread with (index of the segment in the batch, token).
TokenCallback = Callable[[int, str], None]


def max_decoding_length(source_tokens: int, options: DecodingOptions) -> int:
    """CT2 `max_decoding_length` (which counts the one-token target prefix)."""
    if options.max_output_tokens > 0:
        return min(options.max_output_tokens, MAX_OUTPUT_TOKENS) + 1
    auto = int(source_tokens * _AUTO_LENGTH_RATIO) + _AUTO_LENGTH_SLACK
    return min(auto, MAX_OUTPUT_TOKENS) + 1


class TranslationModel:
    """A CTranslate2 model directory loaded with its tokenizer and language table."""

    def __init__(self, spec: ModelSpec) -> None:
        """Loads the model.

        Raises:
            ModelLoadError: Missing files, unknown family or CTranslate2 refusing the model.
        """
        import ctranslate2

        self.spec = spec
        self.manifest: ModelManifest = read_manifest(resolve_model_path(spec.path))
        self.family = self.manifest.family
        vocabulary = set(read_vocabulary(self.manifest.path))
        languages = [
            lang
            for lang in self.manifest.languages
            if self.family.language_token(lang.code) in vocabulary
        ]
        if not languages:
            raise ModelLoadError(f"{self.manifest.path}: no language token found in vocabulary")
        self.languages = LanguageTable(languages)
        self.tokenizer: Tokenizer = load_tokenizer(
            self.manifest.tokenizer_type, self.manifest.tokenizer_path
        )
        self.device = pick_device(spec.device)
        requested = pick_compute_type(self.device, spec.compute_type, self.manifest.quantization)
        try:
            self.translator = ctranslate2.Translator(
                str(self.manifest.path),
                device=self.device,
                device_index=list(spec.device_index),
                compute_type=requested,
                inter_threads=spec.inter_threads,
                intra_threads=spec.intra_threads,
            )
        except (RuntimeError, ValueError) as error:
            raise ModelLoadError(
                f"CTranslate2 cannot load {self.manifest.path}: {error}"
            ) from error
        self.compute_type = str(getattr(self.translator, "compute_type", requested))
        # Room for the language token and </s> inside the family's limit.
        limit = spec.max_segment_tokens or min(self.family.max_source_tokens, 256)
        self.max_segment_pieces = max(limit - 2, 1)
        logger.info(
            "loaded model %s (%s, %d languages) on %s/%s",
            spec.name, self.family.name, len(self.languages), self.device, self.compute_type,
        )  # fmt: skip

    @property
    def name(self) -> str:
        """The name requests use."""
        return self.spec.name

    @property
    def workers(self) -> int:
        """How many batches CTranslate2 runs at once for this model."""
        return max(self.spec.inter_threads, 1) * max(len(self.spec.device_index), 1)

    def frame(self, pieces: Sequence[str], source_code: str, target_code: str) -> ModelInput:
        """A segment's text pieces framed for the model (language tokens, `</s>`)."""
        source = tuple(self.family.source_tokens(pieces, source_code))
        start = next(
            (i for i in range(len(source) - len(pieces) + 1)
             if source[i : i + len(pieces)] == tuple(pieces)),
            0,
        )  # fmt: skip
        return ModelInput(source, tuple(self.family.target_prefix(target_code)), start, len(pieces))

    def output_pieces(self, tokens: Sequence[str]) -> list[str]:
        """The text pieces of a hypothesis (target prefix and special tokens removed)."""
        return self.family.output_pieces(tokens)

    def detokenize(self, tokens: Sequence[str]) -> str:
        """Text of a hypothesis (target prefix and special tokens removed)."""
        return self.tokenizer.decode(self.family.output_pieces(tokens))

    def translate_batch(
        self,
        inputs: Sequence[ModelInput],
        options: DecodingOptions,
        *,
        attention: bool = False,
        callback: TokenCallback | None = None,
        scores: bool = False,
    ) -> list[SegmentResult]:
        """Runs one CTranslate2 batch; one result per input. The only CT2 translation call.

        CT2's `max_decoding_length` applies to the whole batch, so it runs with the
        largest limit and each hypothesis is then cut to its own segment's limit.

        Args:
            inputs: The segments.
            options: Their (normalized) decoding options.
            attention: Return word alignments (costs attention output for the batch).
            callback: Receives every generated token of every segment as it is decoded
                (greedy decoding only; CT2 calls it from its decoding thread).
            scores: Return the hypotheses' scores (a log-softmax over the vocabulary at
                every step: 4 % of a greedy decode on NLLB's 256k-entry vocabulary).
        """
        limits = [max_decoding_length(len(i.source), options) for i in inputs]
        num_hypotheses = max(options.num_alternatives, 1)
        extra: dict[str, object] = {}
        if callback is not None:
            extra["callback"] = _token_callback(callback, [len(i.prefix) for i in inputs], limits)
        outputs = self.translator.translate_batch(
            [list(i.source) for i in inputs],
            [list(i.prefix) for i in inputs],
            beam_size=max(options.beam_size, num_hypotheses),
            num_hypotheses=num_hypotheses,
            length_penalty=options.length_penalty,
            repetition_penalty=options.repetition_penalty,
            no_repeat_ngram_size=options.no_repeat_ngram_size,
            max_decoding_length=max(limits),
            # dragoman segments inputs itself; CT2 must never cut them.
            max_input_length=0,
            return_scores=scores,
            return_attention=attention,
            **extra,
        )
        return [
            self._result(output, limit, item if attention else None)
            for output, limit, item in zip(outputs, limits, inputs, strict=True)
        ]

    def _result(self, output: Any, limit: int, aligned: ModelInput | None) -> SegmentResult:
        hypotheses = [list(h[:limit]) for h in output.hypotheses]
        alignments: list[tuple[int, ...]] = []
        if aligned is not None:
            rows = list(output.attention) or [[] for _ in hypotheses]
            alignments = [
                self._alignment(tokens, hyp_rows, aligned)
                for tokens, hyp_rows in zip(hypotheses, rows, strict=True)
            ]
        return SegmentResult(hypotheses, [float(s) for s in output.scores], alignments)

    def _alignment(
        self, tokens: Sequence[str], rows: Sequence[Sequence[float]], item: ModelInput
    ) -> tuple[int, ...]:
        kept = [i for i, token in enumerate(tokens) if not self.family.is_special(token)]
        if len(rows) < len(tokens):
            return ()
        span = slice(item.text_start, item.text_start + item.text_length)
        return word_sources([tokens[i] for i in kept], [rows[i][span] for i in kept])

    def identify(self, text: str, candidates: Sequence[str]) -> str:
        """The candidate language under which the model finds `text` most likely.

        Scores the text's first pieces as a target in each candidate language, with the
        same text as the source: a decoder prefixed with language c gives high
        probability to fluent text in c and low probability to another language's words.
        One small CTranslate2 scoring batch, one example per candidate.
        """
        pieces = self.tokenizer.encode(text)[:_IDENTIFY_PIECES]
        if not pieces:
            return candidates[0]
        sources = [self.family.source_tokens(pieces, code) for code in candidates]
        targets = [[*self.family.target_prefix(code), *pieces] for code in candidates]
        results = self.translator.score_batch(sources, targets, max_input_length=0)
        # Skip the language token's own log-probability: it only scores the prefix.
        means = [sum(r.log_probs[1:]) / max(len(r.log_probs) - 1, 1) for r in results]
        return candidates[max(range(len(candidates)), key=means.__getitem__)]

    def unload(self) -> None:
        """Frees the model's memory."""
        self.translator.unload_model()


def _token_callback(
    callback: TokenCallback, prefix_lengths: Sequence[int], limits: Sequence[int]
) -> Callable[[Any], bool]:
    """Adapts `callback` to CT2's per-step results: target prefix steps and steps past a
    segment's own length limit (the batch decodes to the longest) are skipped."""

    def step(result: Any) -> bool:
        index = result.batch_id
        if prefix_lengths[index] <= result.step < limits[index]:
            callback(index, result.token)
        return False

    return step
