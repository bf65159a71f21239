"""structlog front end -> OpenTelemetry log records.

The event manager logs through a structlog bound logger carrying the shared
metadata. Its processor chain is the package's own (never the host's global
structlog configuration), and the logger it wraps is `OtelBridge`, which turns
each event into exactly one OpenTelemetry log record: queued as it is on the events'
direct path (`_logs.DirectLogs`) while that path is open, else built for the SDK's
Logger.

Importing this module imports structlog (about 20 ms, asyncio included), so the
manager imports it only when there is an exporter.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import structlog
from opentelemetry.trace import get_current_span

from .catalog import Attr
from .export._private_sdk_logs import CleanRecords
from .export._records import SEVERITY, SEVERITY_TEXT, DirectRecord
from .export._sizes import clean_attributes_size, record_size

if TYPE_CHECKING:
    from opentelemetry._logs import Logger
    from opentelemetry.context import Context

    from ._logs import DirectLogs

__all__ = ["OtelBridge", "bound_logger", "rfc3339_millis"]

# What `event.name` and `event.timestamp` add to a record's size besides their values.
_STAMPS_SIZE = clean_attributes_size({Attr.EVENT_NAME: "", Attr.EVENT_TIMESTAMP: ""}) or 0


class _EventLogger(structlog.BoundLoggerBase):
    """A bound logger with the one level events use, written as structlog's custom wrappers are.

    `bind` and the context are structlog's. `info` runs the chain itself and hands the bridge
    the event dict: the generic path (`_proxy_to_logger` -> `_process_event` -> `logger.info(
    **event_dict)`) repacks every field as keyword arguments twice on the way, about 1 µs of an
    event's cost on the caller's thread. The context's wire size is estimated once, at the
    first event (`bind` and `unbind` build a new logger).
    """

    _context_size: int | None = None
    _context_sized = False

    def info(self, event: str, **fields: Any) -> None:
        self.info_in(None, event, fields)

    def info_in(self, context: Context | None, event: str, fields: dict[str, Any]) -> None:
        """`info`, the record carrying the trace and span id of `context`'s span (None: the
        current context's, as the SDK does). `fields` is made for this one event."""
        if self._processors:
            event_dict: Any = self._context.copy()
            event_dict.update(fields)
            for processor in self._processors:
                event_dict = processor(self._logger, "info", event_dict)
            self._logger.info(event, event_dict, context)
            return
        if not self._context_sized:
            self._context_size = clean_attributes_size(self._context)
            self._context_sized = True
        size = self._context_size
        if size is not None:
            fields_size = clean_attributes_size(fields)
            size = None if fields_size is None else size + fields_size
        bridge: OtelBridge = self._logger
        # The metadata and the fields stay apart on the direct path (the metadata is shared
        # by every event of this logger), which needs them not to share a key.
        if size is not None and bridge.direct_open() and fields.keys().isdisjoint(self._context):
            bridge.queue(event, self._context, fields, context, size)
            return
        event_dict = self._context.copy()
        event_dict.update(fields)
        bridge.info(event, event_dict, context, size)


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


def _stamp(attributes: dict[str, Any], event: str) -> tuple[int, int]:
    """Stamp `event.name` and `event.timestamp` on `attributes` (in place); the time in ns,
    and what the two add to the attributes' wire size."""
    now = time.time_ns()
    stamp = rfc3339_millis(now)
    attributes[Attr.EVENT_NAME] = event
    attributes[Attr.EVENT_TIMESTAMP] = stamp
    return now, _STAMPS_SIZE + len(event) + len(stamp)


class OtelBridge:
    """The end of the chain: one structlog event dict -> one OpenTelemetry log record, or
    one record queued on the events' direct path (`direct`)."""

    __slots__ = ("_direct", "_logger", "_records")

    def __init__(self, logger: Logger, direct: DirectLogs | None = None) -> None:
        self._logger = logger
        self._records = CleanRecords.for_logger(logger)
        self._direct = direct

    def direct_open(self) -> bool:
        direct = self._direct
        return direct is not None and direct.active

    def queue(
        self,
        event: str,
        metadata: dict[str, Any],
        fields: dict[str, Any],
        context: Context | None,
        size: int,
    ) -> None:
        """Queue `event` on the direct path: `metadata` (never changed once given here) and
        `fields` (made for this one event, stamped in place) are its attributes, of wire size
        `size`; the ids are those of `context`'s span."""
        direct = self._direct
        assert direct is not None
        now, stamps_size = _stamp(fields, event)
        origin = direct.origin
        limit = origin.max_attributes
        if type(event) is not str or (limit is not None and len(metadata) + len(fields) > limit):
            # What the SDK's Logger would cut or refuse, it does itself.
            self.info(event, {**metadata, **fields}, context)
            return
        # As the API's LogRecord reads them: an empty context means the current one.
        span = get_current_span(context or None).get_span_context()
        size += stamps_size
        record = DirectRecord(
            origin,
            now,
            span.trace_id,
            span.span_id,
            span.trace_flags,
            event,
            metadata,
            fields,
        )
        direct.offer(record, record_size(event, SEVERITY_TEXT, size))

    def info(
        self,
        event: str,
        attributes: dict[str, Any],
        context: Context | None = None,
        size: int | None = None,
    ) -> None:
        """Emit `event` with `attributes`, a dict made for this one event (stamped in place);
        the record's trace and span ids are those of `context`'s span. `size`: the wire size
        of `attributes` when each is text or a number (None: not known to be so)."""
        now, stamps_size = _stamp(attributes, event)
        records = self._records
        if (
            size is not None
            and records is not None
            and type(event) is str
            and (records.max_attributes is None or len(attributes) <= records.max_attributes)
        ):
            # Values the package made clean: the SDK's Logger gets its record built, and does
            # not clean every value again (about half of `Logger.emit`'s own cost).
            size += stamps_size
            records.emit(
                timestamp=now,
                context=context,
                severity_number=SEVERITY,
                severity_text=SEVERITY_TEXT,
                event_name=event,
                attributes=attributes,
                attributes_size=size,
            )
            return
        self._logger.emit(
            timestamp=now,
            observed_timestamp=now,
            severity_number=SEVERITY,
            severity_text=SEVERITY_TEXT,
            body=event,
            attributes=attributes,
            event_name=event,
            context=context,
        )


def bound_logger(logger: Logger, context: dict[str, Any], direct: DirectLogs | None = None) -> Any:
    """A structlog bound logger over `logger`, carrying `context` on every event; `direct`:
    the events' direct path, taken while it is open."""
    return _EventLogger(OtelBridge(logger, direct), processors=[], context=context)
