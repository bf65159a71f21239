"""Memory of a full queue: what each queued event costs in RSS while the collector is down.

A fresh interpreter per case queues tool results (2 KiB arguments and 2 KiB output, the
default cap, as a busy agent's shell calls) and small stream events against a closed port,
with the worker's timer far away so nothing leaves the queue; RSS is read before and after
(`/proc/self/status` VmRSS). The bound is the queue's, in bytes of estimated wire size
(`[otel.batch].max_queue_bytes`); the README states what that bound holds in memory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from benchmarks._common import ROOT, target

# What the README states: a full default queue (16 MiB of wire size) stays under 64 MiB.
README_LIMIT_MIB = 64

_CASE = """
import gc, json, socket
from codex_otel import OtelConfig, OtelEventManager, OtelProvider

def rss_kib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))

with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
table = {{"exporter": {{"otlp-grpc": {{"endpoint": f"http://127.0.0.1:{{port}}"}}}},
         "batch": {{"schedule_delay_ms": 3600000}}, "shutdown_timeout": 0.2}}
provider = OtelProvider.from_config(OtelConfig.from_mapping(table))
manager = OtelEventManager(provider, conversation_id="c", model="m", slug="s")
text = "lorem ipsum dolor sit amet " * 100
manager.sse_event("warm-up", 0)
gc.collect()
before = rss_kib()
for index in range({count}):
    if "{kind}" == "tool_result":
        manager.tool_result("shell", f"call-{{index}}", {{"command": text}}, 0.1, True, text)
    else:
        manager.sse_event("response.output_text.delta", 0.002)
gc.collect()
after = rss_kib()
stats = provider.stats()
print(json.dumps({{"rss_kib": after - before, "accepted": stats.accepted - 1,
                  "queue_full": stats.queue_full}}))
"""


def _case(kind: str, count: int) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", _CASE.format(kind=kind, count=count)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        timeout=300,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr)
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    queued = max(figures["accepted"], 1)
    figures["kib_per_queued_event"] = round(figures["rss_kib"] / queued, 2)
    figures["rss_mib"] = round(figures["rss_kib"] / 1024, 1)
    return figures


def run(*, quick: bool = False) -> dict[str, Any]:
    cases = {
        "tool_result, 2 KiB arguments and output": _case("tool_result", 4000 if quick else 30000),
        "sse_event": _case("sse_event", 5000 if quick else 30000),
    }
    worst = max(case["rss_mib"] for case in cases.values())
    return {
        "cases": cases,
        "targets": [
            target(
                "memory of a full queue (collector down), worst case",
                worst,
                README_LIMIT_MIB,
                "MiB",
            )
        ],
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "RSS growth of a fresh interpreter queueing events against a closed port (nothing "
        "leaves the queue).",
        "",
        "| events | queued | refused (queue full) | RSS MiB | KiB per queued event |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, case in result["cases"].items():
        lines.append(
            f"| {name} | {case['accepted']} | {case['queue_full']} | {case['rss_mib']} | "
            f"{case['kib_per_queued_event']} |"
        )
    return "\n".join(lines)
