"""Sustained load: 20,000 events/s for 30 s through codex_otel's default settings, zero lost.

The caller paces itself in 10 ms ticks (200 events a tick), the way a busy agent streams tokens,
to a real receiver in another process over each transport. Lost = emitted - received after
the final flush.
"""

from __future__ import annotations

import time
from typing import Any

from benchmarks._common import quiet_sdk_drop_warnings, target
from benchmarks._pipelines import TRANSPORTS, CodexOtelPipeline
from benchmarks._remote import RemoteReceiver

RATE = 20_000  # events per second
TICK = 0.01  # seconds
FULL_SECONDS = 30.0
QUICK_SECONDS = 3.0


def sustain(transport: str, receiver: RemoteReceiver, seconds: float) -> dict[str, Any]:
    receiver.reset()
    endpoint = receiver.grpc_endpoint if transport == "grpc" else receiver.logs_endpoint
    pipeline = CodexOtelPipeline(transport, endpoint)
    per_tick = round(RATE * TICK)
    ticks = round(seconds / TICK)
    start = time.perf_counter()
    late_ticks = 0
    for tick in range(ticks):
        pipeline.emit(per_tick)
        delay = start + (tick + 1) * TICK - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        else:
            late_ticks += 1  # the caller itself could not keep the pace this tick
    emitted_at = time.perf_counter()
    pipeline.shutdown()
    flushed_at = time.perf_counter()
    sent = per_tick * ticks
    received = receiver.wait_for(sent, timeout=5.0)
    return {
        "seconds": seconds,
        "target_rate": RATE,
        "achieved_rate": round(sent / (emitted_at - start)),
        "emitted": sent,
        "received": received,
        "lost": sent - received,
        "late_ticks": late_ticks,
        "final_flush_ms": round((flushed_at - emitted_at) * 1000, 1),
    }


def run(*, quick: bool = False) -> dict[str, Any]:
    seconds = QUICK_SECONDS if quick else FULL_SECONDS
    quiet_sdk_drop_warnings()
    with RemoteReceiver() as receiver:
        results = {name: sustain(name, receiver, seconds) for name in TRANSPORTS}
    return {
        "transports": results,
        "targets": [
            *(
                target(
                    f"events lost at {RATE:,}/s for {seconds:.0f} s, {name}",
                    row["lost"],
                    0,
                    "events",
                )
                for name, row in results.items()
            ),
            # Zero lost only counts at the rate asked for: a caller that fell behind sent less.
            *(
                target(
                    f"rate kept for {seconds:.0f} s, {name}",
                    row["achieved_rate"],
                    round(RATE * 0.98),
                    "events/s",
                    at_least=True,
                )
                for name, row in results.items()
            ),
        ],
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "codex_otel with its default batch settings, paced in 10 ms ticks, to a receiver in "
        "another process.",
        "",
        "| transport | seconds | events/s | emitted | received | lost | final flush ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in result["transports"].items():
        lines.append(
            f"| {name} | {row['seconds']:.0f} | {row['achieved_rate']:,} | {row['emitted']:,} "
            f"| {row['received']:,} | {row['lost']:,} | {row['final_flush_ms']:.0f} |"
        )
    return "\n".join(lines)
