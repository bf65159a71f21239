"""Reliability against the raw OpenTelemetry SDK: shutdown with the collector down, loss in a
burst against a healthy local collector, memory while the collector is down.

Each scenario runs in a fresh interpreter (memory and exit behaviour are per process) and
prints one JSON line; `run()` gathers them. Both sides get the same records (an sse_event
with the full common metadata) and the same local receiver, in the same run.

    python benchmarks/bench_reliability.py            # everything, JSON on stdout
    python benchmarks/bench_reliability.py --quick    # fewer events
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

BURST = 20_000
DOWN_EVENTS = 200_000
SHUTDOWN_EVENTS = 100

METADATA = {
    "conversation_id": "0199a9c4-2f6e-7c31-9b0e-5d3c1f8e4a27",
    "model": "gpt-5-codex",
    "slug": "gpt-5",
    "account_id": "acct-4f9a2c",
    "auth_mode": "ChatGPT",
    "terminal_type": "xterm-256color",
    "app_version": "0.50.0",
}


# -- the two pipelines ------------------------------------------------------------------------


def ours(endpoint: str) -> tuple[Callable[[int], None], Any]:
    """codex_otel at its default settings: (emit one event, provider)."""
    from codex_otel import OtelConfig, OtelEventManager, OtelProvider

    config = OtelConfig.from_mapping({"exporter": {"otlp-http": {"endpoint": endpoint}}})
    provider = OtelProvider.from_config(config)
    manager = OtelEventManager(provider, **METADATA)

    def emit(index: int) -> None:
        manager.sse_event("response.output_text.delta", 0.001)

    return emit, provider


def raw_sdk(endpoint: str) -> tuple[Callable[[int], None], Any]:
    """The SDK as its documentation wires it: BatchLogRecordProcessor defaults, same records."""
    from opentelemetry._logs import SeverityNumber
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

    provider = LoggerProvider()
    provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter(endpoint=endpoint)))
    logger = provider.get_logger("codex_otel")
    common = {
        "conversation.id": METADATA["conversation_id"],
        "app.version": METADATA["app_version"],
        "auth_mode": METADATA["auth_mode"],
        "user.account_id": METADATA["account_id"],
        "terminal.type": METADATA["terminal_type"],
        "model": METADATA["model"],
        "slug": METADATA["slug"],
    }

    def emit(index: int) -> None:
        logger.emit(
            severity_number=SeverityNumber.INFO,
            severity_text="INFO",
            body="codex.sse_event",
            event_name="codex.sse_event",
            attributes={
                "event.name": "codex.sse_event",
                "event.timestamp": "2026-11-22T03:00:00.000Z",
                **common,
                "event.kind": "response.output_text.delta",
                "duration_ms": 1,
            },
        )

    return emit, provider


PIPELINES = {"codex_otel": ours, "raw_sdk": raw_sdk}


def closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    import os

    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


# -- scenarios (each in its own interpreter) ---------------------------------------------------


def scenario_shutdown_down(pipeline: str) -> dict[str, Any]:
    """Collector down (connection refused): how long shutdown() holds the caller."""
    emit, provider = PIPELINES[pipeline](f"http://127.0.0.1:{closed_port()}/v1/logs")
    for index in range(SHUTDOWN_EVENTS):
        emit(index)
    start = time.perf_counter()
    provider.shutdown()
    return {"shutdown_s": round(time.perf_counter() - start, 3)}


def scenario_exit_down(pipeline: str) -> dict[str, Any]:
    """Collector down, the host just exits (no shutdown call): the driver times the exit."""
    emit, _provider = PIPELINES[pipeline](f"http://127.0.0.1:{closed_port()}/v1/logs")
    for index in range(SHUTDOWN_EVENTS):
        emit(index)
    print(json.dumps({"exiting_at": time.time()}), flush=True)
    return {}


def scenario_flush_hanging(pipeline: str) -> dict[str, Any]:
    """Collector accepts and never answers: force_flush(timeout_millis=1000) wall time."""
    import socket

    listener = socket.create_server(("127.0.0.1", 0))  # the kernel accepts; nobody answers
    endpoint = f"http://127.0.0.1:{listener.getsockname()[1]}/v1/logs"
    emit, provider = PIPELINES[pipeline](endpoint)
    for index in range(SHUTDOWN_EVENTS):
        emit(index)
    start = time.perf_counter()
    provider.force_flush(1000)
    flush = time.perf_counter() - start
    start = time.perf_counter()
    provider.shutdown()
    return {
        "force_flush_1s_bound_s": round(flush, 3),
        "shutdown_s": round(time.perf_counter() - start, 3),
    }


def scenario_burst(pipeline: str, count: int) -> dict[str, Any]:
    """`count` events in a tight loop against a healthy local receiver: how many arrive."""
    from codex_otel.testing import OtlpReceiver

    with OtlpReceiver(grpc_port=None) as receiver:
        emit, provider = PIPELINES[pipeline](receiver.logs_endpoint)
        start = time.perf_counter()
        for index in range(count):
            emit(index)
        emit_s = time.perf_counter() - start
        provider.shutdown()
        # shutdown() exported synchronously: what will arrive has arrived.
        received = len(receiver.wait_for(count, timeout=2))
    result = {"sent": count, "received": received, "lost": count - received}
    result["emit_s"] = round(emit_s, 3)
    if pipeline == "codex_otel":
        result["stats"] = provider.stats().__dict__
    return result


def scenario_memory_down(pipeline: str, count: int) -> dict[str, Any]:
    """`count` events with the collector down: resident memory growth, and what was counted."""
    emit, provider = PIPELINES[pipeline](f"http://127.0.0.1:{closed_port()}/v1/logs")
    for index in range(1000):  # warm up imports, caches and the worker
        emit(index)
    before = rss_mib()
    peak = before
    start = time.perf_counter()
    for index in range(count):
        emit(index)
        if index % 10_000 == 0:
            peak = max(peak, rss_mib())
    emit_s = time.perf_counter() - start
    after = rss_mib()
    result: dict[str, Any] = {
        "events": count,
        "rss_growth_mib": round(max(after, peak) - before, 1),
        "emit_us_per_event": round(emit_s / count * 1e6, 2),
    }
    if pipeline == "codex_otel":
        result["stats"] = provider.stats().__dict__
    start = time.perf_counter()
    provider.shutdown()
    result["shutdown_s"] = round(time.perf_counter() - start, 3)
    return result


# -- driver ------------------------------------------------------------------------------------


def _in_subprocess(*args: str, timeout: float = 300) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--scenario", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        return {"error": (done.stderr or done.stdout).strip().splitlines()[-3:]}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def _exit_time(pipeline: str) -> dict[str, Any]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--scenario", "exit_down", pipeline],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    ended = time.time()
    wall = time.perf_counter() - started
    marks = [json.loads(line) for line in done.stdout.splitlines() if "exiting_at" in line]
    if not marks:
        return {"error": done.stderr.strip().splitlines()[-3:]}
    return {"exit_s": round(ended - marks[0]["exiting_at"], 3), "process_wall_s": round(wall, 3)}


def run(quick: bool = False) -> dict[str, Any]:
    burst = 5_000 if quick else BURST
    down = 20_000 if quick else DOWN_EVENTS
    results: dict[str, Any] = {}
    for pipeline in PIPELINES:
        # --quick skips the raw SDK's slowest cases (a 10 s flush, a 30 s shutdown).
        slow = not quick or pipeline == "codex_otel"
        started = time.perf_counter()
        results[pipeline] = {
            "collector_refusing": _in_subprocess("shutdown_down", pipeline),
            "collector_refusing_exit": _exit_time(pipeline),
            **({"collector_hanging": _in_subprocess("flush_hanging", pipeline)} if slow else {}),
            f"burst_{burst}": _in_subprocess("burst", pipeline, str(burst)),
            **(
                {f"collector_down_{down}": _in_subprocess("memory_down", pipeline, str(down))}
                if slow
                else {}
            ),
        }
        results[pipeline]["scenarios_wall_s"] = round(time.perf_counter() - started, 1)
    results["targets"] = _targets(results["codex_otel"], burst)
    return results


def _targets(ours: dict[str, Any], burst: int) -> list[dict[str, Any]]:
    # The default shutdown_timeout is 3 s; half a second of slack for process noise.
    from benchmarks._common import target

    bound = 3.5
    found = [
        target(
            f"events lost in a {burst}-event burst", ours[f"burst_{burst}"]["lost"], 0, "events"
        ),
        target(
            "shutdown with the collector down", ours["collector_refusing"]["shutdown_s"], bound, "s"
        ),
        target(
            "exit with the collector down", ours["collector_refusing_exit"]["exit_s"], bound, "s"
        ),
        target(
            "force_flush(1 s) with the collector hanging",
            ours["collector_hanging"]["force_flush_1s_bound_s"],
            1.5,
            "s",
        ),
    ]
    return [item for item in found if "error" not in item]


def _main(argv: list[str]) -> None:
    if argv[:1] == ["--scenario"]:
        name, pipeline, *rest = argv[1:]
        scenario = globals()[f"scenario_{name}"]
        print(json.dumps(scenario(pipeline, *(int(x) for x in rest))), flush=True)
        return
    print(json.dumps(run(quick="--quick" in argv), indent=2))


if __name__ == "__main__":
    _main(sys.argv[1:])
