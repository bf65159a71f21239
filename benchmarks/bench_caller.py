"""Caller cost per event: the manager's event methods against a raw SDK `Logger.emit`.

Both sides emit the same record (the full common metadata, the event's fields, `event.name`,
`event.timestamp`, EventName, severity INFO) into the same `OtelProvider`, whose batch
processor holds each run in its queue (exported to a null exporter between runs), so only the
caller's side is timed: the manager's methods take the events' direct path, the raw side the
SDK's Logger of that provider. The raw side builds its attribute dict by hand per call, from the
same arguments, as a host writing against the SDK would (`benchmarks._pipelines.raw_emit`).
Also timed: the same calls with exporter none.
"""

from __future__ import annotations

import cProfile
import gc
import json
from collections.abc import Callable
from typing import Any

from opentelemetry._logs import Logger

from benchmarks._common import (
    AUTH_ENV,
    METADATA,
    NullExporter,
    held_batch,
    median,
    profile_rows,
    profiled_share,
    target,
    time_per_call_us,
)
from benchmarks._pipelines import ARGUMENTS, OUTPUT, raw_emit
from codex_otel import OtelEventManager, OtelProvider

# Counts the issue asks for: the median of at least 5 runs of at least 50,000 events.
FULL = {"events": 50_000, "reps": 5}
QUICK = {"events": 5_000, "reps": 2}


Loop = Callable[[int], None]


def _cases(manager: OtelEventManager, logger: Logger | None) -> dict[str, tuple[Loop, Loop]]:
    """Event -> (loop over the manager's method, loop over the raw emit of the same record)."""

    def sse_event(n: int) -> None:
        for _ in range(n):
            manager.sse_event("response.output_text.delta", 0.012)

    def raw_sse_event(n: int) -> None:
        for _ in range(n):
            raw_emit(
                logger,  # type: ignore[arg-type]
                "codex.sse_event",
                {"event.kind": "response.output_text.delta", "duration_ms": int(0.012 * 1000)},
            )

    def sse_completed(n: int) -> None:
        for _ in range(n):
            manager.sse_event_completed(
                input_token_count=1200,
                output_token_count=300,
                cached_token_count=1000,
                reasoning_token_count=64,
                tool_token_count=1500,
            )

    def raw_sse_completed(n: int) -> None:
        for _ in range(n):
            raw_emit(
                logger,  # type: ignore[arg-type]
                "codex.sse_event",
                {
                    "event.kind": "response.completed",
                    "input_token_count": 1200,
                    "output_token_count": 300,
                    "cached_token_count": 1000,
                    "reasoning_token_count": 64,
                    "tool_token_count": 1500,
                },
            )

    def api_request(n: int) -> None:
        for _ in range(n):
            manager.api_request(1, 0.245, status_code=200, cf_ray="8f2a1c3b9d7e-SJC")

    def raw_api_request(n: int) -> None:
        for _ in range(n):
            raw_emit(
                logger,  # type: ignore[arg-type]
                "codex.api_request",
                {
                    "attempt": 0,  # Codex counts from 0
                    "duration_ms": int(0.245 * 1000),
                    "http.response.status_code": 200,
                    "cf_ray": "8f2a1c3b9d7e-SJC",
                    "auth.header_attached": False,
                    "auth.retry_after_unauthorized": False,
                    "endpoint": "unknown",
                    **AUTH_ENV,
                    "auth.cf_ray": "8f2a1c3b9d7e-SJC",
                },
            )

    def tool_decision(n: int) -> None:
        for _ in range(n):
            manager.tool_decision("shell", "call_7Hq2", "approved", "user")

    def raw_tool_decision(n: int) -> None:
        for _ in range(n):
            raw_emit(
                logger,  # type: ignore[arg-type]
                "codex.tool_decision",
                {
                    "tool_name": "shell",
                    "call_id": "call_7Hq2",
                    "decision": "approved",
                    "source": "User",
                },
            )

    def tool_result(n: int) -> None:
        for _ in range(n):
            manager.tool_result("shell", "call_7Hq2", ARGUMENTS, 0.0153, True, OUTPUT)

    def raw_tool_result(n: int) -> None:
        for _ in range(n):
            raw_emit(
                logger,  # type: ignore[arg-type]
                "codex.tool_result",
                {
                    "tool_name": "shell",
                    "call_id": "call_7Hq2",
                    "arguments": json.dumps(ARGUMENTS, ensure_ascii=False),
                    "duration_ms": int(0.0153 * 1000),
                    "success": "true",
                    "output": OUTPUT,
                    "output_truncated": False,
                    "mcp_server": "",
                    "mcp_server_origin": "",
                },
            )

    # Codex's newer events, through their generic path (`catalog.EVENTS`).
    def startup_phase(n: int) -> None:
        for _ in range(n):
            manager.startup_phase("thread_start_total", 0.015, status="ready")

    def raw_startup_phase(n: int) -> None:
        for _ in range(n):
            raw_emit(
                logger,  # type: ignore[arg-type]
                "codex.startup_phase",
                {
                    "startup.phase": "thread_start_total",
                    "startup.status": "ready",
                    "duration_ms": int(0.015 * 1000),
                },
            )

    def websocket_request(n: int) -> None:
        for _ in range(n):
            manager.websocket_request(0.85, connection_reused=True)

    def raw_websocket_request(n: int) -> None:
        for _ in range(n):
            raw_emit(
                logger,  # type: ignore[arg-type]
                "codex.websocket_request",
                {
                    "duration_ms": int(0.85 * 1000),
                    "success": "true",
                    "auth.connection_reused": True,
                    **AUTH_ENV,
                },
            )

    return {
        "codex.sse_event (delta)": (sse_event, raw_sse_event),
        "codex.sse_event (completed)": (sse_completed, raw_sse_completed),
        "codex.api_request": (api_request, raw_api_request),
        "codex.tool_decision": (tool_decision, raw_tool_decision),
        "codex.tool_result": (tool_result, raw_tool_result),
        "codex.startup_phase": (startup_phase, raw_startup_phase),
        "codex.websocket_request": (websocket_request, raw_websocket_request),
    }


