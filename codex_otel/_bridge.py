"""structlog front end -> OpenTelemetry log records.

The event manager logs through a structlog bound logger carrying the shared
metadata. Its processor chain is the package's own (never the host's global
structlog configuration), and the logger it wraps is `OtelBridge`, which turns
each final event dict into exactly one OpenTelemetry log record.

Importing this module imports structlog (about 20 ms, asyncio included), so the
manager imports it only when there is an exporter.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import structlog
from opentelemetry._logs import SeverityNumber

from .catalog import Attr

if TYPE_CHECKING:
    from opentelemetry._logs import Logger
    from opentelemetry.context import Context

__all__ = ["OtelBridge", "bound_logger", "rfc3339_millis"]

_INFO = SeverityNumber.INFO


class _EventLogger(structlog.BoundLoggerBase):
    """A bound logger with the one level events use, written as structlog's custom wrappers are.

    `bind` and the context are structlog's. `info` runs the chain itself and hands the bridge
    the event dict: the generic path (`_proxy_to_logger` -> `_process_event` -> `logger.info(
    **event_dict)`) repacks every field as keyword arguments twice on the way, about 1 µs of an
    event's cost on the caller's thread.
    """

    def info(self, event: str, **fields: Any) -> None:
        # Any, as in structlog: a processor may return more than a dict (ours return dicts).
        event_dict: Any = self._context.copy()
        event_dict.update(fields)
        for processor in self._processors:
            event_dict = processor(self._logger, "info", event_dict)
        self._logger.info(event, event_dict)

    def info_in(self, context: Context | None, event: str, fields: dict[str, Any]) -> None:
        """`info`, the record carrying the trace and span id of `context`'s span (None: the
        current context's, as the SDK does)."""
        event_dict: Any = self._context.copy()
        event_dict.update(fields)
        for processor in self._processors:
            event_dict = processor(self._logger, "info", event_dict)
        self._logger.info(event, event_dict, context)


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


class OtelBridge:
    """The end of the chain: one structlog event dict -> one OpenTelemetry log record."""

    __slots__ = ("_logger",)

    def __init__(self, logger: Logger) -> None:
        self._logger = logger

    def info(self, event: str, attributes: dict[str, Any], context: Context | None = None) -> None:
        """Emit `event` with `attributes`, a dict made for this one event (stamped in place);
        the record's trace and span ids are those of `context`'s span."""
        now = time.time_ns()
        attributes[Attr.EVENT_NAME] = event
        attributes[Attr.EVENT_TIMESTAMP] = rfc3339_millis(now)
        self._logger.emit(
            timestamp=now,
            observed_timestamp=now,
            severity_number=_INFO,
            severity_text="INFO",
            body=event,
            attributes=attributes,
            event_name=event,
            context=context,
        )


def bound_logger(logger: Logger, context: dict[str, Any]) -> Any:
    """A structlog bound logger over `logger`, carrying `context` on every event."""
    return _EventLogger(OtelBridge(logger), processors=[], context=context)
