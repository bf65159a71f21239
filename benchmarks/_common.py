"""Helpers shared by the bench_* modules: the records, a null exporter, stats, targets."""

from __future__ import annotations

import logging
import os
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult

# The full common metadata, as the manager takes it and as the records carry it.
METADATA = {
    "conversation_id": "0199a9c4-2f6e-7c31-9b0e-5d3c1f8e4a27",
    "model": "gpt-5-codex",
    "slug": "gpt-5",
    "account_id": "acct-4f9a2c",
    "auth_mode": "ChatGPT",
    "terminal_type": "xterm-256color",
    "app_version": "0.50.0",
}
COMMON_ATTRIBUTES = {
    "conversation.id": METADATA["conversation_id"],
    "app.version": METADATA["app_version"],
    "auth_mode": METADATA["auth_mode"],
    "user.account_id": METADATA["account_id"],
    "terminal.type": METADATA["terminal_type"],
    "model": METADATA["model"],
    "slug": METADATA["slug"],
}


class NullExporter(LogRecordExporter):
    """Accepts every batch and does nothing: the pipeline's cost without the wire."""

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


def quiet_sdk_drop_warnings() -> None:
    """The batch processor logs "Queue full" on drops; the benchmarks count losses themselves."""
    logging.getLogger("opentelemetry.sdk._shared_internal").setLevel(logging.ERROR)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def time_per_call_us(loop: Callable[[int], None], count: int) -> float:
    """Microseconds per call of one run of `loop(count)`."""
    start = time.perf_counter_ns()
    loop(count)
    return (time.perf_counter_ns() - start) / count / 1000


def target(
    name: str, value: float, limit: float, unit: str, *, at_least: bool = False
) -> dict[str, Any]:
    """One target: `value` must be <= `limit` (or >= with `at_least`)."""
    passed = value >= limit if at_least else value <= limit
    return {
        "name": name,
        "value": round(value, 3),
        "limit": limit,
        "unit": unit,
        "comparison": ">=" if at_least else "<=",
        "passed": passed,
    }


def load_average() -> list[float] | None:
    """The 1/5/15-minute load: other work on the machine makes timings noisy."""
    try:
        return [round(load, 2) for load in os.getloadavg()]
    except OSError:  # pragma: no cover - not on every platform
        return None
