"""Greedy translation with a Hugging Face model and with a CTranslate2 model, framed alike.

Both sides tokenize with the same Hugging Face tokenizer and frame sequences by the model
family's conventions (`[src_lang] + pieces + [</s>]`, target prefix `[tgt_lang]`), so a
difference between them is a difference between the models. The parity check and
`dragoman finetune evaluate` use these.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dragoman.engine.families import ModelFamily

EOS = "</s>"


def full_vocabulary(tokenizer: Any, size: int = 0) -> list[str]:
    """Every token by id; `size` long (the model's embedding size) when given.

    `get_vocab()` is not enough: transformers 5's M2M100 tokenizer leaves its `__en__`
    language tokens out of it. Ids without a token become `madeupwordN` (fairseq's filler).
    """
    if not size:
        lang_ids = getattr(tokenizer, "lang_token_to_id", None) or {0: 0}
        size = max(
            len(tokenizer), max(tokenizer.get_vocab().values()) + 1, max(lang_ids.values()) + 1
        )
    tokens: list[str] = []
    seen: set[str] = set()
    for i in range(size):
        token = tokenizer.convert_ids_to_tokens(i)
        if token is None or token in seen:
            token = f"madeupword{i}"
        seen.add(token)
        tokens.append(token)
    return tokens


class PairCodec:
    """Turns text into framed token sequences of one model family and back.

    Args:
        tokenizer: A Hugging Face tokenizer (its `tokenize`, `convert_tokens_to_ids`,
            `convert_tokens_to_string`).
        family: The family whose language tokens frame the sequences.
    """

    def __init__(self, tokenizer: Any, family: ModelFamily) -> None:
        self.tokenizer = tokenizer
        self.family = family

    def source_tokens(self, text: str, language: str) -> list[str]:
        """`[lang] + pieces + [</s>]`."""
        return self.family.source_tokens(self.tokenizer.tokenize(text), language)

    def target_tokens(self, text: str, language: str) -> list[str]:
        """`[lang] + pieces + [</s>]` (decoder labels)."""
        return [*self.family.target_prefix(language), *self.tokenizer.tokenize(text), EOS]

    def ids(self, tokens: Sequence[str]) -> list[int]:
        """Vocabulary ids of `tokens`."""
        return [int(i) for i in self.tokenizer.convert_tokens_to_ids(list(tokens))]

    def text(self, tokens: Sequence[str]) -> str:
        """Detokenizes a hypothesis, dropping its language prefix and control tokens."""
        pieces = self.family.output_pieces(tokens)
        return str(self.tokenizer.convert_tokens_to_string(pieces)).strip()


def hf_translate(
    model: Any,
    codec: PairCodec,
    texts: Sequence[str],
    source: str,
    target: str,
    *,
    batch_size: int = 32,
    max_new_tokens: int = 128,
) -> list[str]:
    """Greedy translations of `texts` by a Hugging Face seq2seq model."""
    import torch

    model.eval()
    start = model.config.decoder_start_token_id
    prefix = codec.ids(codec.family.target_prefix(target))
    pad = model.config.pad_token_id
    out: list[str] = []
    for i in range(0, len(texts), batch_size):
        batch = [codec.ids(codec.source_tokens(t, source)) for t in texts[i : i + batch_size]]
        width = max(len(b) for b in batch)
        input_ids = torch.tensor([b + [pad] * (width - len(b)) for b in batch])
        mask = torch.tensor([[1] * len(b) + [0] * (width - len(b)) for b in batch])
        decoder = torch.tensor([[start, *prefix]] * len(batch))
        with torch.no_grad():
            generated = model.generate(
                input_ids=input_ids,
                attention_mask=mask,
                decoder_input_ids=decoder,
                num_beams=1,
                do_sample=False,
                max_new_tokens=max_new_tokens,
            )
        for row in generated.tolist():
            tokens = codec.tokenizer.convert_ids_to_tokens(row[1:])
            out.append(codec.text(tokens))
    return out


def ct2_translate(
    translator: Any,
    codec: PairCodec,
    texts: Sequence[str],
    source: str,
    target: str,
    *,
    batch_size: int = 32,
    max_new_tokens: int = 128,
) -> list[str]:
    """Greedy translations of `texts` by a `ctranslate2.Translator`."""
    sources = [codec.source_tokens(t, source) for t in texts]
    prefix = codec.family.target_prefix(target)
    results = translator.translate_batch(
        sources,
        target_prefix=[prefix] * len(sources),
        beam_size=1,
        max_batch_size=batch_size,
        max_decoding_length=max_new_tokens + len(prefix),
    )
    return [codec.text(r.hypotheses[0]) for r in results]


def load_ct2(path: Path, threads: int = 1) -> Any:
    """Loads a CTranslate2 model directory on the CPU."""
    import ctranslate2

    return ctranslate2.Translator(str(path), device="cpu", intra_threads=threads)
