"""The events' signal: a private LoggerProvider (never global), its bounded, counted batch
processor, the logger the event manager writes to, and the direct path past them.

The direct path (`DirectLogs`): while the LoggerProvider has no processor but the package's
own, what its Logger and processor would do with an event (build an SDK record, copy it for
the queue) is work nobody sees. The event manager then queues its own record of the event on
the processor's queue; exporters that are not the package's OTLP encoders get the SDK record
built from it, on the worker thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from opentelemetry.sdk._logs import LoggerProvider, LogRecordLimits, LogRecordProcessor

from ._config import BatchConfig
from ._version import package_version
from .catalog import SCOPE_NAME
from .export._pipeline import CountedPipeline
from .export._private_sdk_log_export import encoded_by_us
from .export._private_sdk_logs import CleanRecords
from .export._records import LogOrigin, readables

if TYPE_CHECKING:
    from collections.abc import Callable

    from opentelemetry._logs import Logger
    from opentelemetry.sdk._logs.export import LogRecordExporter
    from opentelemetry.sdk.resources import Resource

__all__ = ["DirectLogs", "LogsPipeline"]

# The SDK's default; the largest event of the catalog carries fewer than 20 attributes.
_MAX_ATTRIBUTES = 128


def _catalog_limits() -> LogRecordLimits:
    """Explicit limits, so inherited OTEL_*ATTRIBUTE* variables neither truncate the catalog
    (`OTEL_ATTRIBUTE_COUNT_LIMIT=3` would keep 3 of an event's attributes) nor, set to
    garbage, stop the start. Text sizes are this package's own caps, not the SDK's."""
    unset = LogRecordLimits.UNSET
    return LogRecordLimits(
        max_attributes=_MAX_ATTRIBUTES,
        max_attribute_length=unset,
        max_log_record_attributes=_MAX_ATTRIBUTES,
        max_log_record_attribute_length=unset,
    )


class DirectLogs:
    """The events' direct path to the processor's queue, used while `active`."""

    __slots__ = ("active", "offer", "origin")

    def __init__(self, origin: LogOrigin, offer: Callable[[object, int], None]) -> None:
        self.active = True
        self.origin = origin
        self.offer = offer


class _LoggerProvider(LoggerProvider):
    """The SDK's LoggerProvider, which ends the direct path once a processor besides the
    package's own is added: from then on every event goes through the SDK's Logger."""

    direct: DirectLogs | None = None
    _own: LogRecordProcessor | None = None

    def add_log_record_processor(self, log_record_processor: LogRecordProcessor) -> None:
        if self._own is None:
            self._own = log_record_processor
        elif self.direct is not None:
            self.direct.active = False
        super().add_log_record_processor(log_record_processor)


class LogsPipeline(CountedPipeline):
    """Events -> the SDK's LoggerProvider -> `BoundedBatchProcessor` -> the exporter."""

    def __init__(
        self,
        exporter: LogRecordExporter,
        resource: Resource,
        *,
        batch: BatchConfig,
        shutdown_timeout: float,
        target: str,
        json: bool = False,
    ) -> None:
        """`json`: the exporter speaks OTLP/JSON, about twice the protobuf size on the wire."""
        # Imported here: with exporter none the export module (~2 ms) is never needed.
        from .export._delivery import BoundedBatchProcessor, queue_options

        self._exporter = exporter
        self._signal = "telemetry"
        # The OtelProvider's own exit hook replaces the SDK's, so exit runs one bounded flush.
        self._provider = _LoggerProvider(
            resource=resource, shutdown_on_exit=False, log_record_limits=_catalog_limits()
        )
        self._processor = BoundedBatchProcessor(
            exporter,
            target=target,
            **queue_options(batch, shutdown_timeout=shutdown_timeout, json=json),
            # Exporters other than the package's own OTLP encoders take SDK records.
            prepare=None if encoded_by_us(exporter) else readables,
        )
        self._provider.add_log_record_processor(self._processor)
        self.logger: Logger = self._provider.get_logger(SCOPE_NAME, package_version())
        # Only where the SDK's Logger would build the same record (OTEL_SDK_DISABLED gives
        # a no-op one).
        records = CleanRecords.for_logger(self.logger)
        self.direct: DirectLogs | None = None
        if records is not None:
            origin = LogOrigin(records.logger, records.limits)
            self.direct = self._provider.direct = DirectLogs(origin, self._processor.offer)

    def shutdown(self) -> None:
        """Export what is queued within the processor's bound, then stop."""
        self._stop_provider()
