"""What the events' and the spans' pipelines do alike around their private SDK provider and
their counted processor (`BoundedBatchProcessor`, `BoundedSpanProcessor`)."""

from __future__ import annotations

from typing import Any

from .._errors import report_internal_error
from ._private_sdk_exporters import uses_grpc
from ._stats import DeliveryStats

__all__ = ["CountedPipeline"]


class CountedPipeline:
    """Set by the subclass: `_exporter`, `_processor`, `_provider`, and `_signal` for messages."""

    _exporter: Any
    _processor: Any
    _provider: Any
    _signal: str

    def abandon_if_grpc(self) -> bool:
        """In a forked child: a gRPC pipeline stops without a call into gRPC. True if so."""
        if not uses_grpc(self._exporter):
            return False
        self._processor.abandon()
        return True

    def stats(self) -> DeliveryStats:
        stats: DeliveryStats = self._processor.stats()
        return stats

    def force_flush(self, timeout_millis: int) -> bool:
        try:
            return bool(self._provider.force_flush(timeout_millis))
        except Exception as exc:
            report_internal_error(f"flushing {self._signal}", exc)
            return False

    def _stop_provider(self) -> None:
        """Export what is queued within the processor's bound, then stop."""
        try:
            self._provider.shutdown()
        except Exception as exc:
            report_internal_error(f"shutting {self._signal} down", exc)
