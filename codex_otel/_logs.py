"""The events' signal: a private LoggerProvider (never global), its bounded, counted batch
processor and the logger the event manager writes to."""

from __future__ import annotations

from typing import TYPE_CHECKING

from opentelemetry.sdk._logs import LoggerProvider, LogRecordLimits

from ._config import BatchConfig
from ._errors import report_internal_error
from ._version import package_version
from .catalog import SCOPE_NAME
from .export import DeliveryStats

if TYPE_CHECKING:
    from opentelemetry._logs import Logger
    from opentelemetry.sdk._logs.export import LogRecordExporter
    from opentelemetry.sdk.resources import Resource

__all__ = ["LogsPipeline"]


class LogsPipeline:
    """Events -> the SDK's LoggerProvider -> `BoundedBatchProcessor` -> the exporter."""

    def __init__(
        self,
        exporter: LogRecordExporter,
        resource: Resource,
        *,
        batch: BatchConfig,
        export_timeout_s: float,
        shutdown_timeout: float,
        target: str,
    ) -> None:
        # Imported here: with exporter none the export module (~2 ms) is never needed.
        from .export._delivery import BoundedBatchProcessor

        # The OtelProvider's own exit hook replaces the SDK's, so exit runs one bounded flush.
        self._provider = LoggerProvider(
            resource=resource,
            shutdown_on_exit=False,
            # Explicit: an inherited OTEL_*ATTRIBUTE* limit would cut every event's fields
            # (or, not a number, stop the start).
            log_record_limits=LogRecordLimits(
                max_attributes=128,
                max_attribute_length=LogRecordLimits.UNSET,
                max_log_record_attributes=128,
                max_log_record_attribute_length=LogRecordLimits.UNSET,
            ),
        )
        self._processor = BoundedBatchProcessor(
            exporter,
            max_queue_size=batch.max_queue_size,
            max_export_batch_size=batch.max_export_batch_size,
            schedule_delay_millis=batch.schedule_delay_ms,
            export_timeout_millis=int(export_timeout_s * 1000),
            shutdown_timeout=shutdown_timeout,
            target=target,
        )
        self._provider.add_log_record_processor(self._processor)
        self.logger: Logger = self._provider.get_logger(SCOPE_NAME, package_version())

    def stats(self) -> DeliveryStats:
        return self._processor.stats()

    def force_flush(self, timeout_millis: int) -> bool:
        try:
            return self._provider.force_flush(timeout_millis)
        except Exception as exc:
            report_internal_error("flushing telemetry", exc)
            return False

    def shutdown(self) -> None:
        """Export what is queued within the processor's bound, then stop."""
        try:
            self._provider.shutdown()
        except Exception as exc:
            report_internal_error("shutting telemetry down", exc)