def _timed(loop: Loop, events: int, flush: Callable[[], object]) -> float:
    flush()  # start each run with an empty queue
    gc.collect()
    return time_per_call_us(loop, events)


def measure(events: int, reps: int) -> dict[str, Any]:
    """Median µs per event of each case, ours and raw interleaved run by run."""
    # A queue that holds a whole run, and a worker that only exports when flushed between runs:
    # the worker's share (turning queued records into the exporter's) stays out of the timing.
    provider = OtelProvider(NullExporter(), environment="bench", batch=held_batch(events))
    none_provider = OtelProvider(None, environment="bench")
    try:
        manager = OtelEventManager(provider, **METADATA)
        cases = _cases(manager, provider.logger)
        none_cases = _cases(OtelEventManager(none_provider, **METADATA), None)
        results: dict[str, Any] = {}
        for name, (ours, raw) in cases.items():
            none_loop = none_cases[name][0]
            for loop in (ours, raw, none_loop):  # warm up
                loop(min(events, 2_000))
            ours_us: list[float] = []
            raw_us: list[float] = []
            none_us: list[float] = []
            order = [(ours, ours_us), (raw, raw_us), (none_loop, none_us)]
            for _ in range(reps):
                for loop, runs in order:
                    runs.append(_timed(loop, events, provider.force_flush))
                order.reverse()  # neither side always runs first
            ratio = median(ours_us) / median(raw_us)
            # Run i of each side ran back to back; how far one such pair strays from the ratio.
            pairs = [ours / raw for ours, raw in zip(ours_us, raw_us, strict=True)]
            results[name] = {
                "codex_otel_us": round(median(ours_us), 3),
                "raw_sdk_us": round(median(raw_us), 3),
                "ratio": round(ratio, 3),
                "ratio_noise": (
                    round(median([abs(pair - ratio) for pair in pairs]), 3) if reps > 1 else None
                ),
                "exporter_none_us": round(median(none_us), 3),
                "runs_codex_otel_us": [round(v, 3) for v in ours_us],
                "runs_raw_sdk_us": [round(v, 3) for v in raw_us],
            }
        return results
    finally:
        provider.shutdown()
        none_provider.shutdown()


def profile(events: int) -> dict[str, Any]:
    """Where a `codex.sse_event` spends the caller's time, under cProfile (which inflates it)."""
    provider = OtelProvider(NullExporter(), environment="bench")
    try:
        loop = _cases(OtelEventManager(provider, **METADATA), provider.logger)
        profiler = cProfile.Profile()
        profiler.runcall(loop["codex.sse_event (delta)"][0], events)
    finally:
        provider.shutdown()
    return {
        "events": events,
        "share_in_sdk_logger_emit": round(
            profiled_share(profiler, "sdk/_logs/_internal/__init__.py", "emit"), 3
        ),
        "share_in_sdk_attribute_cleaning": round(
            profiled_share(profiler, "opentelemetry/attributes/__init__.py", "__init__"), 3
        ),
        "top_tottime": profile_rows(profiler, top=10),
    }


def run(*, quick: bool = False) -> dict[str, Any]:
    counts = QUICK if quick else FULL
    events = measure(counts["events"], counts["reps"])
    worst = max(events.values(), key=lambda case: case["ratio"])
    worst_none = max(case["exporter_none_us"] for case in events.values())
    return {
        "events_per_run": counts["events"],
        "runs": counts["reps"],
        "events": events,
        "profile": profile(counts["events"] // 5),
        "targets": [
            target(
                "caller cost vs raw SDK emit (worst event)",
                worst["ratio"],
                1.0,
                "x",
                noise=worst["ratio_noise"],
            ),
            target("caller cost with exporter none (worst event)", worst_none, 1.0, "µs"),
        ],
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"Median of {result['runs']} runs of {result['events_per_run']:,} events each, "
        "µs per event on the caller's thread (the queue holds each run; a null exporter takes it "
        "between runs, untimed).",
        "",
        "| event | codex_otel µs | raw SDK emit µs | ratio | exporter none µs |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, case in result["events"].items():
        lines.append(
            f"| `{name}` | {case['codex_otel_us']:.2f} | {case['raw_sdk_us']:.2f} "
            f"| {case['ratio']:.2f}x | {case['exporter_none_us']:.2f} |"
        )
    prof = result["profile"]
    lines += [
        "",
        f"cProfile of {prof['events']:,} `codex.sse_event` calls: "
        f"{prof['share_in_sdk_logger_emit']:.0%} of the time is inside the SDK's `Logger.emit`, "
        f"{prof['share_in_sdk_attribute_cleaning']:.0%} in its attribute cleaning "
        "(`BoundedAttributes`). By own time:",
        "",
        "```",
        *prof["top_tottime"],
        "```",
    ]
    return "\n".join(lines)
