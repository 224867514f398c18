"""Prometheus metrics: one table of every metric, the collectors, and the interceptor.

`METRICS` is the single list of metric names, types, labels and meanings; the README
table and the Grafana dashboard (deploy/grafana/dragoman.json) use exactly these
names, and a test checks both ways. `Metrics` owns a private registry (so tests can
run several servers), implements the engine's observer and the cache's observer,
listens to the circuit breaker, and counts rate-limit refusals through `on_reject`.
`MetricsInterceptor` counts RPCs by method, status code, model and language pair.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import grpc
from dragoman.engine.breaker import BreakerState
from dragoman.engine.cache import CacheObserver
from dragoman.engine.languages import LanguageTable
from dragoman.engine.observer import NullObserver
from dragoman.engine.registry import VersionObserver
from dragoman.engine.types import LanguageInfo
from dragoman.server.interceptors import Behavior, CallInterceptor
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    start_http_server,
)

logger = logging.getLogger(__name__)

#: Latency buckets (seconds): sub-millisecond cache hits up to slow CPU batches.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
#: Segments per CTranslate2 batch.
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


@dataclass(frozen=True)
class MetricSpec:
    """One documented metric.

    Attributes:
        name: The metric name without the `_total` suffix a counter gets on export.
        kind: "counter", "gauge" or "histogram".
        labels: Label names.
        help: What it measures (also the README table's text).
        buckets: Histogram buckets.
    """

    name: str
    kind: str
    labels: tuple[str, ...]
    help: str
    buckets: tuple[float, ...] = ()

    @property
    def exported(self) -> str:
        """The name as scraped (`_total` for counters)."""
        return f"{self.name}_total" if self.kind == "counter" else self.name


METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("dragoman_requests", "counter", ("rpc", "code", "model", "language_pair"),
               "RPCs finished, by method, status code, model and source->target pair"),
    MetricSpec("dragoman_request_duration_seconds", "histogram", ("rpc",),
               "Total RPC latency, as the server sees it", LATENCY_BUCKETS),
    MetricSpec("dragoman_in_flight_requests", "gauge", ("rpc",), "RPCs being served now"),
    MetricSpec("dragoman_queue_wait_seconds", "histogram", ("model",),
               "Time a segment waited in the batcher queue", LATENCY_BUCKETS),
    MetricSpec("dragoman_engine_duration_seconds", "histogram", ("model",),
               "Time CTranslate2 took for one batch", LATENCY_BUCKETS),
    MetricSpec("dragoman_batch_size", "histogram", ("model",),
               "Segments per CTranslate2 batch", BATCH_BUCKETS),
    MetricSpec("dragoman_queue_depth", "gauge", ("model",), "Segments waiting in the queue"),
    MetricSpec("dragoman_tokens_in", "counter", ("model",), "Source tokens translated"),
    MetricSpec("dragoman_tokens_out", "counter", ("model",), "Target tokens generated"),
    MetricSpec("dragoman_cache_hits", "counter", ("backend",), "Segments served from the cache"),
    MetricSpec("dragoman_cache_misses", "counter", ("backend",),
               "Segments looked up and not found (including lookups skipped while down)"),
    MetricSpec("dragoman_cache_errors", "counter", ("backend", "operation"),
               "Failed cache operations (get, set, clear, stats)"),
    MetricSpec("dragoman_cache_bypassed", "counter", ("backend", "operation"),
               "Segments not looked up or stored because the cache was down"),
    MetricSpec("dragoman_cache_rejected", "counter", ("backend",),
               "Cached values refused because they failed authentication (forged or corrupt)"),
    MetricSpec("dragoman_cache_up", "gauge", ("backend",),
               "1 while the cache back-end answers, 0 while it is bypassed"),
    MetricSpec("dragoman_rate_limited", "counter", ("rpc", "limit"),
               "RPCs refused with RESOURCE_EXHAUSTED by a rate limit"),
    MetricSpec("dragoman_circuit_breaker_state", "gauge", (),
               "Circuit breaker: 0 closed, 1 half-open, 2 open"),
    MetricSpec("dragoman_circuit_breaker_opened", "counter", (),
               "Times the circuit breaker opened"),
    MetricSpec("dragoman_model_load_seconds", "gauge", ("model",),
               "Seconds it took to load the model"),
)  # fmt: skip

# --- model versions (lifecycle) ---------------------------------------------------------
# Labels `model` (the name) and `version` take only loaded versions' values: a version's
# series are removed when it is unloaded, so rollouts do not grow the label set.
VERSION_METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("dragoman_version_requests", "counter", ("model", "version", "outcome"),
               "Engine calls per model version, by outcome (ok, invalid, deadline, "
               "cancelled, overloaded, error)"),
    MetricSpec("dragoman_version_duration_seconds", "histogram", ("model", "version"),
               "Engine time of a call on each model version", LATENCY_BUCKETS),
    MetricSpec("dragoman_version_batch_size", "histogram", ("model", "version"),
               "Segments per CTranslate2 batch, per model version", BATCH_BUCKETS),
    MetricSpec("dragoman_version_traffic_weight", "gauge", ("model", "version"),
               "Percent of a model name's traffic routed to each version"),
)  # fmt: skip
METRICS += VERSION_METRICS

_FACTORIES: dict[str, Callable[[MetricSpec, CollectorRegistry], Any]] = {
    "counter": lambda s, r: Counter(s.name, s.help, s.labels, registry=r),
    "gauge": lambda s, r: Gauge(s.name, s.help, s.labels, registry=r),
    "histogram": lambda s, r: Histogram(s.name, s.help, s.labels, registry=r, buckets=s.buckets),
}

#: Where no model or language pair applies (or the call failed before one was known).
NONE = "-"


class Metrics(NullObserver, CacheObserver, VersionObserver):
    """Every dragoman metric in one registry, fed by the engine, cache, breaker and RPCs."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        """Creates the metrics in `registry` (a new private one by default)."""
        self.registry = registry or CollectorRegistry()
        self._metrics: dict[str, Any] = {
            spec.name: _FACTORIES[spec.kind](spec, self.registry) for spec in METRICS
        }
        self.get("dragoman_circuit_breaker_state").set(0)
        #: Batcher name (version key) -> (model name, version) of loaded versions.
        self._versions: dict[str, tuple[str, str]] = {}
        #: Canonical label values (set once the engine exists); None labels nothing.
        self.label_values: LabelValues | None = None

    def get(self, name: str) -> Any:
        """The collector of metric `name` (as in `METRICS`)."""
        return self._metrics[name]

    def serve(self, port: int, host: str = "127.0.0.1", process: bool = False) -> int:
        """Serves `/metrics` over HTTP on a daemon thread; returns the bound port.

        Args:
            port: Port to listen on; 0 picks a free one.
            host: Address to listen on.
            process: Also export the process, platform and GC metrics (once per process).
        """
        if process:
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
            GCCollector(registry=self.registry)
        httpd, _ = start_http_server(port, addr=host, registry=self.registry)
        bound = int(httpd.server_port)
        logger.info("metrics on http://%s:%d/metrics", host, bound)
        return bound

    # --- engine observer -----------------------------------------------------------

    def on_batch(
        self, model: str, size: int, tokens_in: int, tokens_out: int, seconds: float
    ) -> None:
        """Records one CTranslate2 batch."""
        self.get("dragoman_batch_size").labels(model).observe(size)
        self.get("dragoman_engine_duration_seconds").labels(model).observe(seconds)
        self.get("dragoman_tokens_in").labels(model).inc(tokens_in)
        self.get("dragoman_tokens_out").labels(model).inc(tokens_out)
        version = self._versions.get(model)
        if version is not None:
            self.get("dragoman_version_batch_size").labels(*version).observe(size)

    def on_queue_wait(self, model: str, seconds: float) -> None:
        """Records a segment's wait in the queue."""
        self.get("dragoman_queue_wait_seconds").labels(model).observe(seconds)

    def on_queue_depth(self, model: str, depth: int) -> None:
        """Sets the queue depth of `model`."""
        self.get("dragoman_queue_depth").labels(model).set(depth)

    def on_model_load(self, model: str, seconds: float) -> None:
        """Records how long loading `model` took."""
        self.get("dragoman_model_load_seconds").labels(model).set(seconds)

    # --- version observer (lifecycle) -----------------------------------------------

    def on_version_loaded(self, name: str, version: str, key: str) -> None:
        """Starts the version's series."""
        self._versions[key] = (name, version)
        for outcome in ("ok", "error"):
            self.get("dragoman_version_requests").labels(name, version, outcome)

    def on_version_unloaded(self, name: str, version: str, key: str) -> None:
        """Removes every series of the version, so labels stay the loaded versions."""
        self._versions.pop(key, None)
        for spec in METRICS:
            if "model" not in spec.labels:
                continue
            if spec in VERSION_METRICS:
                _forget(self.get(spec.name), model=name, version=version)
            else:
                for label in {key, f"{name}@{version}"}:
                    _forget(self.get(spec.name), model=label)

    def on_weights(self, name: str, weights: Mapping[str, int]) -> None:
        """Sets the traffic weight gauge of each version of `name`."""
        for version, weight in weights.items():
            self.get("dragoman_version_traffic_weight").labels(name, version).set(weight)

    def on_version_call(self, name: str, version: str, seconds: float, outcome: str) -> None:
        """Counts and times one engine call on a version."""
        if (name, version) not in self._versions.values():
            return  # a call that ended after its version was unloaded
        self.get("dragoman_version_requests").labels(name, version, outcome).inc()
        self.get("dragoman_version_duration_seconds").labels(name, version).observe(seconds)

    # --- cache observer ------------------------------------------------------------

    def on_lookup(self, backend: str, hits: int, misses: int) -> None:
        """Counts the hits and misses of one lookup."""
        self.get("dragoman_cache_hits").labels(backend).inc(hits)
        self.get("dragoman_cache_misses").labels(backend).inc(misses)

    def on_error(self, backend: str, operation: str) -> None:
        """Counts a failed cache operation."""
        self.get("dragoman_cache_errors").labels(backend, operation).inc()

    def on_bypass(self, backend: str, operation: str, count: int) -> None:
        """Counts segments skipped while the cache was down."""
        self.get("dragoman_cache_bypassed").labels(backend, operation).inc(count)

    def on_availability(self, backend: str, available: bool) -> None:
        """Sets the cache's up gauge."""
        self.get("dragoman_cache_up").labels(backend).set(1 if available else 0)

    def on_rejected(self, backend: str, count: int) -> None:
        """Counts cached values refused by their seal."""
        self.get("dragoman_cache_rejected").labels(backend).inc(count)

    def cache_attached(self, backend: str) -> None:
        """Creates the cache series at zero, so dashboards show them before traffic."""
        self.get("dragoman_cache_hits").labels(backend)
        self.get("dragoman_cache_misses").labels(backend)
        self.get("dragoman_cache_up").labels(backend).set(1)

    # --- breaker, rate limits -------------------------------------------------------

    def on_breaker_state(self, state: BreakerState) -> None:
        """Breaker listener: sets the state gauge, counts openings."""
        self.get("dragoman_circuit_breaker_state").set(int(state))
        if state is BreakerState.OPEN:
            self.get("dragoman_circuit_breaker_opened").inc()

    def on_reject(self, method: str, limit: str) -> None:
        """Rate-limit hook (`server.access.RejectHook`): counts one refusal."""
        self.get("dragoman_rate_limited").labels(rpc_name(method), limit).inc()

    def call(self, method: str) -> CallRecord:
        """Starts counting one call of `method` (in flight until `CallRecord.end`)."""
        return CallRecord(self, method)


def _forget(metric: Any, **labels: str) -> None:
    """Removes the series of `metric` whose labels include `labels`.

    prometheus_client has no public way to list a metric's series; `_metrics` (label
    values -> child) is what its own `remove` and `clear` use.
    """
    names = list(metric._labelnames)
    wanted = [(names.index(k), v) for k, v in labels.items()]
    with metric._lock:
        keys = [k for k in metric._metrics if all(k[i] == v for i, v in wanted)]
    for key in keys:
        metric.remove(*key)


def rpc_name(method: str) -> str:
    """`/dragoman.translation.v1.TranslationService/TranslateText` -> `TranslateText`."""
    return method.rsplit("/", 1)[-1] or method


# --- the RPC interceptor -----------------------------------------------------------------

#: The label value of a model or language code that is not one of the loaded models'.
INVALID = "invalid"


class LabelValues:
    """Canonical label values: loaded model names and their own language codes.

    Label values must stay a bounded set whatever callers send: a code is reported as
    the model's own code it resolves to (`en`, `EN-us`, `en-x000001` -> `eng_Latn`),
    anything else as `invalid`; a model that is not loaded as `invalid`.

    Args:
        models: The engine's `list_models` (asked at each call: models come and go).
        languages: The engine's `list_languages(model)`.
    """

    def __init__(
        self,
        models: Callable[[], Iterable[Any]],
        languages: Callable[[str], Iterable[LanguageInfo]],
    ) -> None:
        self._models, self._languages = models, languages
        self._tables: dict[tuple[str, tuple[str, ...]], LanguageTable] = {}

    def model(self, name: str) -> str:
        """`name` (`name@version` too) when it is a loaded model, else `invalid`."""
        return name if self._table(name) is not None else INVALID

    def code(self, model: str, code: str) -> str:
        """The model's own code for `code`, else `invalid`."""
        table = self._table(model)
        found = table.lookup(code) if table is not None and code else None
        return found or INVALID

    def _table(self, model: str) -> LanguageTable | None:
        name = model.partition("@")[0]  # responses name versioned models `name@version`
        codes = {info.name: tuple(info.language_codes) for info in self._models()}
        if name not in codes:
            return None
        key = (name, codes[name])
        table = self._tables.get(key)
        if table is None:
            if len(self._tables) > 64:  # models reloaded many times: start over
                self._tables.clear()
            table = self._tables[key] = LanguageTable(self._languages(name))
        return table


Labeler = Callable[[Any, Any], tuple[str, str]]


def _translate_labels(request: Any, response: Any) -> tuple[str, str]:
    first = response.translations[0]  # the source is the one the server resolved
    return first.model, f"{first.detected_language_code}->{request.target_language_code}"


def _stream_labels(request: Any, response: Any) -> tuple[str, str]:
    target = request.config.target_language_code
    return response.model, f"{response.detected_language_code}->{target}"


#: Method -> labeler of (model, `source->target`) from the first request message and the
#: first response, as sent; `CallRecord.end` keeps only canonical values (`LabelValues`).
LABELERS: dict[str, Labeler] = {
    "/dragoman.translation.v1.TranslationService/TranslateText": _translate_labels,
    "/dragoman.translation.v1.TranslationService/StreamTranslateText": _stream_labels,
}

_EXEMPT = ("/grpc.health.v1.", "/grpc.reflection.")


class CallRecord:
    """Book-keeping of one call, gRPC or HTTP: timing, labels, and the final count.

    `Metrics.call(method)` starts one; the HTTP front end sets `labels` and calls `end`.
    """

    def __init__(self, metrics: Metrics, method: str) -> None:
        self.metrics, self.method, self.rpc = metrics, method, rpc_name(method)
        self.labeler = LABELERS.get(method)
        self.first_request: Any = None
        self.labels = (NONE, NONE)
        self.start = time.perf_counter()
        metrics.get("dragoman_in_flight_requests").labels(self.rpc).inc()

    def watch(self, requests: Iterator[Any]) -> Iterator[Any]:
        """`requests`, remembering the first (for the labels)."""
        for request in requests:
            if self.first_request is None:
                self.first_request = request
            yield request

    def response(self, request: Any, response: Any) -> None:
        """Labels the call from its first request and a response (once)."""
        if self.labeler is None or request is None or self.labels != (NONE, NONE):
            return
        try:
            self.labels = self.labeler(request, response)
        except (AttributeError, IndexError, TypeError, ValueError):
            logger.debug("no metric labels for %s", self.method, exc_info=True)

    def _canonical(self) -> tuple[str, str]:
        """`labels` with only loaded models and their own codes (`invalid` otherwise).

        Every transport's labels pass here, so whatever a caller sent, the label values
        stay a bounded set.
        """
        values = self.metrics.label_values
        model, pair = self.labels
        if values is None or (model, pair) == (NONE, NONE):
            return NONE, NONE
        source, _, target = pair.partition("->")
        return values.model(model), f"{values.code(model, source)}->{values.code(model, target)}"

    @contextmanager
    def counting(self, context: grpc.ServicerContext) -> Iterator[None]:
        """Counts the RPC when the block ends, with the exception that ended it, if any."""
        error: BaseException | None = None
        try:
            yield
        except BaseException as exc:
            error = exc
            raise
        finally:
            self.finish(context, error)

    def finish(self, context: grpc.ServicerContext, error: BaseException | None) -> None:
        code = context.code()
        if code is not None:
            name = str(code.name)
        elif isinstance(error, GeneratorExit) or (error is None and not context.is_active()):
            name = "CANCELLED"  # the caller went away mid-stream
        else:
            name = "UNKNOWN" if error is not None else "OK"
        self.end(name)

    def end(self, name: str) -> None:
        """Counts the call as ended with status code `name` (`OK`, `INVALID_ARGUMENT`, ...)."""
        model, pair = self._canonical() if name == "OK" else (NONE, NONE)
        m = self.metrics
        m.get("dragoman_in_flight_requests").labels(self.rpc).dec()
        m.get("dragoman_requests").labels(self.rpc, name, model, pair).inc()
        elapsed = time.perf_counter() - self.start
        m.get("dragoman_request_duration_seconds").labels(self.rpc).observe(elapsed)


class MetricsInterceptor(CallInterceptor):
    """Counts and times every RPC except health checks and reflection (an edge layer)."""

    def __init__(self, metrics: Metrics) -> None:
        """Feeds `metrics`."""
        self._metrics = metrics

    def applies_to(self, method: str) -> bool:
        """Everything but health checks and reflection."""
        return not method.startswith(_EXEMPT)

    def layer(self, behavior: Behavior, method: str, handler: grpc.RpcMethodHandler) -> Behavior:
        """`behavior`, counted and timed."""
        if not self.applies_to(method):
            return behavior
        metrics = self._metrics
        if handler.response_streaming:

            def stream(requests: Iterator[Any], context: grpc.ServicerContext) -> Iterator[Any]:
                call = CallRecord(metrics, method)
                with call.counting(context):
                    for response in behavior(call.watch(requests), context):
                        call.response(call.first_request, response)
                        yield response

            return stream

        def unary(requests: Iterator[Any], context: grpc.ServicerContext) -> Any:
            call = CallRecord(metrics, method)
            with call.counting(context):
                response = behavior(call.watch(requests), context)
                call.response(call.first_request, response)
                return response

        return unary
