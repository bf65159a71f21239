"""The caller's cost per event with metrics on vs off (`python -m benchmarks.bench_metrics`).

Each event method is timed under four pipelines: nothing exported, metrics only, events only,
events and metrics. Exporters are the real OTLP/HTTP ones aimed at a local receiver, with a
one-minute metric interval, and the events' queue holding each run (sent between runs), so
what is timed is the caller's path (building, recording, queueing) plus the metrics worker
handing queued measurements to the SDK, which shares the interpreter lock within the same wall
time; not the events' encoding nor the network. The figures are best-of-repeats nanoseconds per
call; "added beside events" is the difference of two such figures, so it carries the noise of
both.
"""

from __future__ import annotations

import dataclasses
import gc
import time
from collections.abc import Callable
from typing import Any

from benchmarks._common import held_batch, target
from codex_otel import OtelConfig, OtelEventManager, OtelProvider
from codex_otel.testing import OtlpReceiver

# Below the log queue's 2048, and drained between repeats: what is timed is queueing, not
# the SDK's drop path.
CALLS = 2_000
REPEATS = 15  # the minimum of more runs: less at the mercy of a noisy neighbour
METADATA: dict[str, Any] = {
    "conversation_id": "conv-1234",
    "model": "gpt-5-codex",
    "slug": "gpt-5",
    "account_id": "acct-42",
    "auth_mode": "ChatGPT",
    "terminal_type": "xterm-256color",
    "app_version": "0.50.0",
}


def _events(manager: OtelEventManager) -> dict[str, Callable[[], object]]:
    return {
        "sse_event": lambda: manager.sse_event("response.output_text.delta", 0.012),
        "api_request": lambda: manager.api_request(1, 0.25, status_code=200),
        "tool_result": lambda: manager.tool_result("shell", "call-1", "ls", 0.5, True, "ok"),
        "token_usage": lambda: manager.sse_event_completed(
            input_token_count=1200,
            output_token_count=300,
            cached_token_count=1000,
            reasoning_token_count=64,
            tool_token_count=0,
        ),
    }


def _per_call_ns(call: Callable[[], object], drain: Callable[[], object] = lambda: None) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        drain()
        gc.collect()
        start = time.perf_counter_ns()
        for _ in range(CALLS):
            call()
        best = min(best, (time.perf_counter_ns() - start) / CALLS)
    return best


def _pipeline(receiver: OtlpReceiver, *, events: bool, metrics: bool) -> OtelProvider:
    table: dict[str, Any] = {}
    if events:
        table["exporter"] = {"otlp-http": {"endpoint": receiver.logs_endpoint}}
        # The events' queue holds a whole run and goes out between runs (the drain): their
        # encoding and the receiver's decoding are the same with metrics or without, and in
        # the timing they would only add noise to the difference.
        table["batch"] = dataclasses.asdict(held_batch(CALLS))
    if metrics:
        table["metrics_exporter"] = {"otlp-http": {"endpoint": receiver.metrics_endpoint}}
        table["metrics_export_interval_ms"] = 60_000
    return OtelProvider.from_config(OtelConfig.from_mapping(table, env={}))


def run() -> dict[str, Any]:
    """ns per call for each event method and pipeline, and what metrics add."""
    setups = {
        "off": {"events": False, "metrics": False},
        "metrics_only": {"events": False, "metrics": True},
        "events_only": {"events": True, "metrics": False},
        "events_and_metrics": {"events": True, "metrics": True},
    }
    timings: dict[str, dict[str, float]] = {}
    with OtlpReceiver(grpc_port=None) as receiver:
        for setup, flags in setups.items():
            provider = _pipeline(receiver, **flags)
            manager = OtelEventManager(provider, **METADATA)
            for event, call in _events(manager).items():
                timings.setdefault(event, {})[setup] = round(
                    _per_call_ns(call, provider.force_flush)
                )
            provider.shutdown()
            receiver.clear()
    for row in timings.values():
        row["added_by_metrics_alone"] = row["metrics_only"] - row["off"]
        row["added_by_metrics_beside_events"] = row["events_and_metrics"] - row["events_only"]
    # token_usage records five histogram values by design; the target is about the events
    # that record a counter and a duration.
    paired = {name: row for name, row in timings.items() if name != "token_usage"}
    worst_beside = max(row["added_by_metrics_beside_events"] for row in paired.values())
    return {
        "calls": CALLS,
        "repeats": REPEATS,
        "ns_per_call": timings,
        "sdk_floor_ns": _sdk_floor(),
        "targets": [
            target(
                "metrics beside an event, added caller cost (worst event)",
                worst_beside / 1000,
                8.0,
                "µs",
            )
        ],
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"Best of {result['repeats']} runs of {result['calls']:,} calls, ns per call on the "
        "caller's thread (OTLP/HTTP exporters to a local receiver, one-minute metric interval).",
        "",
        "| event | off | metrics only | events only | events and metrics "
        "| added by metrics alone | added beside events |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in result["ns_per_call"].items():
        lines.append(
            f"| `{name}` | {row['off']:,} | {row['metrics_only']:,} | {row['events_only']:,} "
            f"| {row['events_and_metrics']:,} | {row['added_by_metrics_alone']:,} "
            f"| {row['added_by_metrics_beside_events']:,} |"
        )
    floor = result["sdk_floor_ns"]
    lines += [
        "",
        f"The raw SDK on its own, same six tags: `Counter.add` {floor['counter_add']:,} ns, "
        f"a counter add and a histogram record (what one `sse_event` records) "
        f"{floor['sse_event_pair']:,} ns.",
    ]
    return "\n".join(lines)


def _sdk_floor() -> dict[str, float]:
    """The raw SDK's cost for what one `sse_event` records: a counter add and a histogram
    record with the same six-tag dict, no codex_otel code in between."""
    from opentelemetry.sdk.metrics import AlwaysOffExemplarFilter, MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    provider = MeterProvider(
        metric_readers=[InMemoryMetricReader()],
        shutdown_on_exit=False,
        exemplar_filter=AlwaysOffExemplarFilter(),
    )
    meter = provider.get_meter("bench")
    counter, histogram = meter.create_counter("c"), meter.create_histogram("h")
    tags = {
        "auth_mode": "ChatGPT",
        "model": "gpt-5-codex",
        "app.version": "0.50.0",
        "user.hash": "0" * 64,
        "kind": "response.output_text.delta",
        "success": "true",
    }

    def both() -> None:
        counter.add(1, tags)
        histogram.record(12, tags)

    floor = {"counter_add": _per_call_ns(lambda: counter.add(1, tags)), "sse_event_pair": 0.0}
    floor["sse_event_pair"] = _per_call_ns(both)
    provider.shutdown()
    return {name: round(value) for name, value in floor.items()}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
