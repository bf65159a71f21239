"""End to end: events delivered per second and lost, to a real OTLP receiver in another process.

For each transport (OTLP/HTTP protobuf, OTLP/gRPC) and each pipeline (codex_otel, the raw SDK
on the same records), a burst of events is emitted as fast as the caller can, then the pipeline
is shut down (the final flush). Delivered is what the receiver decoded; lost is the rest (the
batch queue holds 2048 records and drops beyond that while the exporter is behind). The SDK's
own share is shown apart: the OTLP protobuf encoding of a batch, timed and profiled.
"""

from __future__ import annotations

import cProfile
import gc
import time
from typing import Any

from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter

from benchmarks._common import METADATA, median, profile_rows, quiet_sdk_drop_warnings, target
from benchmarks._pipelines import PIPELINES, TRANSPORTS
from benchmarks._remote import RemoteReceiver
from codex_otel import OtelEventManager, OtelProvider
from codex_otel.export._encode import encode_logs_request

# A long burst: what arrives comes in batches of 512, so a short one measures in coarse steps.
FULL = {"events": 100_000, "reps": 5, "exit_events": 500}
QUICK = {"events": 2_000, "reps": 1, "exit_events": 100}
_ENCODE_BATCH = 512  # the batch processor's batch size


def _burst(
    pipeline_name: str, transport: str, receiver: RemoteReceiver, events: int
) -> dict[str, Any]:
    receiver.reset()
    endpoint = receiver.grpc_endpoint if transport == "grpc" else receiver.logs_endpoint
    pipeline = PIPELINES[pipeline_name](transport, endpoint)
    gc.collect()  # the previous run's garbage is not this run's cost
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
    order = list(PIPELINES)
    for _ in range(counts["reps"]):
        for name in order:  # interleaved, so drifting load hits both alike
            runs[name].append(_burst(name, transport, receiver, counts["events"]))
        order.reverse()  # and neither always goes first
    # Runs i of both pipelines ran back to back: their ratio cancels most of the drifting load.
    pairs = zip(runs["codex_otel"], runs["raw_sdk"], strict=True)
    ratios = [ours["delivered_per_s"] / raw["delivered_per_s"] for ours, raw in pairs]
    ratio = median(ratios)
    result: dict[str, Any] = {
        "throughput_ratio": round(ratio, 3),
        # The median absolute deviation of the pairs: how far one pair's ratio strays.
        "throughput_ratio_noise": (
            round(median([abs(r - ratio) for r in ratios]), 3) if len(ratios) > 1 else None
        ),
    }
    for name, measured in runs.items():
        exit_run = _burst(name, transport, receiver, counts["exit_events"])
        result[name] = {
            "delivered_per_s": round(median([r["delivered_per_s"] for r in measured])),
            "lost": round(median([r["lost"] for r in measured])),
            "delivered_per_s_runs": [round(r["delivered_per_s"]) for r in measured],
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

    def ours() -> int:
        return len(encode_logs_request(batch))

    encode()
    ours()
    timings: list[float] = []
    ours_timings: list[float] = []
    for _ in range(batches):  # interleaved: a drifting load hits both alike
        for function, runs in ((encode, timings), (ours, ours_timings)):
            start = time.perf_counter()
            size = function()
            runs.append((time.perf_counter() - start) / len(batch) * 1e6)
    profiler = cProfile.Profile()
    profiler.runcall(encode)
    ours_profiler = cProfile.Profile()
    ours_profiler.runcall(ours)
    ratios = [mine / sdk for mine, sdk in zip(ours_timings, timings, strict=True)]
    return {
        "records_per_batch": len(batch),
        "encode_us_per_record": round(median(timings), 2),
        "codex_otel_encode_us_per_record": round(median(ours_timings), 2),
        "encode_ratio": round(median(ratios), 3),
        "bytes_per_record": round(size / len(batch)),
        "profile_top_tottime": profile_rows(profiler),
        "codex_otel_profile_top_tottime": profile_rows(ours_profiler),
    }


def run(*, quick: bool = False) -> dict[str, Any]:
    counts = QUICK if quick else FULL
    quiet_sdk_drop_warnings()
    with RemoteReceiver() as receiver:
        transports = {name: _transport(name, receiver, counts) for name in TRANSPORTS}
    targets = [
        target(
            f"end-to-end throughput vs raw SDK, {name}",
            result["throughput_ratio"],
            _THROUGHPUT_TARGETS[name],
            "x",
            at_least=True,
            noise=result["throughput_ratio_noise"],
        )
        for name, result in transports.items()
    ]
    encoding = sdk_encoding(3 if quick else 20)
    targets.append(
        target("OTLP encoding per record vs the SDK's encoder", encoding["encode_ratio"], 0.25, "x")
    )
    return {
        "events_per_burst": counts["events"],
        "runs": counts["reps"],
        "exit_events": counts["exit_events"],
        "transports": transports,
        "sdk_encoding": encoding,
        "targets": targets,
    }


# Delivered/s over the raw SDK's, per transport.
_THROUGHPUT_TARGETS = {"http/protobuf": 5.0, "grpc": 4.0}


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"Bursts of {result['events_per_burst']:,} events (a mix of four catalog events), as fast "
        f"as the caller goes, to a receiver in another process; median of {result['runs']} runs. "
        "Delivered/s counts from the first emit to the end of the final flush; lost = emitted - "
        f"received. Exit flush: shutdown after {result['exit_events']} events. Caller µs/event "
        "is above the `caller` section's figures because the worker's encoding takes the GIL.",
        "",
        "| transport | pipeline | delivered/s | lost | caller µs/event | final flush ms "
        "| exit flush ms |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for transport, pipelines in result["transports"].items():
        for name in PIPELINES:
            row = pipelines[name]
            lines.append(
                f"| {transport} | {name} | {row['delivered_per_s']:,} | {row['lost']:,} "
                f"| {row['caller_us_during_burst']:.1f} | {row['final_flush_ms']:.0f} "
                f"| {row['exit_flush_ms']:.0f} |"
            )
    enc = result["sdk_encoding"]
    ratios = ", ".join(
        f"{transport} {pipelines['throughput_ratio']:.3f}x"
        + (
            f" (± {pipelines['throughput_ratio_noise']:.3f} between pairs)"
            if pipelines["throughput_ratio_noise"] is not None
            else ""
        )
        for transport, pipelines in result["transports"].items()
    )
    lines += [
        "",
        f"Delivered/s, codex_otel over raw SDK (median of the back-to-back pairs): {ratios}.",
        "Runs: "
        + "; ".join(
            f"{transport} {name} {pipelines[name]['delivered_per_s_runs']}"
            for transport, pipelines in result["transports"].items()
            for name in PIPELINES
        )
        + ".",
        "",
        f"SDK OTLP protobuf encoding on the worker thread: {enc['encode_us_per_record']:.1f} µs "
        f"per record ({enc['bytes_per_record']} bytes each, batches of "
        f"{enc['records_per_batch']}). Profile of one batch, by own time:",
        "",
        "```",
        *enc["profile_top_tottime"],
        "```",
        "",
        f"codex_otel's encoder (`codex_otel/export/_encode.py`, OTLP/HTTP protobuf) on the same "
        f"batch: {enc['codex_otel_encode_us_per_record']:.1f} µs per record, "
        f"{enc['encode_ratio']:.3f}x the SDK's (median of interleaved pairs), the same bytes. "
        "Profile of one batch, by own time:",
        "",
        "```",
        *enc["codex_otel_profile_top_tottime"],
        "```",
    ]
    return "\n".join(lines)
