"""Logging set-up for `dragoman serve`: one JSON object per line, or plain text."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

#: LogRecord attributes that every record has; anything else came from `extra=`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message"}


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object: time, level, logger, message, extras."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class RequestIdFilter(logging.Filter):
    """Stamps records logged while an RPC is served with its request id.

    So every line about a request (a cache outage, an engine error) carries the id the
    caller sent or received in `x-request-id`, not only the interceptor's summary line.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Adds `request_id` when the record has none; never drops a record."""
        if not hasattr(record, "request_id"):
            from dragoman.server.interceptors import current_request_id

            request_id = current_request_id()
            if request_id:
                record.request_id = request_id
        return True


def _text_formatter() -> logging.Formatter:
    return logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")


#: log_format setting -> formatter factory.
FORMATTERS: dict[str, Callable[[], logging.Formatter]] = {
    "json": JsonFormatter,
    "text": _text_formatter,
}


def configure_logging(log_format: str = "json", level: str = "INFO") -> None:
    """Sends the root logger's records to stderr in `log_format`."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(FORMATTERS[log_format]())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
