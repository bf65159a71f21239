"""`capture_events()`: the events a block records, as plain dicts, for users' own tests."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult

from .._config import ToolResultConfig
from .._provider import OtelProvider

__all__ = ["CapturedEvents", "capture_events"]

_FLUSH_TIMEOUT_MS = 10_000


class _MemoryExporter(LogRecordExporter):
    def __init__(self) -> None:
        self.records: list[ReadableLogRecord] = []

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        self.records.extend(batch)
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class CapturedEvents:
    """A provider whose events stay in memory, and what it recorded so far.

    Build your managers on `provider`; `events` lists each event as a dict of its whole
    attribute set (`event.name`, the common metadata and the event's own fields), in order.
    The provider is the package's real pipeline, with an in-memory exporter at its end.
    """

    def __init__(self, provider: OtelProvider, exporter: _MemoryExporter) -> None:
        self.provider = provider
        self._exporter = exporter

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every event recorded so far (queued ones are flushed first)."""
        return [dict(record.log_record.attributes or {}) for record in self.records]

    @property
    def records(self) -> list[ReadableLogRecord]:
        """The same events as the SDK's log records (severity, body, timestamps, resource)."""
        if not self.provider.force_flush(_FLUSH_TIMEOUT_MS) and self.provider.enabled:
            raise TimeoutError("captured events were still queued after 10 s")
        return list(self._exporter.records)

    def names(self) -> list[str]:
        """The event names, in order: a quick look before comparing whole events."""
        return [str(event.get("event.name")) for event in self.events]


@contextmanager
def capture_events(
    *, log_user_prompt: bool = False, tool_result: ToolResultConfig | None = None
) -> Iterator[CapturedEvents]:
    """Capture what managers built on the yielded `provider` record, as
    `structlog.testing.capture_logs` does for log calls:

        with capture_events() as captured:
            otel = OtelEventManager(captured.provider, conversation_id="c", model="m", slug="s")
            otel.user_prompt(["hi"])
        assert captured.events[0]["event.name"] == "codex.user_prompt"

    The provider is shut down when the block ends; `events` stays readable.
    """
    exporter = _MemoryExporter()
    provider = OtelProvider(
        exporter,
        target="memory",
        log_user_prompt=log_user_prompt,
        tool_result=tool_result,
    )
    captured = CapturedEvents(provider, exporter)
    try:
        yield captured
    finally:
        provider.shutdown()
