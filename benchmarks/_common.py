"""Helpers shared by the bench_* modules: the records, a null exporter, stats, targets."""

from __future__ import annotations

import cProfile
import logging
import os
import pstats
import re
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult

from codex_otel import AuthEnv
from codex_otel._config import BatchConfig

ROOT = Path(__file__).resolve().parent.parent  # the checkout: benchmarks/ and codex_otel/

# The full common metadata, as the manager takes it and as the records carry it.
METADATA: dict[str, Any] = {
    "conversation_id": "0199a9c4-2f6e-7c31-9b0e-5d3c1f8e4a27",
    "model": "gpt-5-codex",
    "slug": "gpt-5",
    "account_id": "acct-4f9a2c",
    "auth_mode": "ChatGPT",
    "terminal_type": "xterm-256color",
    "app_version": "0.50.0",
    "originator": "codex_exec",
    "auth_env": AuthEnv(openai_api_key_present=True),
}
COMMON_ATTRIBUTES = {
    "conversation.id": METADATA["conversation_id"],
    "app.version": METADATA["app_version"],
    "auth_mode": METADATA["auth_mode"],
    "user.account_id": METADATA["account_id"],
    "originator": METADATA["originator"],
    "terminal.type": METADATA["terminal_type"],
    "model": METADATA["model"],
    "slug": METADATA["slug"],
}
# `auth.env_*` of METADATA's `auth_env`, on conversation starts and requests.
AUTH_ENV = {
    "auth.env_openai_api_key_present": True,
    "auth.env_codex_api_key_present": False,
    "auth.env_codex_api_key_enabled": True,
    "auth.env_refresh_token_url_override_present": False,
}


class NullExporter(LogRecordExporter):
    """Accepts every batch and does nothing: the pipeline's cost without the wire."""

    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        return LogRecordExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


def held_batch(events: int) -> BatchConfig:
    """Batch settings whose queue holds `events` (and a margin) until flushed: nothing is
    exported while a timed run emits them."""
    held = events + 2_000
    return BatchConfig(
        max_queue_size=held,
        max_export_batch_size=held,
        schedule_delay_ms=600_000,
        max_queue_bytes=512 * 1024 * 1024,
    )


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
    name: str,
    value: float,
    limit: float,
    unit: str,
    *,
    at_least: bool = False,
    noise: float | None = None,
) -> dict[str, Any]:
    """One target: `value` must be <= `limit` (or >= with `at_least`).

    `noise`, if known, is the run-to-run spread of `value` (same unit): shown beside the verdict
    so a MISS by less than the noise reads as what it is. It never changes the verdict.
    """
    passed = value >= limit if at_least else value <= limit
    return {
        "name": name,
        "value": round(value, 3),
        "limit": limit,
        "unit": unit,
        "comparison": ">=" if at_least else "<=",
        "passed": passed,
        "noise": None if noise is None else round(noise, 3),
    }


def load_average() -> list[float] | None:
    """The 1/5/15-minute load: other work on the machine makes timings noisy."""
    try:
        return [round(load, 2) for load in os.getloadavg()]
    except OSError:  # pragma: no cover - not on every platform
        return None


def profile_rows(profiler: cProfile.Profile, top: int = 8) -> list[str]:
    """The `top` functions by own time, as `calls ms file:line(function)` lines."""
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    rows = sorted(stats.items(), key=lambda item: -item[1][2])[:top]
    out = []
    for (path, line, function), (_, calls, own, _cumulative, _) in rows:
        path = re.sub(r"^.*/site-packages/|^.*/lib/python3\.\d+/", "", path)
        path = path.removeprefix(f"{ROOT}/")
        out.append(f"{calls:>7} calls {own * 1000:7.2f} ms  {path}:{line}({function})")
    return out


def profiled_share(profiler: cProfile.Profile, path_part: str, function: str) -> float:
    """The share of the profiled time spent inside `function` of a file matching `path_part`."""
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]
    inside = sum(
        cumulative
        for (path, _, name), (_, _, _, cumulative, _) in stats.stats.items()  # type: ignore[attr-defined]
        if name == function and path_part in path.replace("\\", "/")
    )
    return float(inside / total) if total else 0.0
