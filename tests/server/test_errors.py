"""The error table: every engine error has its canonical code; only bugs are INTERNAL."""

from __future__ import annotations

import inspect

import grpc
import pytest
from dragoman.engine import errors
from dragoman.server.errors import STATUS_BY_ERROR, status_for

EXPECTED = {
    errors.UnsupportedLanguage: grpc.StatusCode.INVALID_ARGUMENT,
    errors.InputTooLong: grpc.StatusCode.INVALID_ARGUMENT,
    errors.InvalidOption: grpc.StatusCode.INVALID_ARGUMENT,
    errors.InvalidRequest: grpc.StatusCode.INVALID_ARGUMENT,
    errors.ModelNotFound: grpc.StatusCode.NOT_FOUND,
    errors.Overloaded: grpc.StatusCode.RESOURCE_EXHAUSTED,
    errors.DeadlineExceeded: grpc.StatusCode.DEADLINE_EXCEEDED,
    errors.Cancelled: grpc.StatusCode.CANCELLED,
    errors.ShuttingDown: grpc.StatusCode.UNAVAILABLE,
}


@pytest.mark.parametrize(
    ("error", "code"), EXPECTED.items(), ids=[cls.__name__ for cls in EXPECTED]
)
def test_engine_errors_map_to_canonical_codes(
    error: type[errors.EngineError], code: grpc.StatusCode
) -> None:
    assert status_for(error("message")) == code


def test_every_engine_error_class_is_in_the_table() -> None:
    classes = {
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.EngineError)
    }
    assert classes == set(STATUS_BY_ERROR)
    internal = {cls for cls, code in STATUS_BY_ERROR.items() if code == grpc.StatusCode.INTERNAL}
    assert internal == {errors.EngineError}


def test_subclasses_inherit_and_bugs_are_internal() -> None:
    class NewLanguageProblem(errors.UnsupportedLanguage):
        pass

    assert status_for(NewLanguageProblem("x")) == grpc.StatusCode.INVALID_ARGUMENT
    assert status_for(KeyError("bug")) == grpc.StatusCode.INTERNAL
