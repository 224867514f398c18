"""AdminService's model lifecycle RPCs: list, load, unload and route model versions.

`ModelAdmin` is mixed into `AdminServicer`; it works on the engine's `ModelRegistry`.
Every change is logged with the caller's request id. Engine errors map to status codes
through the one table in `server/errors.py` (a bad directory is INVALID_ARGUMENT, a
version that exists ALREADY_EXISTS, too little memory RESOURCE_EXHAUSTED, a refused
change FAILED_PRECONDITION), and a refused change leaves the served models as they were.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import grpc
from dragoman.engine.errors import InvalidRequest
from dragoman.engine.types import VersionInfo
from dragoman.server.errors import engine_errors
from dragoman.server.interceptors import current_request_id

from dragoman.admin.v1 import admin_service_pb2 as pb

if TYPE_CHECKING:
    from dragoman.engine.registry import ModelRegistry

logger = logging.getLogger(__name__)

#: Drain time of UnloadModel when the request gives none.
DEFAULT_DRAIN_TIMEOUT_S = 30.0
_STATES = {"ready": pb.MODEL_VERSION_STATE_READY, "draining": pb.MODEL_VERSION_STATE_DRAINING}


def version_to_proto(info: VersionInfo) -> pb.ModelVersion:
    """One version as the admin API's `ModelVersion`."""
    return pb.ModelVersion(
        version=info.version,
        model=info.label,
        state=_STATES[info.state],
        weight=info.weight,
        live=info.live,
        directory=info.directory,
        in_flight=info.in_flight,
        load_seconds=info.load_seconds,
        warmup_seconds=info.warmup_seconds,
    )


def status_to_proto(registry: ModelRegistry, name: str) -> pb.ModelStatus | None:
    """A name and its versions; None when nothing of it is loaded."""
    versions = registry.versions(name)
    if not versions:
        return None
    live = next((v.version for v in versions if v.live), "")
    return pb.ModelStatus(
        name=name,
        default=name == registry.default_name,
        live_version=live,
        versions=[version_to_proto(v) for v in versions],
    )


def _required(**fields: str) -> None:
    missing = [name for name, value in fields.items() if not value.strip()]
    if missing:
        raise InvalidRequest(f"{', '.join(missing)} required: see `dragoman admin models --help`")


class ModelAdmin:
    """The model RPCs of AdminService (a mixin; `self._models` is the registry or None)."""

    _models: ModelRegistry | None

    def ListModels(
        self, request: pb.ListModelsRequest, context: grpc.ServicerContext
    ) -> pb.ListModelsResponse:
        """Every model name with its versions."""
        registry = self._registry(context)
        statuses = [status_to_proto(registry, name) for name in registry.names()]
        return pb.ListModelsResponse(models=[s for s in statuses if s is not None])

    def LoadModel(
        self, request: pb.LoadModelRequest, context: grpc.ServicerContext
    ) -> pb.LoadModelResponse:
        """Loads, checks and warms a version; it takes traffic only when routed to."""
        registry = self._registry(context)
        with engine_errors(context, current_request_id()):
            _required(name=request.name, version=request.version, directory=request.directory)
            logger.info(
                "admin: loading %s@%s from %s (promote=%s)",
                request.name, request.version, request.directory, request.promote,
            )  # fmt: skip
            registry.add(request.name, request.version, request.directory, request.promote)
            return pb.LoadModelResponse(model=status_to_proto(registry, request.name))

    def UnloadModel(
        self, request: pb.UnloadModelRequest, context: grpc.ServicerContext
    ) -> pb.UnloadModelResponse:
        """Drains a version, then frees it."""
        registry = self._registry(context)
        with engine_errors(context, current_request_id()):
            _required(name=request.name, version=request.version)
            timeout = request.drain_timeout_seconds
            if timeout < 0:
                raise InvalidRequest("drain_timeout_seconds must be >= 0 (0 means 30)")
            logger.info("admin: unloading %s@%s", request.name, request.version)
            freed = registry.unload(
                request.name, request.version, timeout or DEFAULT_DRAIN_TIMEOUT_S
            )
            return pb.UnloadModelResponse(
                freed=freed, model=status_to_proto(registry, request.name)
            )

    def SetTrafficSplit(
        self, request: pb.SetTrafficSplitRequest, context: grpc.ServicerContext
    ) -> pb.SetTrafficSplitResponse:
        """Sets the name's weights per version."""
        registry = self._registry(context)
        with engine_errors(context, current_request_id()):
            _required(name=request.name)
            logger.info("admin: traffic split of %s -> %s", request.name, dict(request.weights))
            registry.set_weights(request.name, dict(request.weights))
            return pb.SetTrafficSplitResponse(model=status_to_proto(registry, request.name))

    def _registry(self, context: grpc.ServicerContext) -> ModelRegistry:
        if self._models is None:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, "this server serves no models")
        assert self._models is not None
        return self._models
