"""Typed engine errors.

server/ maps each class to one canonical gRPC status code in a single table; the
message of every error says what the caller should change.
"""


class EngineError(Exception):
    """Base class of every error the engine raises on purpose."""


class InvalidRequest(EngineError):
    """The caller's request cannot be served as written (INVALID_ARGUMENT)."""


class UnsupportedLanguage(InvalidRequest):
    """A language code the model does not serve."""


class InputTooLong(InvalidRequest):
    """A text or request larger than the configured limits."""


class InvalidOption(InvalidRequest):
    """A decoding option out of its bounds."""


class InvalidMarkup(InvalidOption):
    """Markup (mime_type text/html or text/xml) that cannot be parsed as sent."""


class ModelNotFound(EngineError):
    """The request names a model that is not loaded (NOT_FOUND)."""


class Overloaded(EngineError):
    """The batcher queue is full (RESOURCE_EXHAUSTED)."""


class DeadlineExceeded(EngineError):
    """The caller's deadline passed before the work was done (DEADLINE_EXCEEDED)."""


class Cancelled(EngineError):
    """The caller went away (CANCELLED)."""


class ShuttingDown(EngineError):
    """The engine is draining and accepts no new work (UNAVAILABLE)."""


class CircuitOpen(EngineError):
    """Recent engine failures opened the circuit breaker; retry later (UNAVAILABLE)."""


class ModelLoadError(EngineError):
    """A model directory could not be loaded (raised at start-up, not per request)."""


class VersionExists(EngineError):
    """A model version with that name and label is already loaded (ALREADY_EXISTS)."""


class RolloutRefused(EngineError):
    """A model change that would break serving, e.g. unloading the default's last version
    (FAILED_PRECONDITION)."""


class NotEnoughMemory(ModelLoadError):
    """The machine lacks the memory to load a model version (RESOURCE_EXHAUSTED)."""


class BadModelDirectory(ModelLoadError, InvalidRequest):
    """A directory that is not a finished, working model: missing, half-written, or
    failing its warm-up translation (INVALID_ARGUMENT)."""
