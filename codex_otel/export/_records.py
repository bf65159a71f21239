"""Events queued straight from the caller's thread, and the SDK records they stand for.

On the events' direct path (no processor but the package's own on its LoggerProvider), an
event is queued as a `DirectRecord`: its stamps, its span's ids and the two dicts it is made
of, the manager's metadata (one dict shared by every event of that manager) and the event's
own fields. The OTLP encoder writes one as it is; for any other exporter `readable` builds the
`ReadableLogRecord` the SDK's Logger and batch processor would have handed over.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.context import Context
from opentelemetry.sdk._logs import ReadableLogRecord

from ._private_sdk_logs import clean_attributes

if TYPE_CHECKING:
    from opentelemetry.sdk._logs import Logger, LogRecordLimits
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope
    from opentelemetry.trace import TraceFlags

__all__ = ["SEVERITY", "SEVERITY_TEXT", "DirectRecord", "LogOrigin", "readable", "readables"]

# Every event of the catalog is logged at INFO.
SEVERITY = SeverityNumber.INFO
SEVERITY_TEXT = "INFO"


class LogOrigin:
    """What every record of one SDK Logger shares: its resource, scope and limits. The
    resource is read from the logger each time: in a forked child the SDK gives its loggers
    one of the child's own (a new `service.instance.id`)."""

    __slots__ = ("_logger", "limits", "max_attributes", "scope")

    def __init__(self, logger: Logger, limits: LogRecordLimits) -> None:
        self._logger = logger
        self.scope: InstrumentationScope | None = logger.instrumentation_scope
        self.limits = limits
        self.max_attributes: int | None = limits.max_log_record_attributes

    @property
    def resource(self) -> Resource:
        resource: Resource = self._logger.resource
        return resource


class DirectRecord:
    """One event: attributes are `context`'s then `fields`' (their keys never overlap), the
    body and event name are `event_name`, the severity INFO, both timestamps `timestamp`."""

    __slots__ = (
        "context",
        "event_name",
        "fields",
        "origin",
        "span_id",
        "timestamp",
        "trace_flags",
        "trace_id",
    )

    def __init__(
        self,
        origin: LogOrigin,
        timestamp: int,
        trace_id: int,
        span_id: int,
        trace_flags: TraceFlags,
        event_name: str,
        context: dict[str, Any],
        fields: dict[str, Any],
    ) -> None:
        self.origin = origin
        self.timestamp = timestamp
        self.trace_id = trace_id
        self.span_id = span_id
        self.trace_flags = trace_flags
        self.event_name = event_name
        self.context = context
        self.fields = fields


def readable(record: DirectRecord) -> ReadableLogRecord:
    """The record the SDK's Logger and batch processor would have passed to the exporter."""
    origin = record.origin
    log_record = LogRecord(
        timestamp=record.timestamp,
        observed_timestamp=record.timestamp,
        severity_text=SEVERITY_TEXT,
        severity_number=SEVERITY,
        body=record.event_name,
        event_name=record.event_name,
    )
    # The ids of the span current on the caller's thread, not this one's; and, as the SDK's
    # batch processor keeps it, no context.
    log_record.trace_id = record.trace_id
    log_record.span_id = record.span_id
    log_record.trace_flags = record.trace_flags
    log_record.context = Context()
    # Their size is the record's, not the attributes' alone: left to be estimated anew.
    log_record.attributes = clean_attributes(
        {**record.context, **record.fields}, origin.max_attributes, None
    )
    return ReadableLogRecord(
        log_record=log_record,
        resource=origin.resource,
        instrumentation_scope=origin.scope,
        limits=origin.limits,
    )


def readables(chunk: list[Any]) -> list[Any]:
    """`chunk` with each `DirectRecord` as its `ReadableLogRecord`."""
    return [readable(item) if type(item) is DirectRecord else item for item in chunk]
