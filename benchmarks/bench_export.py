"""End to end: events delivered per second and lost, to a real OTLP receiver in another process.

For each transport (OTLP/HTTP protobuf, OTLP/gRPC) and each pipeline (codex_otel, the raw SDK
on the same records), a burst of events is emitted as fast as the caller can, then the pipeline
is shut down (the final flush). Delivered is what the receiver decoded; lost is the rest (the
batch queue holds 2048 records and drops beyond that while the exporter is behind). The SDK's
own share is shown apart: the OTLP protobuf encoding of a batch, timed and profiled.
"""

from __future__ import annotations

import cProfile
import pstats
import time
from typing import Any

from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter

from benchmarks._common import METADATA, median, quiet_sdk_drop_warnings, target
from benchmarks._pipelines import PIPELINES, TRANSPORTS
from benchmarks._remote import RemoteReceiver
from codex_otel import OtelEventManager, OtelProvider

FULL = {"events": 20_000, "reps": 3, "exit_events": 500}
QUICK = {"events": 2_000, "reps": 1, "exit_events": 100}
_ENCODE_BATCH = 512  # the batch processor's batch size


def _burst(
    pipeline_name: str, transport: str, receiver: RemoteReceiver, events: int
) -> dict[str, Any]:
    receiver.reset()
    endpoint = receiver.grpc_endpoint if transport == "grpc" else receiver.http_endpoint
    pipeline = PIPELINES[pipeline_name](transport, endpoint)
    start = time.perf_counter()
    pipeline.emit(events)
    emitted = time.perf_counter()
    pipeline.shutdown()
    flushed = time.perf_counter()
    # Every export has been answered once shutdown returns; the wait is a safety margin.
    delivered = receiver.wait_for(events, timeout=2.0)
    return {
        "delivered_per_s": delivered / (flushed - start),
        "lost": events - delivered,
        "caller_us": (emitted - start) / events * 1e6,
        "final_flush_ms": (flushed - emitted) * 1000,
    }


def _transport(transport: str, receiver: RemoteReceiver, counts: dict[str, int]) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in PIPELINES}
    for _ in range(counts["reps"]):
        for name in PIPELINES:  # interleaved, so drifting load hits both alike
            runs[name].append(_burst(name, transport, receiver, counts["events"]))
    result: dict[str, Any] = {}
    for name, measured in runs.items():
        exit_run = _burst(name, transport, receiver, counts["exit_events"])
        result[name] = {
            "delivered_per_s": round(median([r["delivered_per_s"] for r in measured])),
            "lost": round(median([r["lost"] for r in measured])),
            "lost_per_run": [r["lost"] for r in measured],
            "caller_us_during_burst": round(median([r["caller_us"] for r in measured]), 2),
            "final_flush_ms": round(median([r["final_flush_ms"] for r in measured]), 1),
            "exit_flush_ms": round(exit_run["final_flush_ms"], 1),
            "exit_lost": exit_run["lost"],
        }
    return result


def sdk_encoding(batches: int) -> dict[str, Any]:
    """µs per record the SDK's worker spends turning records into OTLP protobuf bytes."""
    capture = InMemoryLogRecordExporter()
    provider = OtelProvider(capture, environment="bench")
    manager = OtelEventManager(provider, **METADATA)
    for _ in range(_ENCODE_BATCH // 4):
        manager.sse_event("response.output_text.delta", 0.012)
        manager.api_request(1, 0.245, status_code=200, cf_ray="8f2a1c3b9d7e-SJC")
        manager.tool_decision("shell", "call_7Hq2", "approved", "user")
        manager.tool_result("shell", "call_7Hq2", {"command": ["ls"]}, 0.0153, True, "a\nb")
    provider.shutdown()
    batch = list(capture.get_finished_logs())[:_ENCODE_BATCH]

    def encode() -> int:
        return len(encode_logs(batch).SerializeToString())

    encode()
    timings = []
    for _ in range(batches):
        start = time.perf_counter()
        size = encode()
        timings.append((time.perf_counter() - start) / len(batch) * 1e6)
    profiler = cProfile.Profile()
    profiler.runcall(encode)
    return {
        "records_per_batch": len(batch),
        "encode_us_per_record": round(median(timings), 2),
        "bytes_per_record": round(size / len(batch)),
        "profile_top_tottime": _profile_rows(profiler),
    }


def _profile_rows(profiler: cProfile.Profile, top: int = 8) -> list[str]:
    """The `top` functions by own time: calls, ms, where (paths cut to the package)."""
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    rows = sorted(stats.items(), key=lambda item: -item[1][2])[:top]
    out = []
    for (path, line, function), (_, calls, own, _cumulative, _) in rows:
        for marker in ("site-packages/", "lib/python3."):
            if marker in path:
                path = path.split(marker, 1)[1]
        out.append(f"{calls:>7} calls {own * 1000:7.2f} ms  {path}:{line}({function})")
    return out


def run(*, quick: bool = False) -> dict[str, Any]:
    counts = QUICK if quick else FULL
    quiet_sdk_drop_warnings()
    with RemoteReceiver() as receiver:
        transports = {name: _transport(name, receiver, counts) for name in TRANSPORTS}
    targets = [
        target(
            f"end-to-end throughput vs raw SDK, {name}",
            result["codex_otel"]["delivered_per_s"] / result["raw_sdk"]["delivered_per_s"],
            1.0,
            "x",
            at_least=True,
        )
        for name, result in transports.items()
    ]
    return {
        "events_per_burst": counts["events"],
        "runs": counts["reps"],
        "exit_events": counts["exit_events"],
        "transports": transports,
        "sdk_encoding": sdk_encoding(3 if quick else 20),
        "targets": targets,
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"Bursts of {result['events_per_burst']:,} events (a mix of four catalog events), as fast "
        f"as the caller goes, to a receiver in another process; median of {result['runs']} runs. "
        "Delivered/s counts from the first emit to the end of the final flush; lost = emitted - "
        f"received. Exit flush: shutdown after {result['exit_events']} events.",
        "",
        "| transport | pipeline | delivered/s | lost | caller µs/event | final flush ms "
        "| exit flush ms |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for transport, pipelines in result["transports"].items():
        for name, row in pipelines.items():
            lines.append(
                f"| {transport} | {name} | {row['delivered_per_s']:,} | {row['lost']:,} "
                f"| {row['caller_us_during_burst']:.1f} | {row['final_flush_ms']:.0f} "
                f"| {row['exit_flush_ms']:.0f} |"
            )
    enc = result["sdk_encoding"]
    lines += [
        "",
        f"SDK OTLP protobuf encoding on the worker thread: {enc['encode_us_per_record']:.1f} µs "
        f"per record ({enc['bytes_per_record']} bytes each, batches of "
        f"{enc['records_per_batch']}). Profile of one batch, by own time:",
        "",
        "```",
        *enc["profile_top_tottime"],
        "```",
    ]
    return "\n".join(lines)
