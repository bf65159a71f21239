"""End to end: events delivered per second and lost, to a real OTLP receiver in another process.

For each transport (OTLP/HTTP protobuf, OTLP/gRPC) and each pipeline (codex_otel, the raw SDK
on the same records), a burst of events is emitted as fast as the caller can, then the pipeline
is shut down (the final flush). Delivered is what the receiver decoded; lost is the rest (each
pipeline's queue, codex_otel's 24,576 events and the raw SDK's default 2,048, refuses what comes
while it is full). The encoding of a batch is shown apart, timed and profiled, and so is the
codex_otel worker's whole share of one export.
"""

from __future__ import annotations

import cProfile
import gc
import time
from typing import Any

from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter

from benchmarks._common import (
    METADATA,
    held_batch,
    median,
    profile_rows,
    quiet_sdk_drop_warnings,
    target,
)
from benchmarks._pipelines import PIPELINES, TRANSPORTS
from benchmarks._remote import RemoteReceiver
from codex_otel import OtelConfig, OtelEventManager, OtelProvider, OtlpHttpExporter
from codex_otel.export._encode import encode_logs_request
from codex_otel.export._records import readables

# A long burst: what arrives comes in batches of 512, so a short one measures in coarse steps.
FULL = {"events": 100_000, "reps": 5, "exit_events": 500, "worker_events": 4096}
QUICK = {"events": 2_000, "reps": 1, "exit_events": 100, "worker_events": 512}
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


def _emit_mix(manager: OtelEventManager, events: int) -> None:
    for _ in range(events // 4):
        manager.sse_event("response.output_text.delta", 0.012)
        manager.api_request(1, 0.245, status_code=200, cf_ray="8f2a1c3b9d7e-SJC")
        manager.tool_decision("shell", "call_7Hq2", "approved", "user")
        manager.tool_result("shell", "call_7Hq2", {"command": ["ls"]}, 0.0153, True, "a\nb")


# Held in the queue until the bench takes them: no export during the emitting.
_HOLD = held_batch(100_000)


def _queued_records(events: int) -> list[Any]:
    """What the manager queues for `events` events on its direct path (`DirectRecord`s)."""
    provider = OtelProvider(InMemoryLogRecordExporter(), environment="bench", batch=_HOLD)
    _emit_mix(OtelEventManager(provider, **METADATA), events)
    queue = provider._logs._processor._delivery.batch.items  # type: ignore[union-attr]
    records = [item for item, _size in queue]
    provider.shutdown()  # they are exported too (to memory): nothing is reported lost
    return records


def sdk_encoding(batches: int) -> dict[str, Any]:
    """µs per record spent turning records into OTLP protobuf bytes, on the worker thread:
    the SDK's encoder against codex_otel's, for the records the manager queues
    (`DirectRecord`s; the SDK's encoder gets the SDK records they stand for) and for SDK
    records (what a host's own `provider.logger.emit` queues)."""
    direct = _queued_records(_ENCODE_BATCH)
    batch = readables(direct)

    def encode() -> int:
        return len(encode_logs(batch).SerializeToString())

    def ours() -> int:
        return len(encode_logs_request(direct))

    def ours_sdk_records() -> int:
        return len(encode_logs_request(batch))

    assert encode_logs_request(direct) == encode_logs(batch).SerializeToString()
    timings: dict[str, list[float]] = {"sdk": [], "direct": [], "sdk_records": []}
    functions = {"sdk": encode, "direct": ours, "sdk_records": ours_sdk_records}
    for function in functions.values():
        function()
    for _ in range(batches):  # interleaved: a drifting load hits all alike
        for name, function in functions.items():
            start = time.perf_counter()
            size = function()
            timings[name].append((time.perf_counter() - start) / len(batch) * 1e6)
    profiler = cProfile.Profile()
    profiler.runcall(encode)
    ours_profiler = cProfile.Profile()
    ours_profiler.runcall(ours)
    ratios = [mine / sdk for mine, sdk in zip(timings["direct"], timings["sdk"], strict=True)]
    sdk_record_ratios = [
        mine / sdk for mine, sdk in zip(timings["sdk_records"], timings["sdk"], strict=True)
    ]
    return {
        "records_per_batch": len(batch),
        "encode_us_per_record": round(median(timings["sdk"]), 2),
        "codex_otel_encode_us_per_record": round(median(timings["direct"]), 2),
        "codex_otel_sdk_records_encode_us_per_record": round(median(timings["sdk_records"]), 2),
        "encode_ratio": round(median(ratios), 3),
        "sdk_records_encode_ratio": round(median(sdk_record_ratios), 3),
        "bytes_per_record": round(size / len(batch)),
        "profile_top_tottime": profile_rows(profiler),
        "codex_otel_profile_top_tottime": profile_rows(ours_profiler),
    }


def worker_profile(receiver: RemoteReceiver, events: int) -> dict[str, Any]:
    """Where the worker's time goes for one batch of `events` over OTLP/HTTP: the export of
    what the manager queued, run under cProfile on this thread."""
    config = OtelConfig(
        environment="bench", exporter=OtlpHttpExporter(endpoint=receiver.logs_endpoint), batch=_HOLD
    )
    provider = OtelProvider.from_config(config)
    receiver.reset()
    _emit_mix(OtelEventManager(provider, **METADATA), events)
    queue = provider._logs._processor._delivery.batch  # type: ignore[union-attr]
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.runcall(queue.force_flush)
    elapsed = time.perf_counter() - start
    provider.shutdown()
    return {
        "events": events,
        "delivered": receiver.wait_for(events, timeout=5.0),
        "wall_us_per_event_profiled": round(elapsed / events * 1e6, 2),
        "profile_top_tottime": profile_rows(profiler, top=10),
    }


def run(*, quick: bool = False) -> dict[str, Any]:
    counts = QUICK if quick else FULL
    quiet_sdk_drop_warnings()
    with RemoteReceiver() as receiver:
        transports = {name: _transport(name, receiver, counts) for name in TRANSPORTS}
        worker = worker_profile(receiver, counts["worker_events"])
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
        "worker": worker,
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
        f"codex_otel's encoder (`codex_otel/export/_encode.py`, both OTLP transports) on the "
        f"records the manager queued for the same events: "
        f"{enc['codex_otel_encode_us_per_record']:.1f} µs per record, "
        f"{enc['encode_ratio']:.3f}x the SDK's (median of interleaved pairs), the same bytes; "
        f"on the SDK records themselves (a host's own `provider.logger.emit`): "
        f"{enc['codex_otel_sdk_records_encode_us_per_record']:.1f} µs, "
        f"{enc['sdk_records_encode_ratio']:.3f}x. Profile of one batch of the manager's "
        "records, by own time:",
        "",
        "```",
        *enc["codex_otel_profile_top_tottime"],
        "```",
        "",
        f"The worker, for {result['worker']['events']:,} events over OTLP/HTTP (encoding, "
        "cutting to size, counting, sending, the receiver's answer), under cProfile on one "
        f"thread: {result['worker']['wall_us_per_event_profiled']:.1f} µs per event, "
        f"{result['worker']['delivered']:,} delivered. By own time:",
        "",
        "```",
        *result["worker"]["profile_top_tottime"],
        "```",
    ]
    return "\n".join(lines)
