"""Server settings: flags > `DRAGOMAN_*` environment > YAML file > defaults.

Nested settings use `__` in the environment (`DRAGOMAN_LIMITS__MAX_CONTENTS=256`);
the model list is JSON there (`DRAGOMAN_MODELS='[{"path": "/models/nllb"}]'`). A YAML
file names the same keys:

```yaml
port: 50051
default_model: nllb
models:
  - {name: nllb, path: /models/nllb-600m-int8, device: cuda, compute_type: int8_float16}
  - {name: demo, path: demo}
limits: {max_contents: 256}
batching: {max_wait_ms: 10}
```
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from dragoman.server.auth import AuthSettings
from dragoman.server.http.settings import HttpSettings
from dragoman.server.ratelimit import RateLimitSettings
from dragoman.server.reliability import BreakerSettings, CacheSettings
from dragoman.server.tls import TLSSettings
from dragoman.server.transport import ConnectionSettings
from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

#: The model path that names the demo model shipped inside the package.
DEMO_MODEL = "demo"


def demo_model_dir() -> Path:
    """Where the shipped demo model lives (`dragoman/models/demo/`)."""
    import dragoman

    return Path(dragoman.__file__).resolve().parent / "models" / DEMO_MODEL


class ModelSettings(BaseModel):
    """One model to load.

    Attributes:
        path: A CTranslate2 model directory, or `demo` for the shipped demo model.
        name: Name clients pass as `model`; defaults to the directory's name.
        device: `auto`, `cpu` or `cuda`.
        compute_type: `auto` (cuda -> float16/int8_float16, cpu -> int8) or a
            CTranslate2 compute type.
        device_index: GPU indices to place replicas of the model on.
        inter_threads: Batches the model runs in parallel (per device).
        intra_threads: Threads per batch on CPU; 0 lets CTranslate2 choose.
        max_segment_tokens: Longest source segment fed to the model, in tokens; 0 is
            the family's limit. Longer sentences are split, never truncated.
        version: Version label: responses then name `name@version`, and later
            versions of the name can be loaded beside it (`NAME@VERSION=DIR`).
    """

    path: str
    name: str = ""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    compute_type: str = "auto"
    device_index: tuple[int, ...] = (0,)
    inter_threads: int = Field(default=1, ge=1)
    intra_threads: int = Field(default=0, ge=0)
    max_segment_tokens: int = Field(default=0, ge=0)
    version: str = ""

    @model_validator(mode="after")
    def _default_name(self) -> ModelSettings:
        if not self.name:
            self.name = DEMO_MODEL if self.path == DEMO_MODEL else Path(self.path).name
        return self

    @field_validator("device_index", mode="before")
    @classmethod
    def _index_list(cls, value: Any) -> Any:
        if isinstance(value, int):
            return (value,)
        if isinstance(value, str):
            return tuple(int(part) for part in value.split(",") if part.strip())
        return value

    def resolved_path(self) -> str:
        """The model directory, with `demo` resolved to the shipped demo model."""
        return str(demo_model_dir()) if self.path == DEMO_MODEL else self.path


class LimitSettings(BaseModel):
    """Request limits enforced at the edge; beyond them, INVALID_ARGUMENT.

    Attributes:
        max_contents: Texts per TranslateText request.
        max_text_chars: Characters per text (or streamed segment).
        max_request_chars: Characters per TranslateText request, all texts together.
        max_message_bytes: Largest gRPC message the server receives or sends.
        min_deadline_ms: Requests with less time left than this fail at once with
            DEADLINE_EXCEEDED instead of queueing work nobody will wait for.
    """

    max_contents: int = Field(default=1024, ge=1)
    max_text_chars: int = Field(default=100_000, ge=1)
    max_request_chars: int = Field(default=1_000_000, ge=1)
    max_message_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    min_deadline_ms: float = Field(default=5.0, ge=0)


class BatchingSettings(BaseModel):
    """Cross-request batching (see `dragoman.engine.service.BatchingConfig`).

    Attributes:
        enabled: Merge segments of concurrent requests into one CTranslate2 batch.
        max_batch_tokens: Token budget of one batch.
        max_batch_size: Segments per batch.
        max_wait_ms: How long the first queued segment waits for company.
        max_queue_segments: Queue bound; beyond it requests fail with RESOURCE_EXHAUSTED.
    """

    enabled: bool = True
    max_batch_tokens: int = Field(default=4096, ge=1)
    max_batch_size: int = Field(default=64, ge=1)
    max_wait_ms: float = Field(default=5.0, ge=0)
    max_queue_segments: int = Field(default=2048, ge=1)


class RolloutSettings(BaseModel):
    """Model versions loaded, routed and unloaded at run time.

    Attributes:
        promote_new_versions: With `models_dir`, send all of a name's traffic to each
            new version once it is warm (otherwise it waits, without traffic, for
            `dragoman admin models route|promote`).
        poll_interval_s: How often `models_dir` is scanned for new versions.
        memory_headroom: A version is loaded only when free memory exceeds its
            `model.bin` size times this.
    """

    promote_new_versions: bool = False
    poll_interval_s: float = Field(default=2.0, gt=0)
    memory_headroom: float = Field(default=1.5, ge=1.0)


class Settings(BaseSettings):
    """Everything `dragoman serve` can be told.

    Attributes:
        host: Address to listen on.
        port: gRPC port; 0 picks a free one.
        metrics_port: Prometheus `/metrics` port; 0 disables it.
        models: Models to load; empty means the demo model.
        default_model: Model used when a request names none; empty = the first.
        limits: Request limits.
        batching: Cross-request batching.
        workers: Threads serving translation RPCs (each in-flight RPC holds one); the
            default `max_concurrent_rpcs`.
        grace_period_s: On SIGTERM/SIGINT, how long in-flight RPCs may take to finish.
        warmup: Run one translation per model before reporting SERVING.
        log_format: `json` (one object per line) or `text`.
        log_level: Python logging level name.
        auth: API keys (`authorization: Bearer <key>`) and the admin token.
        rate_limit: Per-caller request and character budgets.
        tls: TLS / mutual TLS certificate files.
        max_concurrent_rpcs: RPCs served at once (streams count while open); beyond
            it, RESOURCE_EXHAUSTED at once instead of queueing. Health checks,
            reflection and admin calls have slots and threads of their own. 0 =
            `workers`.
        max_rpcs_per_caller: RPCs one caller (API key, or client address without one)
            may have in flight; 0 = 3/4 of `max_concurrent_rpcs`.
        max_streams_per_caller: Streams one caller may have open; 0 = half of
            `max_concurrent_rpcs`.
        connections: Per-connection bounds and how long calls may keep the server
            waiting for their messages.
        cache: The per-segment translation cache (in process unless a URL is set).
        cache_url: Redis/Dragonfly URL for the cache (`DRAGOMAN_CACHE_URL`); wins
            over `cache.url`. `redis://:password@host:6379/0` authenticates,
            `rediss://` uses TLS.
        cache_secret: Secret that authenticates values in a shared cache
            (`DRAGOMAN_CACHE_SECRET`, HMAC-SHA256): a forged or corrupted value is a
            miss. Give every replica the same one; unset, each process uses a random
            key and replicas do not share entries.
        circuit_breaker: Consecutive engine failures -> UNAVAILABLE for a while.
        glossary_dir: Directory of stored glossaries (`<name>.json` or `<name>.tsv`) that
            requests name in `glossary_config.glossary`; empty = none.
        models_dir: Directory of model versions, `<name>/<version>/`: each name's
            newest version is served at start, new versions are loaded as they appear.
        rollout: Model versions at run time (watch mode, memory check).
        http: The HTTP server beside gRPC: LibreTranslate- and DeepL-compatible APIs,
            the JSON API and the web page.
    """

    model_config = SettingsConfigDict(
        env_prefix="DRAGOMAN_",
        env_nested_delimiter="__",
        extra="forbid",
        yaml_file=None,
    )

    host: str = "127.0.0.1"
    port: int = Field(default=50051, ge=0, le=65535)
    metrics_port: int = Field(default=0, ge=0, le=65535)
    models: list[ModelSettings] = Field(default_factory=list)
    default_model: str = ""
    limits: LimitSettings = Field(default_factory=LimitSettings)
    batching: BatchingSettings = Field(default_factory=BatchingSettings)
    workers: int = Field(default=64, ge=1)
    grace_period_s: float = Field(default=30.0, ge=0)
    warmup: bool = True
    log_format: Literal["json", "text"] = "json"
    log_level: str = "INFO"
    auth: AuthSettings = Field(default_factory=AuthSettings)
    rate_limit: RateLimitSettings = Field(default_factory=RateLimitSettings)
    tls: TLSSettings = Field(default_factory=TLSSettings)
    max_concurrent_rpcs: int = Field(default=0, ge=0)
    max_rpcs_per_caller: int = Field(default=0, ge=0)
    max_streams_per_caller: int = Field(default=0, ge=0)
    connections: ConnectionSettings = Field(default_factory=ConnectionSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    cache_url: str = ""
    cache_secret: SecretStr = SecretStr("")
    circuit_breaker: BreakerSettings = Field(default_factory=BreakerSettings)
    glossary_dir: str = ""
    models_dir: str = ""
    rollout: RolloutSettings = Field(default_factory=RolloutSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)

    @model_validator(mode="after")
    def _check_models(self) -> Settings:
        if not self.models and not self.models_dir:
            self.models = [ModelSettings(path=DEMO_MODEL)]
        names = [m.name for m in self.models]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(
                f"model names must be unique; {', '.join(duplicates)} appear more than once: "
                "give each model a name (NAME=DIR on the command line)"
            )
        if self.default_model and self.default_model not in names and not self.models_dir:
            raise ValueError(
                f"default_model {self.default_model!r} is not among the models: {', '.join(names)}"
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Flags (init arguments) > environment > YAML file > defaults."""
        return init_settings, env_settings, YamlConfigSettingsSource(settings_cls)

    @classmethod
    def load(cls, config_file: str | Path | None = None, **overrides: Any) -> Settings:
        """Builds settings from every source.

        Args:
            config_file: A YAML file; None reads none.
            **overrides: Values from flags; they win over everything else. Pass only
                the flags the user gave.

        Raises:
            FileNotFoundError: `config_file` does not exist.
            pydantic.ValidationError: A value is out of range or unknown.
        """
        if config_file is None:
            return cls(**overrides)
        path = Path(config_file)
        if not path.is_file():
            raise FileNotFoundError(f"config file {str(path)!r} does not exist")
        bound = type(
            cls.__name__,
            (cls,),
            {"model_config": SettingsConfigDict(**{**cls.model_config, "yaml_file": path})},
        )
        return bound(**overrides)
