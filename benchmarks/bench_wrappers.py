"""Per-call overhead of the instrumentation helpers against the unwrapped call, same run.

Each case times the same work unwrapped and wrapped: an httpx request through an
in-process transport (so the network does not drown the wrapper's own cost), one event
of a server-sent-event stream (sync, sync with an idle timeout, async) and one call of a
tool executor (sync, async). Events go through the real pipeline (structlog, the events'
direct path, the batch queue) to an exporter that discards them; the queue is flushed between
rounds, outside the timing. "none" is the same wrapper with
`exporter = "none"`.

    python benchmarks/bench_wrappers.py
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Sequence

import httpx
from httpx_sse import ServerSentEvent
from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk._logs.export import LogRecordExporter, LogRecordExportResult

from codex_otel import OtelEventManager, OtelProvider
from codex_otel.instrument import InstrumentedTransport, instrument_sse, instrument_tool

ROUNDS = 15
CALLS = 400  # per round; below a batch (1024), so the worker mostly waits for the flush


class NullExporter(LogRecordExporter):
    def export(self, batch: Sequence[ReadableLogRecord]) -> LogRecordExportResult:
        return LogRecordExportResult.SUCCESS

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True

    def shutdown(self) -> None:
        pass


def _manager(provider: OtelProvider) -> OtelEventManager:
    return OtelEventManager(
        provider, conversation_id="bench", model="gpt-5-codex", slug="gpt-5", auth_mode="ApiKey"
    )


# -- the cases: each returns a function making CALLS calls -----------------------------

BODY = {"model": "gpt-5-codex", "input": [{"type": "text", "text": "x" * 2000}]}


def _http(manager: OtelEventManager | None) -> tuple[Callable[[], None], Callable[[], None]]:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"id": "resp_1"}, headers={"cf-ray": "8f2a-SJC"})

    inner = httpx.MockTransport(answer)
    transport = inner if manager is None else InstrumentedTransport(manager, inner)
    client = httpx.Client(transport=transport, base_url="http://api.example.test")

    def run_round() -> None:
        for _ in range(CALLS):
            client.post("/v1/responses", json=BODY)

    return run_round, client.close


def _events() -> list[ServerSentEvent]:
    delta = json.dumps({"type": "response.output_text.delta", "item_id": "m", "delta": "Hel"})
    return [ServerSentEvent(event="response.output_text.delta", data=delta)] * CALLS


def _sse(
    manager: OtelEventManager | None, idle_timeout: float | None = None
) -> tuple[Callable[[], None], Callable[[], None]]:
    events = _events()

    def run_round() -> None:
        stream = (
            iter(events)
            if manager is None
            else instrument_sse(manager, events, idle_timeout=idle_timeout)
        )
        for _ in stream:
            pass

    return run_round, lambda: None


def _sse_async(manager: OtelEventManager | None) -> tuple[Callable[[], None], Callable[[], None]]:
    events = _events()
    loop = asyncio.new_event_loop()

    async def source() -> AsyncIterator[ServerSentEvent]:
        for event in events:
            yield event

    async def consume() -> None:
        stream = source() if manager is None else instrument_sse(manager, source())
        async for _ in stream:
            pass

    return lambda: loop.run_until_complete(consume()), loop.close


def _tool(manager: OtelEventManager | None) -> tuple[Callable[[], None], Callable[[], None]]:
    def shell(command: list[str], *, call_id: str) -> str:
        return "ok"

    tool = shell if manager is None else instrument_tool(manager, "shell")(shell)
    command = ["ls", "-la"]

    def run_round() -> None:
        for _ in range(CALLS):
            tool(command, call_id="call-1")

    return run_round, lambda: None


def _tool_async(manager: OtelEventManager | None) -> tuple[Callable[[], None], Callable[[], None]]:
    async def shell(command: list[str], *, call_id: str) -> str:
        return "ok"

    tool = shell if manager is None else instrument_tool(manager, "shell")(shell)
    command = ["ls", "-la"]
    loop = asyncio.new_event_loop()

    async def calls() -> None:
        for _ in range(CALLS):
            await tool(command, call_id="call-1")

    return lambda: loop.run_until_complete(calls()), loop.close


CASES: dict[
    str, Callable[[OtelEventManager | None], tuple[Callable[[], None], Callable[[], None]]]
] = {
    "http request (httpx.Client)": _http,
    "sse event, sync": _sse,
    "sse event, sync + idle timeout": lambda m: _sse(m, idle_timeout=30.0),
    "sse event, async": _sse_async,
    "tool call, sync": _tool,
    "tool call, async": _tool_async,
}


def run() -> dict[str, dict[str, float]]:
    """Per case: microseconds per call unwrapped, wrapped (exporting), wrapped with
    exporter "none", and the wrapper's overhead (wrapped - unwrapped)."""
    exporting = OtelProvider(NullExporter(), environment="bench")
    disabled = OtelProvider(None)
    figures: dict[str, dict[str, float]] = {}
    try:
        for name, case in CASES.items():
            variants = {
                "unwrapped_us": case(None),
                "wrapped_us": case(_manager(exporting)),
                "wrapped_none_us": case(_manager(disabled)),
            }
            try:
                best = {column: float("inf") for column in variants}
                # Rounds alternate between the variants, so a noisy moment on the shared
                # machine hits all of them; the fastest round of each counts.
                for round_number in range(ROUNDS + 1):
                    for column, (run_round, _) in variants.items():
                        start = time.perf_counter_ns()
                        run_round()
                        elapsed_us = (time.perf_counter_ns() - start) / CALLS / 1000
                        exporting.force_flush()  # outside the timing: the queue never fills
                        if round_number:  # round 0 warms up: imports, caches, first thread
                            best[column] = min(best[column], elapsed_us)
            finally:
                for _, close in variants.values():
                    close()
            best["overhead_us"] = best["wrapped_us"] - best["unwrapped_us"]
            best["overhead_none_us"] = best["wrapped_none_us"] - best["unwrapped_us"]
            figures[name] = best
    finally:
        exporting.shutdown()
    return figures


def table(figures: dict[str, dict[str, float]]) -> str:
    head = f"{'case':34} {'unwrapped':>10} {'wrapped':>10} {'overhead':>10} {'none':>10}"
    lines = [head, "-" * len(head)]
    for name, row in figures.items():
        lines.append(
            f"{name:34} {row['unwrapped_us']:>8.1f}us {row['wrapped_us']:>8.1f}us "
            f"{row['overhead_us']:>+8.1f}us {row['overhead_none_us']:>+8.1f}us"
        )
    lines.append("per call; 'none' = the wrapper's overhead with exporter \"none\"")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(run()))
