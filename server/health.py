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
        self._set(health_pb2.HealthCheckResponse.NOT_SERVING)

    def set_serving(self) -> None:
        """Reports SERVING: the models are loaded and warmed up."""
        self._set(health_pb2.HealthCheckResponse.SERVING)

    def set_not_serving(self) -> None:
        """Reports NOT_SERVING."""
        self._set(health_pb2.HealthCheckResponse.NOT_SERVING)

    def enter_graceful_shutdown(self) -> None:
        """Reports NOT_SERVING for good; later changes are ignored."""
        self.servicer.enter_graceful_shutdown()

    def _set(self, status: health_pb2.HealthCheckResponse.ServingStatus.ValueType) -> None:
        for service in self._services:
            self.servicer.set(service, status)
