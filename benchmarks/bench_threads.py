"""Many emitters at once: events per second from 1, 4 and 16 threads, and from asyncio tasks.

24,000 `codex.sse_event`s are split over N threads, each thread its own conversation (its own
`OtelEventManager`, as parallel tool calls and subagents have), on one provider, for each
exporter kind: OTLP/HTTP and OTLP/gRPC to a real receiver in another process, and `otlp-file`
to a file. Events per second count from the first emit until the provider's shutdown returned
(every event delivered or counted), divided into what arrived; lost = emitted - arrived. The
raw SDK does the same beside it (a `LoggerProvider`, a `BatchLogRecordProcessor` whose queue
holds the burst as ours does, `Logger.emit` of the same record) with the same real exporter.

Also measured: the same events from asyncio tasks on one event loop, and from 16 threads while
the collector answers each export late (a busy exporter: its worker waits on the network).
"""

from __future__ import annotations

import asyncio
import gc
import json
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExporter
from opentelemetry.sdk.resources import Resource

from benchmarks._common import COMMON_ATTRIBUTES, METADATA, median, quiet_sdk_drop_warnings, target
from benchmarks._pipelines import raw_emit, raw_exporter
from benchmarks._remote import RemoteReceiver
from codex_otel import (
    OtelConfig,
    OtelEventManager,
    OtelProvider,
    OtlpFileExporter,
    OtlpGrpcExporter,
    OtlpHttpExporter,
)
from codex_otel._config import ExporterConfig

FULL = {"events": 24_000, "reps": 3, "threads": (1, 4, 16), "tasks": 16}
QUICK = {"events": 2_400, "reps": 1, "threads": (1, 4, 16), "tasks": 16}
KINDS = ("otlp-http", "otlp-grpc", "otlp-file")
PIPELINES = ("codex_otel", "raw_sdk")
# The raw SDK's queue holds the burst, as ours (24,576) does: neither refuses events.
_RAW_QUEUE = 24_576
# A busy collector answers each export this late.
_BUSY_DELAY_S = 0.05
_KIND = "response.output_text.delta"
_RAW_FIELDS = {"event.kind": _KIND, "duration_ms": 12}


class _Sink:
    """Where one run's events go, and how many arrived: the remote receiver or a new file."""

    def __init__(self, kind: str, receiver: RemoteReceiver, folder: Path) -> None:
        self.kind = kind
        self._receiver = receiver
        self._folder = folder
        self._runs = 0
        self.path = folder / "none.jsonl"

    def start(self) -> None:
        self._runs += 1
        self.path = self._folder / f"run-{self._runs}.jsonl"
        self._receiver.reset()

    def config(self) -> ExporterConfig:
        if self.kind == "otlp-http":
            return OtlpHttpExporter(endpoint=self._receiver.logs_endpoint)
        if self.kind == "otlp-grpc":
            return OtlpGrpcExporter(endpoint=self._receiver.grpc_endpoint)
        return OtlpFileExporter(path=self.path)

    def raw_exporter(self) -> LogRecordExporter:
        if self.kind == "otlp-file":
            from opentelemetry.exporter.otlp.json.file._log_exporter import FileLogExporter

            return FileLogExporter(path=self.path)  # type: ignore[no-any-return]
        if self.kind == "otlp-grpc":
            return raw_exporter("grpc", self._receiver.grpc_endpoint)
        return raw_exporter("http/protobuf", self._receiver.logs_endpoint)

    def arrived(self, events: int) -> int:
        if self.kind != "otlp-file":
            # Every export has been answered once shutdown returns; the wait is a margin.
            return self._receiver.wait_for(events, timeout=2.0)
        if not self.path.exists():
            return 0
        with self.path.open(encoding="utf-8") as lines:
            return sum(
                len(scope["logRecords"])
                for line in lines
                for resource in json.loads(line)["resourceLogs"]
                for scope in resource["scopeLogs"]
            )


def _metadata(index: int) -> dict[str, str]:
    return {**METADATA, "conversation_id": f"0199a9c4-2f6e-7c31-9b0e-{index:012d}"}


def _conversation_attributes(index: int) -> dict[str, Any]:
    return {**COMMON_ATTRIBUTES, "conversation.id": _metadata(index)["conversation_id"]}


