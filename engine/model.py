"""One loaded model: a small wrapper over `ctranslate2.Translator`.

Like faster-whisper's `WhisperModel`, it gives CTranslate2's settings user-facing
names, picks device and compute type automatically, and hides tokens from callers:
text goes in, segments of tokens go to the batcher, text comes back out.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from dragoman.engine.config import ModelSpec
from dragoman.engine.errors import InputTooLong, ModelLoadError
from dragoman.engine.languages import LanguageTable
from dragoman.engine.manifest import (
    ModelManifest,
    read_manifest,
    read_vocabulary,
    resolve_model_path,
)
from dragoman.engine.segmenter import SegmentedText, split_long, split_sentences
from dragoman.engine.tokenizer import Tokenizer, load_tokenizer
from dragoman.engine.types import DecodingOptions

logger = logging.getLogger(__name__)

# Output length when the caller gives none: proportional to the source, plus slack.
_AUTO_LENGTH_RATIO = 2.0
_AUTO_LENGTH_SLACK = 10
_MAX_DECODING_TOKENS = 1024
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
class SegmentResult:
    """The hypotheses of one segment, best first (target prefix included), and scores."""

    hypotheses: list[list[str]]
    scores: list[float]


@dataclass(frozen=True)
class PreparedText:
    """One text cut into token segments, ready for the batcher."""

    segmented: SegmentedText
    sources: tuple[tuple[str, ...], ...]
    target_prefix: tuple[str, ...]


def max_decoding_length(source_tokens: int, options: DecodingOptions) -> int:
    """CT2 `max_decoding_length` (which counts the one-token target prefix)."""
    if options.max_output_tokens > 0:
        return min(options.max_output_tokens, _MAX_DECODING_TOKENS) + 1
    auto = int(source_tokens * _AUTO_LENGTH_RATIO) + _AUTO_LENGTH_SLACK
    return min(auto, _MAX_DECODING_TOKENS) + 1


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

    def count_pieces(self, text: str) -> int:
        """Number of subword pieces of `text`."""
        return len(self.tokenizer.encode(text))

    def prepare(self, text: str, source_code: str, target_code: str) -> PreparedText:
        """Segments and tokenizes one text; every segment fits the model's input.

        Sentences within the limit are tokenized once; longer ones are cut at word
        boundaries (`split_long`), so nothing is truncated.
        """
        outer = split_sentences(text)
        sentences: list[str] = []
        separators = [outer.separators[0]]
        sources = []
        for sentence, separator in zip(outer.sentences, outer.separators[1:], strict=True):
            pieces = self.tokenizer.encode(sentence)
            if len(pieces) <= self.max_segment_pieces:
                parts, inner = [(sentence, pieces)], []
            else:
                chunks = split_long(sentence, self.count_pieces, self.max_segment_pieces)
                parts = [(chunk, self.tokenizer.encode(chunk)) for chunk in chunks.sentences]
                inner = list(chunks.separators[1:-1])
            for chunk, chunk_pieces in parts:
                if len(chunk_pieces) > self.max_segment_pieces:  # split_long guarantees it
                    raise InputTooLong(
                        f"a segment of {len(chunk_pieces)} tokens exceeds the model's limit "
                        f"of {self.max_segment_pieces}"
                    )
                sentences.append(chunk)
                sources.append(tuple(self.family.source_tokens(chunk_pieces, source_code)))
            separators += [*inner, separator]
        segmented = SegmentedText(tuple(sentences), tuple(separators))
        prefix = tuple(self.family.target_prefix(target_code))
        return PreparedText(segmented, tuple(sources), prefix)

    def detokenize(self, tokens: Sequence[str]) -> str:
        """Text of a hypothesis (target prefix and special tokens removed)."""
        return self.tokenizer.decode(self.family.output_pieces(tokens))

    def translate_batch(
        self,
        sources: Sequence[Sequence[str]],
        prefixes: Sequence[Sequence[str]],
        options: DecodingOptions,
    ) -> list[SegmentResult]:
        """Runs one CTranslate2 batch; one result per source.

        CT2's `max_decoding_length` applies to the whole batch, so it runs with the
        largest limit and each hypothesis is then cut to its own segment's limit: a
        segment's translation does not depend on which segments shared its batch.
        """
        limits = [max_decoding_length(len(source), options) for source in sources]
        num_hypotheses = max(options.num_alternatives, 1)
        outputs = self.translator.translate_batch(
            [list(s) for s in sources],
            [list(p) for p in prefixes],
            beam_size=max(options.beam_size, num_hypotheses),
            num_hypotheses=num_hypotheses,
            length_penalty=options.length_penalty,
            repetition_penalty=options.repetition_penalty,
            no_repeat_ngram_size=options.no_repeat_ngram_size,
            max_decoding_length=max(limits),
            # dragoman segments inputs itself; CT2 must never cut them.
            max_input_length=0,
            return_scores=options.return_scores or options.num_alternatives > 0,
        )
        return [
            SegmentResult(
                hypotheses=[list(h[:limit]) for h in output.hypotheses],
                scores=[float(score) for score in output.scores],
            )
            for output, limit in zip(outputs, limits, strict=True)
        ]

    def generate_tokens(
        self, source: Sequence[str], prefix: Sequence[str], options: DecodingOptions
    ) -> Iterator[str]:
        """Greedy decoding of one segment, one target token at a time (prefix skipped)."""
        steps = self.translator.generate_tokens(
            list(source),
            list(prefix),
            max_decoding_length=max_decoding_length(len(source), options),
            repetition_penalty=options.repetition_penalty,
            no_repeat_ngram_size=options.no_repeat_ngram_size,
            max_input_length=0,
        )
        # The first steps repeat the target prefix.
        for index, step in enumerate(steps):
            if index >= len(prefix):
                yield step.token

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
