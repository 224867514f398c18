"""Engine settings: which models to load, and how the batcher groups work."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelSpec:
    """One model to load.

    Attributes:
        name: The name requests use to pick this model.
        path: A CTranslate2 model directory, or "demo" for the shipped demo model.
        device: "auto", "cpu" or "cuda"; "auto" picks cuda when a GPU is visible.
        compute_type: CTranslate2 compute type or "auto" (cuda: float16, or
            int8_float16 for an int8 model; cpu: int8).
        device_index: GPU indices; one translator replica per index.
        inter_threads: Batches run in parallel per device (CTranslate2 `inter_threads`).
        intra_threads: Threads per batch (CTranslate2 `intra_threads`, 0 = default).
        max_segment_tokens: Longest source segment fed to the model, in tokens (0 = the
            family's limit); longer sentences are split at word boundaries.
        version: Version label (`name@version` in responses); empty for a model
            served without versions.
    """

    name: str
    path: str
    device: str = "auto"
    compute_type: str = "auto"
    device_index: tuple[int, ...] = (0,)
    inter_threads: int = 1
    intra_threads: int = 0
    max_segment_tokens: int = 0
    version: str = ""


@dataclass(frozen=True)
class BatchingConfig:
    """How segments from concurrent requests are merged into CTranslate2 batches.

    Attributes:
        enabled: Merge segments across requests; when off, each request runs its own
            segments as one batch in the caller's thread (the benchmark's baseline).
        max_batch_tokens: Token budget of one batch (longest source x batch size).
        max_batch_size: Most segments in one batch.
        max_wait_ms: How long the first queued segment waits for company.
        wait_fraction: When batches are slow, the wait for company grows to this share
            of the last batch's duration (up to `max_adaptive_wait_ms`), so that
            clients whose answers just went out are back in time for the next batch.
        max_adaptive_wait_ms: Upper bound of that longer wait.
        max_queue_segments: Queue bound; beyond it requests get `Overloaded`.
    """

    enabled: bool = True
    max_batch_tokens: int = 4096
    max_batch_size: int = 64
    max_wait_ms: float = 5.0
    wait_fraction: float = 0.02
    max_adaptive_wait_ms: float = 250.0
    max_queue_segments: int = 2048