class _Run:
    """One pipeline's emitters (one per thread or task) on one provider."""

    def __init__(self, pipeline: str, sink: _Sink, emitters: int) -> None:
        self.ours = pipeline == "codex_otel"
        if self.ours:
            config = OtelConfig(environment="bench", exporter=sink.config())
            self._provider: Any = OtelProvider.from_config(config, service_version="0.0.0-bench")
            self.emitters: list[Any] = [
                OtelEventManager(self._provider, **_metadata(i)) for i in range(emitters)
            ]
        else:
            resource = Resource.create(
                {"service.name": "codex-cli", "service.version": "0.0.0-bench", "env": "bench"}
            )
            self._provider = LoggerProvider(resource=resource, shutdown_on_exit=False)
            self._provider.add_log_record_processor(
                BatchLogRecordProcessor(sink.raw_exporter(), max_queue_size=_RAW_QUEUE)
            )
            logger = self._provider.get_logger("bench")
            self.emitters = [(logger, _conversation_attributes(i)) for i in range(emitters)]

    def emit(self, emitter: Any, count: int) -> None:
        if self.ours:
            for _ in range(count):
                emitter.sse_event(_KIND, 0.012)
        else:
            logger, common = emitter
            for _ in range(count):
                raw_emit(logger, "codex.sse_event", _RAW_FIELDS, common)

    def shutdown(self) -> None:
        self._provider.shutdown()


def _outcome(sink: _Sink, events: int, start: float, emitted: float, done: float) -> dict[str, Any]:
    arrived = sink.arrived(events)
    return {
        "events_per_s": arrived / (done - start),
        "emitted_per_s": events / (emitted - start),
        "lost": events - arrived,
    }


def threaded(pipeline: str, sink: _Sink, threads: int, events: int) -> dict[str, Any]:
    """`events` split over `threads` threads, each its own conversation, then shutdown."""
    sink.start()
    run = _Run(pipeline, sink, threads)
    share = events // threads
    ready = threading.Barrier(threads + 1)

    def work(emitter: Any) -> None:
        ready.wait()
        run.emit(emitter, share)

    workers = [threading.Thread(target=work, args=(emitter,)) for emitter in run.emitters]
    for worker in workers:
        worker.start()
    gc.collect()  # the previous run's garbage is not this run's cost
    ready.wait()
    start = time.perf_counter()
    for worker in workers:
        worker.join()
    emitted = time.perf_counter()
    run.shutdown()
    return _outcome(sink, share * threads, start, emitted, time.perf_counter())


