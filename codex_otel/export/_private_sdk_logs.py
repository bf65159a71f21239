"""The private attributes of the OpenTelemetry logs SDK this package touches: records built
from attributes already clean, without the SDK cleaning them again.

The `export/_private_*.py` modules are the only place this package touches private
attributes of other libraries (`tests/test_layout_private.py` keeps it so): each names what it
touches, and its test (here `tests/test_private_sdk_logs.py`) fails if a release inside the
pinned range renames one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk._logs import Logger as SdkLogger
from opentelemetry.sdk._logs import ReadWriteLogRecord

if TYPE_CHECKING:
    from opentelemetry.context import Context

__all__ = [
    "ATTRIBUTES_DICT",
    "LOGGER_LIMITS",
    "CleanRecords",
    "SizedAttributes",
    "clean_attributes",
]

# `BoundedAttributes._dict`, the plain dict behind one. The SDK's own `__deepcopy__` fills it
# directly so that values already clean are not cleaned again; `CleanRecords` does the same.
ATTRIBUTES_DICT = "_dict"
# `Logger._log_record_limits`: the limits the SDK's Logger gives every record it builds.
LOGGER_LIMITS = "_log_record_limits"


class SizedAttributes(BoundedAttributes):
    """A record's attributes, made clean by this package, with their estimated wire size
    (`wire_size`, None once a processor changes them: the size is then estimated anew)."""

    wire_size: int | None

    def __setitem__(self, key: str, value: Any) -> None:
        self.wire_size = None
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.wire_size = None
        super().__delitem__(key)


def clean_attributes(
    attributes: dict[str, Any], max_attributes: int | None, wire_size: int | None
) -> SizedAttributes:
    """A record's attributes holding `attributes` as they are (text, numbers and booleans only,
    at most `max_attributes`): what the SDK builds from them, without cleaning them again."""
    clean = SizedAttributes(maxlen=max_attributes, immutable=False, max_value_len=None)
    setattr(clean, ATTRIBUTES_DICT, attributes)
    clean.wire_size = wire_size
    return clean


class CleanRecords:
    """Builds the SDK log records `Logger.emit` would build, for attributes this package made
    clean (text and numbers only, within the limits), without the SDK cleaning them again.

    `Logger.emit(record)` takes a `ReadWriteLogRecord` as it is: processors, users' own
    included, and exporters see an ordinary SDK record. `for_logger` returns None where the
    shortcut would not build the same record (not an SDK Logger, or limits that cut values).
    """

    __slots__ = ("limits", "logger", "max_attributes")

    def __init__(self, logger: SdkLogger, limits: Any) -> None:
        self.logger = logger
        self.limits = limits
        self.max_attributes: int | None = limits.max_log_record_attributes

    @classmethod
    def for_logger(cls, logger: object) -> CleanRecords | None:
        if type(logger) is not SdkLogger:
            return None
        limits = getattr(logger, LOGGER_LIMITS, None)
        if limits is None or limits.max_log_record_attribute_length is not None:
            return None
        return cls(logger, limits)

    def emit(
        self,
        *,
        timestamp: int,
        context: Context | None,
        severity_number: SeverityNumber,
        severity_text: str,
        event_name: str,
        attributes: dict[str, Any],
        attributes_size: int,
    ) -> None:
        """`Logger.emit` of one record whose body is `event_name`; `attributes` is handed
        over (not copied): text, numbers and booleans only, at most `max_attributes`."""
        logger = self.logger
        # The API record reads the trace and span ids from `context` (None: the current one).
        log_record = LogRecord(
            timestamp=timestamp,
            observed_timestamp=timestamp,
            context=context,
            severity_number=severity_number,
            severity_text=severity_text,
            body=event_name,
            event_name=event_name,
        )
        # Built without attributes, `__post_init__` has nothing to clean; ours go in after.
        record = ReadWriteLogRecord(
            log_record=log_record,
            resource=logger.resource,
            instrumentation_scope=logger.instrumentation_scope,
            limits=self.limits,
        )
        log_record.attributes = clean_attributes(attributes, self.max_attributes, attributes_size)
        # Typed for API records; the SDK's Logger takes its own ReadWriteLogRecord as it is.
        logger.emit(record)  # type: ignore[arg-type]
