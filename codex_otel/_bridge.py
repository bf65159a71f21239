"""structlog front end -> OpenTelemetry log records.

The event manager logs through a structlog bound logger carrying the shared
metadata. Its processor chain is the package's own (never the host's global
structlog configuration), and the logger it wraps is `OtelBridge`, which turns
each final event dict into exactly one OpenTelemetry log record.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import structlog
from opentelemetry._logs import SeverityNumber

from ._events import Attr

if TYPE_CHECKING:
    from opentelemetry._logs import Logger

__all__ = ["OtelBridge", "bound_logger", "rfc3339_millis"]

_INFO = SeverityNumber.INFO

# Events are INFO; the filtering class makes every other level a no-op.
_BoundLogger = structlog.make_filtering_bound_logger(logging.INFO)


class _SecondCache:
    """`YYYY-MM-DDTHH:MM:SS` of the last second seen: strftime once a second, not per event."""

    __slots__ = ("prefix", "second")

    def __init__(self) -> None:
        self.second = -1
        self.prefix = ""


_cache = _SecondCache()


def rfc3339_millis(time_ns: int) -> str:
    """RFC 3339 UTC with milliseconds, e.g. `2026-04-09T17:35:50.123Z`."""
    second, rest = divmod(time_ns, 1_000_000_000)
    cache = _cache
    if second != cache.second:
        # Build locally, then publish: threads may race here, each result is right.
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        cache.prefix, cache.second = prefix, second
    else:
        prefix = cache.prefix
    return f"{prefix}.{rest // 1_000_000:03d}Z"


def _wire_safe(text: str) -> str:
    """Text that encodes as UTF-8: a lone surrogate (from bytes decoded with surrogateescape)
    would fail the protobuf encoding of the whole batch it travels in."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


class OtelBridge:
    """The end of the chain: one structlog event dict -> one OpenTelemetry log record."""

    __slots__ = ("_logger",)

    def __init__(self, logger: Logger) -> None:
        self._logger = logger

    def info(self, event: str, **fields: Any) -> None:
        now = time.time_ns()
        attributes = {Attr.EVENT_NAME: event, Attr.EVENT_TIMESTAMP: rfc3339_millis(now)}
        attributes.update(fields)
        for key, value in attributes.items():
            if type(value) is str and not value.isascii():
                attributes[key] = _wire_safe(value)
        self._logger.emit(
            timestamp=now,
            observed_timestamp=now,
            severity_number=_INFO,
            severity_text="INFO",
            body=event,
            attributes=attributes,
            event_name=event,
        )


def bound_logger(logger: Logger, context: dict[str, Any]) -> Any:
    """A structlog bound logger over `logger`, carrying `context` on every event."""
    # structlog types the filtering class as a protocol; the class itself takes these.
    return _BoundLogger(OtelBridge(logger), processors=[], context=context)  # type: ignore[call-arg]
