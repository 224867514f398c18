"""Request bodies of the compatible APIs: JSON or form-encoded, read one way.

LibreTranslate and DeepL clients send the same fields as a JSON object, as
`application/x-www-form-urlencoded` or as `multipart/form-data`; `read_fields` gives
the routes one `Fields` view of any of them (query parameters included, as Flask's
`request.values` does), and turns every malformed body into an INVALID_ARGUMENT.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import grpc
from dragoman.server.http.errors import CallError
from starlette.requests import Request

_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
#: Most fields a form may carry (a repeated field counts once per value).
MAX_FORM_FIELDS = 10_000
#: Largest multipart field (the body as a whole is bounded by `limits.max_message_bytes`).
MAX_PART_BYTES = 64 * 1024 * 1024


def _bad(message: str) -> CallError:
    return CallError(grpc.StatusCode.INVALID_ARGUMENT, message)


class Fields:
    """The fields of one request, whatever their encoding.

    Args:
        values: Field name -> its values, in order (one value unless repeated).
        json_body: True when they came from a JSON object (values keep their types).
    """

    def __init__(self, values: Mapping[str, list[Any]], json_body: bool = False) -> None:
        self._values = dict(values)
        self.json = json_body

    def __contains__(self, name: str) -> bool:
        return name in self._values

    def get(self, name: str, default: Any = None) -> Any:
        """The field's first value (a JSON value keeps its type), or `default`."""
        values = self._values.get(name)
        return values[0] if values else default

    def getlist(self, name: str) -> list[Any]:
        """Every value of a repeated form field, or a JSON array's items."""
        values = self._values.get(name, [])
        if self.json and len(values) == 1 and isinstance(values[0], list):
            return list(values[0])
        return list(values)

    def text(self, name: str, default: str = "") -> str:
        """A field that must be a string when given."""
        value = self.get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise _bad(f"Invalid request: {name} must be a string, got {type(value).__name__}")
        return str(value)

    def integer(self, name: str, default: int = 0) -> int:
        """A field that must be a whole number when given."""
        value = self.get(name)
        if value is None or value == "":
            return default
        try:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(value)
        except (TypeError, ValueError):
            raise _bad(f"Invalid request: {name} parameter is not a number") from None

    def flag(self, name: str, default: bool = False) -> bool:
        """A boolean field: JSON true/false, or `1`/`0`/`true`/`false` in a form."""
        value = self.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise _bad(f"Invalid request: {name} must be true or false (or 1 or 0), got {value!r}")


async def read_fields(request: Request) -> Fields:
    """The request's fields from its query string and its JSON or form body.

    Raises:
        CallError: INVALID_ARGUMENT for bad JSON, a JSON body that is not an object, or a
            body in any other content type.
    """
    query: dict[str, list[Any]] = {}
    for key, value in request.query_params.multi_items():
        query.setdefault(key, []).append(value)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    if content_type == "application/json" or content_type.endswith("+json"):
        return Fields({**query, **_json_fields(body)}, json_body=True)
    if content_type in _FORMS:
        form = await request.form(
            max_files=0, max_fields=MAX_FORM_FIELDS, max_part_size=MAX_PART_BYTES
        )
        values: dict[str, list[Any]] = {}
        for key, item in form.multi_items():
            if not isinstance(item, str):
                raise _bad(f"Invalid request: {key} must be a field, not a file")
            values.setdefault(key, []).append(item)
        return Fields({**query, **values})
    if body.strip():
        raise _bad(
            f"Invalid request: unsupported content type {content_type or '(none)'!r}; send "
            "application/json or application/x-www-form-urlencoded"
        )
    return Fields(query)


def _json_fields(body: bytes) -> dict[str, list[Any]]:
    try:
        data = json.loads(body or b"{}")
    except (UnicodeDecodeError, ValueError) as error:
        raise _bad(f"Invalid JSON format: {error}") from None
    if not isinstance(data, dict):
        raise _bad(f"Invalid JSON format: expected an object, got {type(data).__name__}")
    return {key: [value] for key, value in data.items()}
