"""grpc.health.v1 for the server: NOT_SERVING until the models are warm, and again
from the moment shutdown begins."""

from __future__ import annotations

from collections.abc import Iterable

from grpc_health.v1 import health, health_pb2

from dragoman.translation.v1 import translation_service_pb2 as pb

#: The translation service's full name, as health checks and reflection spell it.
TRANSLATION_SERVICE = pb.DESCRIPTOR.services_by_name["TranslationService"].full_name


class Health:
    """The health service and the statuses it reports.

    The overall status ("") and every named service move together.
    """

    def __init__(self, services: Iterable[str] = (TRANSLATION_SERVICE,)) -> None:
        self.servicer = health.HealthServicer(experimental_non_blocking=True)
        self._services = ("", *services)
        self._shutting_down = False
        self._status: health_pb2.HealthCheckResponse.ServingStatus.ValueType = (
            health_pb2.HealthCheckResponse.NOT_SERVING
        )
        self._set(health_pb2.HealthCheckResponse.NOT_SERVING)

    @property
    def status(self) -> str:
        """What the health service reports now: `SERVING` or `NOT_SERVING`."""
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(self._status))

    @property
    def serving(self) -> bool:
        """True while the health service reports SERVING."""
        return self._status == health_pb2.HealthCheckResponse.SERVING

    def set_serving(self) -> None:
        """Reports SERVING: the models are loaded and warmed up."""
        self._set(health_pb2.HealthCheckResponse.SERVING)

    def set_not_serving(self) -> None:
        """Reports NOT_SERVING."""
        self._set(health_pb2.HealthCheckResponse.NOT_SERVING)

    def enter_graceful_shutdown(self) -> None:
        """Reports NOT_SERVING for good; later changes are ignored."""
        self._shutting_down = True
        self._status = health_pb2.HealthCheckResponse.NOT_SERVING
        self.servicer.enter_graceful_shutdown()

    def _set(self, status: health_pb2.HealthCheckResponse.ServingStatus.ValueType) -> None:
        if self._shutting_down:
            return
        self._status = status
        for service in self._services:
            self.servicer.set(service, status)