def tasks(pipeline: str, sink: _Sink, count: int, events: int) -> dict[str, Any]:
    """`events` split over `count` asyncio tasks on one event loop, each its own conversation,
    each handing the loop back every 16 events."""
    sink.start()
    run = _Run(pipeline, sink, count)
    share = events // count

    async def task(emitter: Any) -> None:
        for _ in range(share // 16):
            run.emit(emitter, 16)
            await asyncio.sleep(0)

    async def main() -> None:
        await asyncio.gather(*(task(emitter) for emitter in run.emitters))

    gc.collect()
    start = time.perf_counter()
    asyncio.run(main())
    emitted = time.perf_counter()
    run.shutdown()
    return _outcome(sink, (share // 16) * 16 * count, start, emitted, time.perf_counter())


def _medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "events_per_s": round(median([r["events_per_s"] for r in runs])),
        "emitted_per_s": round(median([r["emitted_per_s"] for r in runs])),
        "lost": max(r["lost"] for r in runs),
        "events_per_s_runs": [round(r["events_per_s"]) for r in runs],
    }


def measure_kind(
    sink: _Sink, thread_counts: tuple[int, ...], events: int, reps: int
) -> dict[str, Any]:
    """Per thread count: both pipelines (interleaved, run by run) and their ratio."""
    for name in PIPELINES:  # warm-up: the exporters' lazy imports are no run's cost
        threaded(name, sink, 1, 1_000)
    result: dict[str, Any] = {}
    for threads in thread_counts:
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in PIPELINES}
        order = list(PIPELINES)
        for _ in range(reps):
            for name in order:
                runs[name].append(threaded(name, sink, threads, events))
            order.reverse()
        ratios = [
            ours["events_per_s"] / raw["events_per_s"]
            for ours, raw in zip(runs["codex_otel"], runs["raw_sdk"], strict=True)
        ]
        result[str(threads)] = {
            **{name: _medians(measured) for name, measured in runs.items()},
            "vs_raw_sdk": round(median(ratios), 3),
        }
    one = result[str(thread_counts[0])]["codex_otel"]["events_per_s"]
    for row in result.values():
        row["vs_one_thread"] = round(row["codex_otel"]["events_per_s"] / one, 3)
    return result


def run(*, quick: bool = False) -> dict[str, Any]:
    counts = QUICK if quick else FULL
    quiet_sdk_drop_warnings()
    events, reps, thread_counts = counts["events"], counts["reps"], counts["threads"]
    with RemoteReceiver() as receiver, tempfile.TemporaryDirectory() as folder:
        kinds = {
            kind: measure_kind(_Sink(kind, receiver, Path(folder)), thread_counts, events, reps)
            for kind in KINDS
        }
        http = _Sink("otlp-http", receiver, Path(folder))
        # Each beside a one-thread run on the same collector, back to back: their ratio
        # cancels most of the drifting load.
        asyncio_pairs, busy_pairs = [], []
        for _ in range(reps):
            one = threaded("codex_otel", http, 1, events)
            asyncio_pairs.append((one, tasks("codex_otel", http, counts["tasks"], events)))
            receiver.delay(_BUSY_DELAY_S)
            try:
                busy_pairs.append((one, threaded("codex_otel", http, 16, events)))
            finally:
                receiver.delay(0)
    asyncio_result = _medians([many for _, many in asyncio_pairs])
    busy = _medians([many for _, many in busy_pairs])
    asyncio_result["vs_one_thread"] = round(
        median([many["events_per_s"] / one["events_per_s"] for one, many in asyncio_pairs]), 3
    )
    # A busy collector bounds what arrives per second; the callers must not wait on it.
    busy["emitted_vs_one_thread"] = round(
        median([many["emitted_per_s"] / one["emitted_per_s"] for one, many in busy_pairs]), 3
    )
    return {
        "events": events,
        "runs": reps,
        "kinds": kinds,
        "asyncio_tasks": {"tasks": counts["tasks"], **asyncio_result},
        "busy_exporter": {"threads": 16, "answer_delay_s": _BUSY_DELAY_S, **busy},
        "targets": _targets(kinds, asyncio_result, busy),
    }


def _targets(
    kinds: dict[str, Any], asyncio_result: dict[str, Any], busy: dict[str, Any]
) -> list[dict[str, Any]]:
    def worst(kind: str, pick: Callable[[str, dict[str, Any]], float | None]) -> float:
        values = [pick(n, row) for n, row in kinds[kind].items()]
        return min(v for v in values if v is not None)

    out = []
    for kind in KINDS:
        out.append(
            target(
                f"threads: events/s at 4 and 16 threads vs 1 thread, {kind} (worst)",
                worst(kind, lambda n, row: None if n == "1" else row["vs_one_thread"]),
                0.7,
                "x",
                at_least=True,
            )
        )
        out.append(
            target(
                f"threads: events/s vs raw SDK with the same exporter, {kind} (worst of 1/4/16)",
                worst(kind, lambda n, row: row["vs_raw_sdk"]),
                2.0,
                "x",
                at_least=True,
            )
        )
    lost = max(row["codex_otel"]["lost"] for rows in kinds.values() for row in rows.values())
    lost = max(lost, asyncio_result["lost"], busy["lost"])
    out += [
        target("threads: events lost (every kind, thread count, tasks, busy)", lost, 0, "events"),
        target(
            "asyncio: 16 tasks on one loop, events/s vs 1 thread (otlp-http)",
            asyncio_result["vs_one_thread"],
            0.7,
            "x",
            at_least=True,
        ),
        target(
            "busy exporter: 16 threads' emitted/s vs 1 thread's (otlp-http)",
            busy["emitted_vs_one_thread"],
            0.7,
            "x",
            at_least=True,
        ),
    ]
    return out


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"{result['events']:,} `codex.sse_event`s split over N threads (each its own "
        "conversation), median of "
        f"{result['runs']} runs. Events/s: arrived / (first emit -> shutdown returned); "
        "emitted/s: the callers' own rate; lost: emitted - arrived. The raw SDK beside each, "
        "with the same exporter (its queue holds the burst too).",
        "",
        "| exporter | threads | codex_otel events/s | emitted/s | lost | raw SDK events/s "
        "| emitted/s | lost | vs raw SDK | vs 1 thread |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, rows in result["kinds"].items():
        for threads, row in rows.items():
            ours, raw = row["codex_otel"], row["raw_sdk"]
            lines.append(
                f"| {kind} | {threads} | {ours['events_per_s']:,} | {ours['emitted_per_s']:,} "
                f"| {ours['lost']:,} | {raw['events_per_s']:,} | {raw['emitted_per_s']:,} "
                f"| {raw['lost']:,} | {row['vs_raw_sdk']:.2f}x | {row['vs_one_thread']:.2f}x |"
            )
    tasks_row, busy = result["asyncio_tasks"], result["busy_exporter"]
    lines += [
        "",
        f"asyncio, {tasks_row['tasks']} tasks on one loop (otlp-http): "
        f"{tasks_row['events_per_s']:,} events/s ({tasks_row['vs_one_thread']:.2f}x one "
        f"thread), {tasks_row['lost']} lost. Busy exporter, {busy['threads']} threads, the "
        f"collector answering each export {busy['answer_delay_s'] * 1000:.0f} ms late: "
        f"emitted {busy['emitted_per_s']:,}/s ({busy['emitted_vs_one_thread']:.2f}x one "
        f"thread's), {busy['events_per_s']:,} events/s arrived, {busy['lost']} lost.",
    ]
    return "\n".join(lines)
