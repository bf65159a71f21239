"""The events' signal: a private LoggerProvider (never global), its bounded, counted batch
processor and the logger the event manager writes to."""

from __future__ import annotations

from typing import TYPE_CHECKING

from opentelemetry.sdk._logs import LoggerProvider, LogRecordLimits

from ._config import BatchConfig
from ._version import package_version
from .catalog import SCOPE_NAME
from .export._pipeline import CountedPipeline

if TYPE_CHECKING:
    from opentelemetry._logs import Logger
    from opentelemetry.sdk._logs.export import LogRecordExporter
    from opentelemetry.sdk.resources import Resource

__all__ = ["LogsPipeline"]

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
        from .export._delivery import BoundedBatchProcessor

        self._exporter = exporter
        self._signal = "telemetry"
        # The OtelProvider's own exit hook replaces the SDK's, so exit runs one bounded flush.
        self._provider = LoggerProvider(
            resource=resource, shutdown_on_exit=False, log_record_limits=_catalog_limits()
        )
        self._processor = BoundedBatchProcessor(
            exporter,
            max_queue_size=batch.max_queue_size,
            max_export_batch_size=batch.max_export_batch_size,
            schedule_delay_millis=batch.schedule_delay_ms,
            shutdown_timeout=shutdown_timeout,
            max_queue_bytes=batch.max_queue_bytes,
            max_request_bytes=batch.max_export_bytes // (2 if json else 1),
            target=target,
        )
        self._provider.add_log_record_processor(self._processor)
        self.logger: Logger = self._provider.get_logger(SCOPE_NAME, package_version())

    def shutdown(self) -> None:
        """Export what is queued within the processor's bound, then stop."""
        self._stop_provider()
